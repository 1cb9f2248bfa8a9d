// The script version cache on real files: an unchanged script is not read again, and any change is seen at
// the next run, a same-size edit right after a run (within the file system's timestamp granularity) included.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SCRIPT_VERSION_LIMITS, scriptVersion } from '../../../src/server/scriptVersion';
import { ScriptVersionCache } from '../../../src/server/scriptVersionCache';
import { git } from '../../support/git';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Resolves once `condition` holds, looking every 20 ms; fails past `timeoutMs`. */
async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolveLater) => setTimeout(resolveLater, 20));
  }
}

describe('script version cache', () => {
  let folder: string;
  let reads: number;
  const counting: typeof scriptVersion = (...args) => {
    reads++;
    return scriptVersion(...args);
  };
  const COMMAND = ['sh', 'job.sh'];
  const fileHash = (cache: ScriptVersionCache) => cache.version(COMMAND, folder, DEFAULT_SCRIPT_VERSION_LIMITS).then((version) => version.files[0]?.sha256);

  beforeEach(() => {
    folder = realpathSync(mkdtempSync(join(tmpdir(), 'cron-ops-version-cache-')));
    reads = 0;
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  it('reads a script changed a moment ago at every run: a same-size edit right after a run is seen', async () => {
    const cache = new ScriptVersionCache(counting);
    writeFileSync(join(folder, 'job.sh'), 'echo one\n');
    assert.equal(await fileHash(cache), sha256('echo one\n'));
    assert.equal(await fileHash(cache), sha256('echo one\n'));
    // Same size, same second (and likely the same timestamp tick): the times cannot tell it apart.
    writeFileSync(join(folder, 'job.sh'), 'echo two\n');
    assert.equal(await fileHash(cache), sha256('echo two\n'));
    assert.equal(reads, 3, 'a file changed within the last seconds is not trusted to the cache');
  });

  it('keeps the version of an unchanged script, and reads it again once it changes, at the same size too', async function () {
    this.timeout(20_000);
    const cache = new ScriptVersionCache(counting);
    const script = join(folder, 'job.sh');
    writeFileSync(script, 'echo one\n');
    // Past the racy window (3 s): the file's times now tell a later change apart.
    await until(() => Date.now() - statSync(script).ctimeMs > 3_200, 'the script to be 3 s old');
    assert.equal(await fileHash(cache), sha256('echo one\n'));
    assert.equal(await fileHash(cache), sha256('echo one\n'));
    assert.equal(reads, 2, 'read twice: a version is trusted once two looks around a read agree');
    assert.equal(await fileHash(cache), sha256('echo one\n'));
    assert.equal(await fileHash(cache), sha256('echo one\n'));
    assert.equal(reads, 2, 'then no longer read while unchanged');

    writeFileSync(script, 'echo two\n');
    assert.equal(await fileHash(cache), sha256('echo two\n'));
    assert.equal(reads, 3);
  });

  it('sees a script appear, a folder become a git repository, and a new commit', async function () {
    this.timeout(20_000);
    const cache = new ScriptVersionCache(counting);
    const version = () => cache.version(COMMAND, folder, DEFAULT_SCRIPT_VERSION_LIMITS);
    const empty = await version();
    assert.deepEqual([empty.hash, empty.git], [null, null]);
    await version();
    await version();
    assert.equal(reads, 2);

    writeFileSync(join(folder, 'job.sh'), 'echo one\n');
    assert.equal((await version()).files[0]?.sha256, sha256('echo one\n'));

    git(folder, 'init', '-q', '-b', 'main');
    git(folder, 'add', '-A');
    git(folder, 'commit', '-q', '-m', 'first');
    const first = git(folder, 'rev-parse', 'HEAD');
    assert.equal((await version()).git?.commit, first);
    mkdirSync(join(folder, 'more'));
    writeFileSync(join(folder, 'more/file'), 'x');
    git(folder, 'add', '-A');
    git(folder, 'commit', '-q', '-m', 'second');
    assert.equal((await version()).git?.commit, git(folder, 'rev-parse', 'HEAD'));
  });

  it('gives each caller its own copy', async () => {
    const cache = new ScriptVersionCache(counting);
    writeFileSync(join(folder, 'job.sh'), 'echo one\n');
    const first = await cache.version(COMMAND, folder, DEFAULT_SCRIPT_VERSION_LIMITS);
    first.notes.push('added by a caller');
    assert.deepEqual((await cache.version(COMMAND, folder, DEFAULT_SCRIPT_VERSION_LIMITS)).notes, []);
  });
});
