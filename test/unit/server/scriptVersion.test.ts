// Script versions on real folders and real git repositories (made with the git command; the module reads
// .git itself and must agree with `git rev-parse`).
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gitVersion, namedFiles, scriptVersion } from '../../../src/server/scriptVersion';
import { git } from '../../support/git';

let base: string;
let count = 0;

/** A fresh folder holding `files`. */
function folderWith(files: Record<string, string | Buffer>): string {
  const folder = join(base, `case-${++count}`);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(folder, path, '..'), { recursive: true });
    writeFileSync(join(folder, path), content);
  }
  mkdirSync(folder, { recursive: true });
  return folder;
}


function commitAll(cwd: string, message: string): string {
  git(cwd, 'add', '-A');
  git(cwd, 'commit', '-q', '-m', message);
  return git(cwd, 'rev-parse', 'HEAD');
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const JOB = "console.log('indexing');\n";

describe('scriptVersion', () => {
  before(() => {
    base = realpathSync(mkdtempSync(join(tmpdir(), 'cron-ops-script-version-')));
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  describe('the files a command names', () => {
    it('takes the scripts inside the config folder, relative or absolute, and leaves the interpreter out', async () => {
      const folder = folderWith({ 'scripts/job.mjs': JOB, 'conf/batch.json': '{}', 'run.sh': 'echo hi\n' });
      assert.deepEqual(await namedFiles(['node', 'scripts/job.mjs', '--config=conf/batch.json', '--verbose', '2'], folder), [join(folder, 'scripts/job.mjs'), join(folder, 'conf/batch.json')]);
      assert.deepEqual(await namedFiles([process.execPath, join(folder, 'scripts/job.mjs')], folder), [join(folder, 'scripts/job.mjs')]);
      assert.deepEqual(await namedFiles(['./run.sh', 'run.sh'], folder), [join(folder, 'run.sh')]);
      assert.deepEqual(await namedFiles(['/bin/sh', '-c', 'echo hi'], folder), []);
    });

    it('leaves out what is outside the folder, missing, a directory, or a bare program name', async () => {
      const outside = folderWith({ 'other.mjs': JOB });
      const folder = folderWith({ 'scripts/job.mjs': JOB, node: 'not the interpreter' });
      const outsideRelative = relative(folder, join(outside, 'other.mjs'));
      assert.deepEqual(await namedFiles(['node', join(outside, 'other.mjs'), outsideRelative, 'missing.mjs', 'scripts'], folder), []);
    });

    it('finds a script through a symlinked config folder', async () => {
      const folder = folderWith({ 'job.mjs': JOB });
      const link = join(base, `link-${count}`);
      symlinkSync(folder, link);
      assert.deepEqual(await namedFiles(['node', join(link, 'job.mjs')], link), [join(folder, 'job.mjs')]);
    });

    it('leaves out a symlink in the folder pointing out of it, and keeps one pointing inside under its own name', async () => {
      const outside = folderWith({ 'secret.txt': 'root:x:0:0\n' });
      const folder = folderWith({ 'scripts/real.sh': 'echo real\n' });
      symlinkSync(join(outside, 'secret.txt'), join(folder, 'scripts/out.sh'));
      symlinkSync('/etc/passwd', join(folder, 'scripts/passwd.sh'));
      symlinkSync('real.sh', join(folder, 'scripts/in.sh'));
      symlinkSync(join(base, 'nowhere'), join(folder, 'scripts/dangling.sh'));
      assert.deepEqual(await namedFiles(['sh', 'scripts/out.sh', 'scripts/passwd.sh', 'scripts/dangling.sh', 'scripts/in.sh'], folder), [join(folder, 'scripts/in.sh')]);
      const version = await scriptVersion(['sh', 'scripts/out.sh', 'scripts/passwd.sh', 'scripts/in.sh'], folder);
      assert.deepEqual(version.files.map((file) => [file.path, file.content?.toString()]), [['scripts/in.sh', 'echo real\n']]);
    });
  });

  describe('the hash', () => {
    it('is the same for the same scripts in any folder and argv order, resolved or not', async () => {
      const files = { 'scripts/job.mjs': JOB, 'lib/util.mjs': 'export const x = 1;\n' };
      const first = folderWith(files);
      const second = folderWith(files);
      const a = await scriptVersion(['node', 'scripts/job.mjs', 'lib/util.mjs'], first);
      const b = await scriptVersion([process.execPath, join(second, 'lib/util.mjs'), join(second, 'scripts/job.mjs')], second);
      assert.match(a.hash ?? '', /^[0-9a-f]{64}$/);
      assert.equal(a.hash, b.hash);
      assert.deepEqual(
        a.files.map(({ path, size, sha256 }) => ({ path, size, sha256 })),
        [
          { path: 'lib/util.mjs', size: files['lib/util.mjs'].length, sha256: sha256(files['lib/util.mjs']) },
          { path: 'scripts/job.mjs', size: JOB.length, sha256: sha256(JOB) },
        ],
      );
      assert.equal(a.files[1].content?.toString('utf8'), JOB, 'the content is there for the store to keep');
      assert.deepEqual(a.notes, []);
    });

    it('changes when a script changes, even by one byte, and when a script moves', async () => {
      const folder = folderWith({ 'job.mjs': JOB });
      const before = (await scriptVersion(['node', 'job.mjs'], folder)).hash;
      writeFileSync(join(folder, 'job.mjs'), JOB.replace('indexing', 'indexinG'));
      const edited = (await scriptVersion(['node', 'job.mjs'], folder)).hash;
      mkdirSync(join(folder, 'jobs'));
      writeFileSync(join(folder, 'jobs/job.mjs'), JOB);
      const moved = (await scriptVersion(['node', 'jobs/job.mjs'], folder)).hash;
      assert.equal(new Set([before, edited, moved]).size, 3);
    });

    it('is null when the command names no file in the folder', async () => {
      const version = await scriptVersion(['/bin/true'], folderWith({}));
      assert.deepEqual([version.hash, version.files], [null, []]);
    });

    it('does not read a file over the size cap, says so, and still counts its size', async () => {
      const folder = folderWith({ 'job.mjs': JOB, 'data/model.bin': Buffer.alloc(2048, 1) });
      const limits = { maxFileBytes: 1024, maxFiles: 16 };
      const version = await scriptVersion(['node', 'job.mjs', 'data/model.bin'], folder, limits);
      assert.deepEqual(version.files.map(({ path, skipped, sha256 }) => [path, skipped, sha256 === undefined]), [['data/model.bin', 'too-large', true], ['job.mjs', undefined, false]]);
      assert.deepEqual(version.notes, ['data/model.bin: 2048 bytes, over the 1024-byte cap: not read, only its size counts in the hash']);
      writeFileSync(join(folder, 'data/model.bin'), Buffer.alloc(4096, 1));
      assert.notEqual((await scriptVersion(['node', 'job.mjs', 'data/model.bin'], folder, limits)).hash, version.hash);
    });

    it('reads at most maxFiles files and says which it left out', async () => {
      const folder = folderWith({ 'a.sh': '1', 'b.sh': '2', 'c.sh': '3' });
      const version = await scriptVersion(['/bin/sh', 'a.sh', 'b.sh', 'c.sh'], folder, { maxFileBytes: 1024, maxFiles: 2 });
      assert.deepEqual(version.files.map((file) => file.skipped ?? 'read'), ['read', 'read', 'too-many-files']);
      assert.match(version.notes[0], /^c\.sh: past the 2 files read per run/);
    });
  });

  describe('the git commit', () => {
    it('is null outside a repository', async () => {
      const version = await scriptVersion(['node', 'job.mjs'], folderWith({ 'job.mjs': JOB }));
      assert.equal(version.git, null);
    });

    it('follows the checked-out branch from a subfolder, through loose refs and then packed-refs', async () => {
      const repo = folderWith({ 'cron/crons.json': '{"crons": []}', 'cron/job.mjs': JOB });
      git(repo, 'init', '-q', '-b', 'main');
      const first = commitAll(repo, 'first');
      const folder = join(repo, 'cron');
      assert.deepEqual((await scriptVersion(['node', 'job.mjs'], folder)).git, { root: repo, commit: first, ref: 'refs/heads/main' });
      git(repo, 'pack-refs', '--all');
      assert.deepEqual(await gitVersion(folder), { root: repo, commit: first, ref: 'refs/heads/main' }, 'read from packed-refs');
      writeFileSync(join(folder, 'job.mjs'), JOB + '// v2\n');
      const second = commitAll(repo, 'second');
      assert.equal((await gitVersion(folder))?.commit, second, 'a new loose ref wins over the packed one');
    });

    it('reads a detached HEAD', async () => {
      const repo = folderWith({ 'job.mjs': JOB });
      git(repo, 'init', '-q', '-b', 'main');
      const first = commitAll(repo, 'first');
      writeFileSync(join(repo, 'job.mjs'), JOB + '// v2\n');
      commitAll(repo, 'second');
      git(repo, 'checkout', '-q', '--detach', first);
      assert.deepEqual(await gitVersion(repo), { root: repo, commit: first, ref: null });
    });

    it('reads a linked worktree, whose .git is a file pointing to the shared repository', async () => {
      const repo = folderWith({ 'job.mjs': JOB });
      git(repo, 'init', '-q', '-b', 'main');
      commitAll(repo, 'first');
      const worktree = join(base, `worktree-${count}`);
      git(repo, 'worktree', 'add', '-q', '-b', 'staging', worktree);
      writeFileSync(join(worktree, 'job.mjs'), JOB + '// staging\n');
      const staging = commitAll(worktree, 'on staging');
      git(repo, 'pack-refs', '--all');
      assert.deepEqual(await gitVersion(worktree), { root: worktree, commit: staging, ref: 'refs/heads/staging' });
      assert.equal((await gitVersion(repo))?.ref, 'refs/heads/main');
    });

    it('says so when the branch has no commit yet', async () => {
      const repo = folderWith({ 'job.mjs': JOB });
      git(repo, 'init', '-q', '-b', 'main');
      const version = await scriptVersion(['node', 'job.mjs'], repo);
      assert.deepEqual(version.git, { root: repo, commit: null, ref: 'refs/heads/main' });
      assert.match(version.notes.join('\n'), /HEAD \(refs\/heads\/main\) points to no commit/);
    });
  });
});
