// Which version of its scripts a run launched, on the real server with real scripts in a config folder that
// is a git repository (made with the git command): the version and commit on each run, a change making a new
// version, each content kept once, the content served as it ran (admin and up), the last good run to compare
// a failure with, and the retention pruning what no kept run names. On SQLite and, in the PostgreSQL pass,
// on PostgreSQL.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_PATHS, type ErrorReply, type Execution, type LastSuccessfulRunReply, type ScriptFileReply, type ScriptVersionReply } from '../../src/shared/api';
import { api, triggerOk, waitForExecution, TEST_CRON_SECRET } from '../support/http';
import { startServer, type ServerProcess } from '../support/serverProcess';
import { openSse } from '../support/sse';
import { withStoreSql } from '../support/storeSql';
import { git } from '../support/git';


const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const WORKING = 'import { readFileSync } from "node:fs";\nconst settings = JSON.parse(readFileSync(process.argv[2].split("=")[1], "utf8"));\nconsole.log("indexed " + settings.batch);\n';
const FAILING = 'console.error("TypeError: settings.batch is undefined");\nprocess.exit(2);\n';
const SETTINGS = '{ "batch": 25 }\n';

describe('script versions (real server, real git repository)', function () {
  this.timeout(120_000);
  let folder: string;
  let dataDir: string;
  let server: ServerProcess;

  const write = (path: string, content: string) => writeFileSync(join(folder, path), content);
  const commit = (message: string) => {
    git(folder, 'add', '-A');
    git(folder, 'commit', '-q', '-m', message);
    return git(folder, 'rev-parse', 'HEAD');
  };
  const run = async (cronName = 'index-kb'): Promise<Execution> => waitForExecution(server, await triggerOk(server, cronName));
  const script = async (id: string, token?: string) => api<ScriptVersionReply>(server, API_PATHS.script(id), { token });
  const content = async (id: string, path: string, token?: string) => api<ScriptFileReply & Partial<ErrorReply>>(server, `${API_PATHS.scriptFile(id)}?path=${encodeURIComponent(path)}`, { token });
  const counts = () =>
    withStoreSql(dataDir, async (query) => ({
      versions: Number((await query('SELECT count(*) AS n FROM script_versions'))[0].n),
      files: Number((await query('SELECT count(*) AS n FROM script_files'))[0].n),
    }));

  let firstCommit: string;
  let good: Execution;
  let bad: Execution;

  before(async () => {
    folder = realpathSync(mkdtempSync(join(tmpdir(), 'cron-ops-versions-')));
    dataDir = mkdtempSync(join(tmpdir(), 'cron-ops-versions-data-'));
    mkdirSync(join(folder, 'scripts'));
    mkdirSync(join(folder, 'conf'));
    write('scripts/index-kb.mjs', WORKING);
    write('conf/settings.json', SETTINGS);
    const cron = (name: string, command: string[]) => ({ name, description: name, schedule: '0 0 1 1 *', command, estimatedDurationMs: 500, timeoutMs: 60_000 });
    write(
      'crons.json',
      JSON.stringify({
        crons: [cron('index-kb', ['node', 'scripts/index-kb.mjs', '--config=conf/settings.json']), cron('inline', [process.execPath, '-e', 'console.log("no file")'])],
        rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
      }),
    );
    git(folder, 'init', '-q', '-b', 'main');
    firstCommit = commit('working version');
    server = await startServer({ config: join(folder, 'crons.json'), args: ['--data', dataDir] });
  });

  after(async () => {
    await server?.stop();
    rmSync(folder, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('records on each run the version of the files its command names and the git commit', async () => {
    good = await run();
    assert.equal(good.status, 'completed', good.errorMessage ?? '');
    assert.match(good.scriptVersion ?? '', /^[0-9a-f]{64}$/);
    assert.equal(good.gitCommit, firstCommit);
    const reply = await script(good.id);
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(reply.body, {
      executionId: good.id,
      cronName: 'index-kb',
      scriptVersion: good.scriptVersion,
      gitCommit: firstCommit,
      files: [
        { path: 'conf/settings.json', size: SETTINGS.length, sha256: sha256(SETTINGS), skipped: null },
        { path: 'scripts/index-kb.mjs', size: WORKING.length, sha256: sha256(WORKING), skipped: null },
      ],
    });
    // The history lists the version too (the reply schema keeps the fields).
    const listed = (await api(server, `${API_PATHS.executions}?cronName=index-kb`)).body.executions as Execution[];
    assert.equal(listed.find((execution) => execution.id === good.id)?.scriptVersion, good.scriptVersion);
  });

  it('a command that names no file in the folder has no version, only the commit', async () => {
    const inline = await run('inline');
    assert.equal(inline.status, 'completed');
    assert.equal(inline.scriptVersion, null);
    assert.equal(inline.gitCommit, firstCommit);
    assert.deepEqual((await script(inline.id)).body.files, []);
    const refused = await content(inline.id, 'crons.json');
    assert.equal(refused.status, 404);
    assert.match(refused.body.error ?? '', /no recorded script version/);
  });

  it('a changed script makes a new version; each run serves the content it launched', async () => {
    write('scripts/index-kb.mjs', FAILING);
    const secondCommit = commit('break it');
    const events = await openSse(server.url);
    try {
      bad = await run();
      // The end's event carries the version: the editor offers the comparison from it, asking nothing more.
      const ended = await events.next((event) => event.event === 'execution.finished' && event.data.execution.id === bad.id, 'the failed run to be announced');
      assert.equal(ended.data.execution.scriptVersion, bad.scriptVersion);
      assert.equal(ended.data.execution.gitCommit, secondCommit);
    } finally {
      events.drop();
    }
    assert.equal(bad.status, 'failed');
    assert.notEqual(bad.scriptVersion, good.scriptVersion);
    assert.equal(bad.gitCommit, secondCommit);

    const before = await content(good.id, 'scripts/index-kb.mjs');
    assert.equal(before.status, 200, before.text);
    assert.deepEqual(before.body, { executionId: good.id, path: 'scripts/index-kb.mjs', sha256: sha256(WORKING), size: WORKING.length, encoding: 'utf8', content: WORKING });
    const after = await content(bad.id, 'scripts/index-kb.mjs');
    assert.equal(after.body.content, FAILING);

    const missing = await content(bad.id, 'scripts/other.mjs');
    assert.equal(missing.status, 404);
    assert.match(missing.body.error ?? '', /its files are conf\/settings\.json, scripts\/index-kb\.mjs/);
  });

  it('names the last successful run to compare a failure with', async () => {
    const reply = await api<LastSuccessfulRunReply>(server, API_PATHS.lastSuccessful(bad.id));
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.body.execution?.id, good.id);
    assert.equal(reply.body.execution?.scriptVersion, good.scriptVersion);
    // Nothing succeeded before the first run.
    assert.equal((await api<LastSuccessfulRunReply>(server, API_PATHS.lastSuccessful(good.id))).body.execution, null);
  });

  it('keeps each version and each file content once', async () => {
    assert.deepEqual(await counts(), { versions: 2, files: 3 }, 'settings.json is shared by both versions');
    const again = await run();
    assert.equal(again.scriptVersion, bad.scriptVersion, 'same files, same version');
    write('scripts/index-kb.mjs', WORKING);
    const reverted = await run();
    assert.equal(reverted.status, 'completed');
    assert.equal(reverted.scriptVersion, good.scriptVersion, 'the working content again is the working version again');
    assert.deepEqual(await counts(), { versions: 2, files: 3 });
  });

  it('lets a viewer see the files and hashes, and keeps the content for admins', async () => {
    const created = await api(server, API_PATHS.tokens, { method: 'POST', body: { name: 'script-viewer', role: 'viewer' } });
    assert.equal(created.status, 201, created.text);
    const viewer = created.body.token as string;
    assert.equal((await script(good.id, viewer)).status, 200);
    const refused = await content(good.id, 'scripts/index-kb.mjs', viewer);
    assert.equal(refused.status, 403);
    assert.match(refused.body.error ?? '', /viewer role.*admin or super-admin/);
  });

  it('prunes with the retention the versions and contents no kept run names', async () => {
    // Every run but the first good one is made old; the retention deletes them and what only they named.
    await withStoreSql(dataDir, (query, dialect) =>
      dialect === 'postgres'
        ? query(`UPDATE cron_executions SET started_at = now() - interval '40 days', completed_at = now() - interval '40 days' WHERE id <> $1`, [good.id])
        : query(`UPDATE cron_executions SET started_at = '2020-01-01T00:00:00.000Z', completed_at = '2020-01-01T00:00:01.000Z' WHERE id <> ?`, [good.id]),
    );
    const retention = await api(server, '/api/cron/retention', { secret: TEST_CRON_SECRET, body: { days: 30 } });
    assert.equal(retention.status, 200, retention.text);
    assert.equal(retention.body.deleted, 4);
    assert.deepEqual(await counts(), { versions: 1, files: 2 }, 'the failing script is gone; the working one and settings.json stay');
    assert.equal((await content(good.id, 'scripts/index-kb.mjs')).body.content, WORKING);
    assert.equal((await content(good.id, 'conf/settings.json')).body.content, SETTINGS);
  });
});

describe('script versions: a symlink out of the config folder (real server)', function () {
  this.timeout(120_000);
  let root: string;
  let server: ServerProcess;

  before(async () => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'cron-ops-versions-links-')));
    const folder = join(root, 'cfg');
    mkdirSync(join(folder, 'scripts'), { recursive: true });
    writeFileSync(join(root, 'outside-secret.sh'), 'echo "password=hunter2"\n');
    writeFileSync(join(folder, 'scripts/real.sh'), 'echo inside\n');
    symlinkSync(join(root, 'outside-secret.sh'), join(folder, 'scripts/link.sh'));
    symlinkSync('real.sh', join(folder, 'scripts/in.sh'));
    writeFileSync(
      join(folder, 'crons.json'),
      JSON.stringify({
        crons: [{ name: 'linked', description: 'linked', schedule: '0 0 1 1 *', command: ['sh', 'scripts/link.sh', 'scripts/in.sh'], estimatedDurationMs: 500, timeoutMs: 60_000 }],
        rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
      }),
    );
    server = await startServer({ config: join(folder, 'crons.json') });
  });

  after(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('never stores or serves the outside file a symlink in the folder points to; keeps a link within the folder', async () => {
    const execution = await waitForExecution(server, await triggerOk(server, 'linked'));
    assert.equal(execution.status, 'completed', execution.errorMessage ?? '');
    const listed = await api<ScriptVersionReply>(server, API_PATHS.script(execution.id));
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(listed.body.files.map((file) => file.path), ['scripts/in.sh']);
    const outside = await api<ScriptFileReply & Partial<ErrorReply>>(server, `${API_PATHS.scriptFile(execution.id)}?path=${encodeURIComponent('scripts/link.sh')}`);
    assert.equal(outside.status, 404, outside.text);
    assert.ok(!outside.text.includes('hunter2'), outside.text);
    const inside = await api<ScriptFileReply>(server, `${API_PATHS.scriptFile(execution.id)}?path=${encodeURIComponent('scripts/in.sh')}`);
    assert.equal(inside.status, 200, inside.text);
    assert.equal(inside.body.content, 'echo inside\n');
  });
});

describe('script versions: a script edited between two runs (real server)', function () {
  this.timeout(120_000);
  let folder: string;
  let server: ServerProcess;
  const script = () => join(folder, 'job.sh');
  const run = async (): Promise<Execution> => waitForExecution(server, await triggerOk(server, 'edited'));
  const served = async (execution: Execution) => (await api<ScriptFileReply>(server, `${API_PATHS.scriptFile(execution.id)}?path=job.sh`)).body.content;

  before(async () => {
    folder = realpathSync(mkdtempSync(join(tmpdir(), 'cron-ops-versions-edit-')));
    writeFileSync(script(), 'echo one\n');
    writeFileSync(
      join(folder, 'crons.json'),
      JSON.stringify({
        crons: [{ name: 'edited', description: 'edited', schedule: '0 0 1 1 *', command: ['sh', 'job.sh'], estimatedDurationMs: 500, timeoutMs: 60_000 }],
        rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
      }),
    );
    server = await startServer({ config: join(folder, 'crons.json') });
  });

  after(async () => {
    await server?.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('records the new version at the next run, a same-size edit within the same second included', async () => {
    // Old enough for the server to keep its version between runs (scriptVersionCache.ts): runs of the
    // unchanged script then reuse it, and the edits below must still be seen.
    const deadline = Date.now() + 10_000;
    while (Date.now() - statSync(script()).ctimeMs < 3_200) {
      assert.ok(Date.now() < deadline, 'the script did not get 3 s old');
      await new Promise((resolveLater) => setTimeout(resolveLater, 50));
    }
    const first = await run();
    const unchanged = [await run(), await run()];
    assert.equal(first.status, 'completed', first.errorMessage ?? '');
    assert.match(first.scriptVersion ?? '', /^[0-9a-f]{64}$/);
    for (const again of unchanged) assert.equal(again.scriptVersion, first.scriptVersion);

    writeFileSync(script(), 'echo two\n');
    const edited = await run();
    // Back to the first content at once: same size, within the same second as the edit above.
    writeFileSync(script(), 'echo one\n');
    const reverted = await run();

    assert.notEqual(edited.scriptVersion, first.scriptVersion);
    assert.equal(await served(edited), 'echo two\n');
    assert.equal(reverted.scriptVersion, first.scriptVersion);
    assert.equal(await served(reverted), 'echo one\n');
  });
});
