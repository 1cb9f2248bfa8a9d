// The store as an operator meets it, on SQLite and (in the PostgreSQL pass) on PostgreSQL: one file in the
// data folder, a run ended by hand in SQL noticed by the running server, nothing acknowledged lost to a
// kill -9, a consistent backup while the server runs, and a timeline that summarises big ranges.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { API_PATHS, MANUAL_FAILURE_REASON, type Stats, type TimelineReply } from '../../src/shared/api';
import { DURATION_CLASS_BOUNDS } from '../../src/server/store/rollups';
import { durationClassOf, runDurationClassSql } from '../../src/server/store/rollupReader';
import { DEMO_CRONS, demoConfig, seedPostgres, seedSqliteFolder } from '../bench/seed';
import { TEST_DATABASE_ENV, databaseFor } from '../support/postgres';
import { api, getExecution, processAlive, triggerOk, waitForStatus } from '../support/http';
import { nodeCron, runServerCommand, startServer, TEST_ADMIN_TOKEN, writeConfig, type ServerProcess } from '../support/serverProcess';
import { openSse } from '../support/sse';
import { sqliteFileOf, withStoreSql } from '../support/storeSql';
import { waitFor } from '../support/waitFor';

const onPostgres = () => Boolean(process.env[TEST_DATABASE_ENV]);
const HANG = 'console.log("pid " + process.pid); setInterval(() => {}, 1000)';

/** The guide's UPDATE: on PostgreSQL as written; on SQLite through the sqlite3 shell, in its dialect. */
async function markFailedByHand(dataDir: string, id: string): Promise<void> {
  if (onPostgres()) {
    await withStoreSql(dataDir, (query) =>
      query(`UPDATE cron_executions
SET status = 'failed',
    completed_at = NOW(),
    error_message = 'Timeout - manually cancelled'
WHERE id = '${id}';`),
    );
    return;
  }
  const shell = spawnSync('sqlite3', [sqliteFileOf(dataDir), `UPDATE cron_executions SET status = 'failed', error_message = 'Timeout - manually cancelled' WHERE id = '${id}';`], { encoding: 'utf8' });
  assert.equal(shell.status, 0, `sqlite3 failed (is the sqlite3 shell installed?): ${shell.stderr}${shell.error ?? ''}`);
}

function getRaw(url: string, path: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolveReply, reject) => {
    const req = request(url + path, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolveReply({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('store', function () {
  this.timeout(180_000);
  const servers: ServerProcess[] = [];
  const dirs: string[] = [];
  const newDataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'cron-ops-store-'));
    dirs.push(dir);
    return dir;
  };
  const start = async (configPath: string, dataDir: string) => {
    const server = await startServer({ config: configPath, args: ['--data', dataDir] });
    servers.push(server);
    return server;
  };

  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop();
  });
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the embedded store in one file, cron-ops.db, in WAL mode (PostgreSQL when DATABASE_URL is set)', async () => {
    const dataDir = newDataDir();
    const server = await start(writeConfig({ crons: [nodeCron('quick', 'console.log("done")')] }), dataDir);
    if (onPostgres()) {
      assert.equal((await api(server, API_PATHS.health)).body.store, 'postgres');
      assert.match(server.output(), /store postgres at postgres:\/\//);
      assert.ok(!existsSync(join(dataDir, 'cron-ops.db')), 'no SQLite file when the store is PostgreSQL');
      return;
    }
    assert.match(server.output(), /store sqlite in .*cron-ops\.db/);
    assert.ok(existsSync(join(dataDir, 'cron-ops.db')));
    const shell = spawnSync('sqlite3', [join(dataDir, 'cron-ops.db'), 'PRAGMA journal_mode;'], { encoding: 'utf8' });
    assert.equal(shell.stdout.trim(), 'wal', shell.stderr);
    assert.equal((await api(server, API_PATHS.health)).body.store, 'sqlite');
  });

  it("notices the guide's UPDATE made by hand within 2 s: the event goes out and the process is ended", async () => {
    const dataDir = newDataDir();
    const server = await start(writeConfig({ crons: [nodeCron('long', HANG)] }), dataDir);
    const stream = await openSse(server.url);
    const before = (await api<Stats>(server, API_PATHS.stats)).body;
    const id = await triggerOk(server, 'long');
    const pid = await waitFor(async () => {
      const line: string | undefined = (await api(server, API_PATHS.logs(id))).body.lines[0]?.line;
      return line ? Number(/^pid (\d+)$/.exec(line)![1]) : undefined;
    }, 'the pid of the run');
    await markFailedByHand(dataDir, id);
    const handMadeAt = Date.now();
    const finished = await stream.next((event) => event.event === 'execution.finished' && event.data.execution.id === id, 'execution.finished of the hand-made UPDATE', 10_000);
    const noticedMs = Date.now() - handMadeAt;
    assert.ok(noticedMs <= 2000, `noticed after ${noticedMs} ms`);
    assert.equal(finished.data.execution.status, 'failed');
    assert.equal(finished.data.execution.errorMessage, MANUAL_FAILURE_REASON);
    assert.equal(typeof finished.data.execution.durationMs, 'number', 'the duration is filled in');
    assert.ok(finished.data.execution.completedAt);
    await waitFor(() => !processAlive(pid), 'the run ended elsewhere to be stopped here');
    const after = await waitFor(async () => {
      const stats = (await api<Stats>(server, API_PATHS.stats)).body;
      return stats.failures24h === before.failures24h + 1 ? stats : undefined;
    }, 'the KPIs to count the failure');
    assert.equal(after.running, 0);
    assert.equal((await getExecution(server, id)).status, 'failed');
    stream.drop();
  });

  it('loses nothing acknowledged to a kill -9, and runs again on the same store', async () => {
    const dataDir = newDataDir();
    const configPath = writeConfig({
      crons: Array.from({ length: 20 }, (_, index) => nodeCron(`job-${index}`, 'console.log("done")')),
      rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
    });
    const server = await start(configPath, dataDir);
    const stream = await openSse(server.url);
    const first = await triggerOk(server, 'job-0');
    await stream.next((event) => event.event === 'execution.finished' && event.data.execution.id === first, 'the first run to finish');
    const acknowledged = await Promise.all(Array.from({ length: 19 }, (_, index) => triggerOk(server, `job-${index + 1}`)));
    await server.kill9();
    servers.splice(servers.indexOf(server), 1);

    const again = await start(configPath, dataDir);
    assert.equal((await getExecution(again, first)).status, 'completed');
    for (const id of acknowledged) {
      const execution = await getExecution(again, id);
      assert.ok(['completed', 'failed'].includes(execution.status), `${id} is ${execution.status}`);
    }
    const audit = (await api(again, `${API_PATHS.audit}?limit=1000`)).body.entries as Array<{ action: string; target: string }>;
    for (let index = 1; index < 20; index++) assert.ok(audit.some((entry) => entry.action === 'trigger' && entry.target === `job-${index}`), `the trigger of job-${index} is in the audit trail`);
    await waitForStatus(again, await triggerOk(again, 'job-3'), 'completed');
  });

  it('backs up a consistent copy while the server runs; the copy serves', async () => {
    const dataDir = newDataDir();
    const configPath = writeConfig({ crons: [nodeCron('quick', 'console.log("done")'), nodeCron('long', HANG)], rateLimits: { perCronSeconds: 0, globalPerMinute: 0 } });
    const server = await start(configPath, dataDir);
    const target = join(newDataDir(), 'backup.db');
    const done = await waitForStatus(server, await triggerOk(server, 'quick'), 'completed');
    if (onPostgres()) {
      const refused = await runServerCommand(['backup', target, '--data', dataDir], { DATABASE_URL: await databaseFor(process.env[TEST_DATABASE_ENV]!, dataDir) });
      assert.equal(refused.code, 2, refused.stdout + refused.stderr);
      assert.match(refused.stderr, /pg_dump/);
      return;
    }
    // The live store and its write-ahead log are never a backup's target: the copy would replace them.
    for (const live of ['cron-ops.db', 'cron-ops.db-wal', 'cron-ops.lock', 'control.sock', 'CRON-OPS.DB']) {
      const refused = await runServerCommand(['backup', join(dataDir, live), '--data', dataDir]);
      assert.equal(refused.code, 2, refused.stdout + refused.stderr);
      assert.match(refused.stderr, /is in the live store's data folder: write the backup to a file outside it/);
    }
    const link = join(newDataDir(), 'link.db');
    symlinkSync(join(dataDir, 'cron-ops.db'), link);
    const throughLink = await runServerCommand(['backup', link, '--data', dataDir]);
    assert.equal(throughLink.code, 2, 'a symlink to the live store is the live store');
    assert.equal((await getExecution(server, done.id)).status, 'completed');
    // Writes go on while the copy is made.
    let writing = true;
    const writer = (async () => {
      let runs = 0;
      while (writing && runs < 200) {
        await waitForStatus(server, await triggerOk(server, 'quick'), 'completed');
        runs++;
      }
    })();
    const backup = await runServerCommand(['backup', target, '--data', dataDir]);
    writing = false;
    await writer;
    assert.equal(backup.code, 0, backup.stdout + backup.stderr);
    assert.match(backup.stdout, /Backed up .*cron-ops\.db/);
    assert.match(backup.stdout, /delete cron-ops\.db-wal and cron-ops\.db-shm/);
    assert.equal(statSync(target).mode & 0o777, 0o600, 'the copy is as private as the store');
    const check = spawnSync('sqlite3', [target, 'PRAGMA integrity_check;'], { encoding: 'utf8' });
    assert.equal(check.stdout.trim(), 'ok', check.stderr);

    const restored = newDataDir();
    mkdirSync(restored, { recursive: true });
    renameSync(target, join(restored, 'cron-ops.db'));
    const copy = await start(configPath, restored);
    assert.equal((await getExecution(copy, done.id)).status, 'completed');
    await waitForStatus(copy, await triggerOk(copy, 'quick'), 'completed');
  });

  // SQLite only: PostgreSQL's outage replies are tested by the read-only database of the health tests.
  // (Registered before the PostgreSQL fixture starts, so the pass is told by the npm script's variable.)
  if (process.env.CRON_OPS_TEST_STORE !== 'postgres') {
    it('answers reads, 503 "retry" for writes and /health degraded while the sqlite3 shell holds the write lock; a job printing meanwhile loses nothing', async () => {
      const dataDir = newDataDir();
      const LINES = 40;
      // Prints while the lock is held, then ends: its lines and its end wait for the lock, its end time does not.
      const exitMark = join(dataDir, '..', `${basename(dataDir)}-chatty-exited`);
      const chatty = `let i = 0; const timer = setInterval(() => { console.log("line " + ++i); if (i === ${LINES}) { clearInterval(timer); const at = new Date().toISOString(); console.log("exiting at " + at); require("node:fs").writeFileSync(${JSON.stringify(exitMark)}, at); } }, 50);`;
      const server = await start(writeConfig({ crons: [nodeCron('quick', 'console.log("done")'), nodeCron('chatty', chatty)], rateLimits: { perCronSeconds: 0, globalPerMinute: 0 } }), dataDir);
      await waitForStatus(server, await triggerOk(server, 'quick'), 'completed');
      const chattyId = await triggerOk(server, 'chatty');
      await waitFor(async () => (await api(server, `${API_PATHS.logs(chattyId)}?after=0`)).body.lines.length > 0 || undefined, 'the job to print');
      const shell = spawn('sqlite3', [sqliteFileOf(dataDir)], { stdio: ['pipe', 'pipe', 'inherit'] });
      let shellOut = '';
      shell.stdout.setEncoding('utf8').on('data', (chunk: string) => (shellOut += chunk));
      shell.stdin.write("BEGIN IMMEDIATE;\nUPDATE cron_state SET paused = paused;\n.print locked\n");
      try {
        await waitFor(async () => shellOut.includes('locked') || undefined, 'the sqlite3 shell to hold the write lock', 30_000);
        const crons = await api(server, API_PATHS.crons);
        assert.equal(crons.status, 200, crons.text);
        const trigger = await api(server, API_PATHS.trigger, { body: { cronName: 'quick' } });
        assert.equal(trigger.status, 503, trigger.text);
        assert.match(trigger.body.error, /retry in a few seconds/);
        assert.equal(trigger.headers.get('retry-after'), '5', 'the 503 says when to retry in its header too');
        const health = await api(server, API_PATHS.health, { token: null });
        assert.equal(health.status, 503, health.text);
        assert.equal(health.body.status, 'degraded');
        // The job started before the lock prints and ends while it is held.
        await server.waitForOutput(/writes fail at once, and are kept to retry, until it is released/, 30_000);
        await waitFor(() => existsSync(exitMark) || undefined, 'the job to end while the lock is held', 60_000);
        assert.equal((await api(server, API_PATHS.health, { token: null })).status, 503, 'still degraded while locked');
      } finally {
        shell.stdin.end('COMMIT;\n.quit\n');
      }
      await new Promise((resolveExit) => shell.once('exit', resolveExit));
      const releasedAt = Date.now();
      await waitFor(async () => (await api(server, API_PATHS.health, { token: null })).status === 200 || undefined, '/health ok once the lock is released', 30_000);
      await server.waitForOutput(/The store file is writable again/, 30_000);
      await waitForStatus(server, await triggerOk(server, 'quick'), 'completed');
      const ended = await waitForStatus(server, chattyId, 'completed', 60_000);
      const lines = (await api(server, `${API_PATHS.logs(chattyId)}?after=0`)).body.lines.map((entry: { line: string }) => entry.line);
      assert.equal(lines.filter((line: string) => /^line \d+$/.test(line)).length, LINES, 'every line printed under the lock is stored');
      const exitedAt = Date.parse(/^exiting at (.+)$/.exec(lines.find((line: string) => line.startsWith('exiting at'))!)![1]);
      const completedAt = Date.parse(ended.completedAt!);
      assert.ok(completedAt >= exitedAt && completedAt < releasedAt, `the end time is when it ended (${ended.completedAt}), not when the lock was released (${new Date(releasedAt).toISOString()})`);
    });
  }

  it('says what to do when backup gets no file or finds no store', async () => {
    const missing = await runServerCommand(['backup']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /backup needs the file to write/);
    const noStore = await runServerCommand(['backup', join(newDataDir(), 'x.db'), '--data', newDataDir()]);
    assert.equal(noStore.code, 2);
    assert.match(noStore.stderr, onPostgres() ? /back it up with pg_dump/ : /No store at .*cron-ops\.db: pass the server's --data folder/);
  });

  describe('timeline over a big history', () => {
    let server: ServerProcess;
    const count = 20_000;

    let dataDir: string;

    before(async function () {
      this.timeout(300_000);
      dataDir = newDataDir();
      if (onPostgres()) await seedPostgres(await databaseFor(process.env[TEST_DATABASE_ENV]!, dataDir), { count, days: 7, running: 2, chunk: 10_000 });
      else await seedSqliteFolder(dataDir, { count, days: 7, running: 2, chunk: 10_000 });
      server = await startServer({ config: writeConfig(demoConfig()), args: ['--data', dataDir] });
    });
    after(async () => {
      await server?.stop();
    });

    it('answers 7 days with buckets of completed runs, the other runs one by one, newest first, and older failures in buckets', async () => {
      const reply = await api<TimelineReply>(server, `${API_PATHS.timeline}?days=7`);
      assert.equal(reply.status, 200, reply.text);
      const { buckets, bucketMs, executions } = reply.body;
      assert.ok(buckets && buckets.length > 0 && bucketMs, 'buckets');
      assert.ok(buckets.length <= 1000, `${buckets.length} buckets`);
      const completed = buckets.filter((bucket) => bucket.status === 'completed').reduce((sum, bucket) => sum + bucket.count, 0);
      assert.ok(completed > count * 0.85 && completed < count * 0.95, `${completed} completed runs in buckets`);
      for (const bucket of buckets) {
        assert.ok(bucket.p95DurationMs <= bucket.maxDurationMs, JSON.stringify(bucket));
        assert.ok(Date.parse(bucket.end) - Date.parse(bucket.start) <= bucketMs);
      }
      // At most 1,000 failed and cancelled runs one by one, and every running run.
      const ended = executions.filter((entry) => entry.status !== 'running');
      assert.ok(ended.length > 0 && ended.length <= 1000, `${ended.length} single failed or cancelled runs`);
      // Failed and cancelled runs past the listed 1,000 are in buckets older than the oldest listed one:
      // every run of the week is on the chart, one way or the other.
      const oldestListed = ended[ended.length - 1].startedAt;
      for (const bucket of buckets.filter((entry) => entry.status !== 'completed')) {
        assert.ok(bucket.status === 'failed' || bucket.status === 'cancelled', JSON.stringify(bucket));
        assert.ok(bucket.start < oldestListed, `${bucket.start} before ${oldestListed}`);
      }
      const shown = buckets.reduce((sum, bucket) => sum + bucket.count, 0) + executions.length;
      assert.ok(shown >= count * 0.99, `${shown} of ${count} runs on the chart`);
      assert.ok(executions.every((entry) => entry.status !== 'completed'));
      for (let index = 1; index < executions.length; index++) assert.ok(executions[index - 1].startedAt >= executions[index].startedAt, 'newest first');
      assert.ok(executions.some((entry) => entry.status === 'running'), 'the running runs are there');
    });

    it('zooms into a range down to single runs', async () => {
      const to = new Date(Date.now() - 3600_000);
      const from = new Date(to.getTime() - 20 * 60_000);
      const reply = await api<TimelineReply>(server, `${API_PATHS.timeline}?from=${from.toISOString()}&to=${to.toISOString()}`);
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.body.buckets, undefined);
      assert.equal(reply.body.from, from.toISOString());
      assert.ok(reply.body.executions.length > 0);
      for (const entry of reply.body.executions) assert.ok(entry.startedAt >= from.toISOString() && entry.startedAt < to.toISOString());
      const bad = await api(server, `${API_PATHS.timeline}?from=${to.toISOString()}&to=${from.toISOString()}`);
      assert.equal(bad.status, 400);
      assert.match(bad.body.error, /must be before/);
      const tooLong = await api(server, `${API_PATHS.timeline}?from=2020-01-01T00:00:00Z`);
      assert.equal(tooLong.status, 400);
      assert.match(tooLong.body.error, /longer than 31 days: narrow it/);
      const future = await api(server, `${API_PATHS.timeline}?from=2999-01-01T00:00:00Z&to=2999-01-02T00:00:00Z`);
      assert.equal(future.status, 400, future.text);
      assert.match(future.body.error, /is in the future/);
    });

    it('sends the 7-day timeline gzipped to a client that accepts gzip, the same timeline as plain JSON to one that does not', async () => {
      // A range that ends in the past: both reads show the same runs (a range ending now moves between two).
      const to = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 60_000).toISOString();
      const path = `${API_PATHS.timeline}?from=${new Date(Date.parse(to) - 7 * 86_400_000).toISOString()}&to=${to}`;
      const plain = await getRaw(server.url, path, {});
      const gzipped = await getRaw(server.url, path, { 'accept-encoding': 'gzip, deflate, br' });
      assert.equal(plain.status, 200, plain.body.toString().slice(0, 300));
      assert.equal(gzipped.status, 200, gzipped.body.toString().slice(0, 300));
      assert.equal(plain.headers['content-encoding'], undefined, 'no Accept-Encoding: plain JSON');
      assert.match(String(plain.headers['content-type']), /^application\/json/);
      assert.equal(gzipped.headers['content-encoding'], 'gzip');
      assert.match(String(gzipped.headers['content-type']), /^application\/json/);
      // Caches keep the two apart.
      for (const reply of [plain, gzipped]) assert.match(String(reply.headers.vary), /accept-encoding/i);
      assert.equal(Number(gzipped.headers['content-length']), gzipped.body.length, 'the length of the bytes sent');
      assert.ok(gzipped.body.length < plain.body.length / 3, `${gzipped.body.length} vs ${plain.body.length} bytes`);
      assert.ok(gzipped.body.length <= 300 * 1024, `${gzipped.body.length} bytes on the wire: the issue's bound is 300 KB`);
      const decoded = JSON.parse(gunzipSync(gzipped.body).toString()) as TimelineReply;
      const asText = JSON.parse(plain.body.toString()) as TimelineReply;
      assert.ok(decoded.buckets && decoded.buckets.length > 0, 'a week of runs in buckets');
      // A running run's duration grows with the clock between the two reads: the rest is the same.
      const steady = (reply: TimelineReply) => ({ ...reply, executions: reply.executions.map((entry) => (entry.status === 'running' ? { ...entry, durationMs: 0 } : entry)) });
      assert.deepEqual(steady(decoded), steady(asText));
      // The typed client's view (fetch decodes gzip itself) is that timeline too.
      const viaFetch = await api<TimelineReply>(server, path);
      assert.deepEqual(steady(viaFetch.body), steady(asText));
      // gzip refused (q=0) or only br accepted: never gzip.
      const refused = await getRaw(server.url, path, { 'accept-encoding': 'gzip;q=0, identity' });
      assert.equal(refused.headers['content-encoding'], undefined);
      assert.deepEqual(steady(JSON.parse(refused.body.toString()) as TimelineReply), steady(asText));
      // An explicit gzip;q=0 wins over a "*" (RFC 9110); a client that accepts only br gets plain JSON too.
      for (const acceptEncoding of ['gzip;q=0, *', 'br', 'deflate']) {
        const plain = await getRaw(server.url, path, { 'accept-encoding': acceptEncoding });
        assert.equal(plain.headers['content-encoding'], undefined, acceptEncoding);
        assert.deepEqual(steady(JSON.parse(plain.body.toString()) as TimelineReply), steady(asText), acceptEncoding);
      }
    });

    it('shows a run changed by hand in an old hour on the next read (its cached buckets are read again)', async () => {
      const read = async () => {
        const reply = await api<TimelineReply>(server, `${API_PATHS.timeline}?days=7`);
        assert.equal(reply.status, 200, reply.text);
        return reply.body;
      };
      // Six days ago: older than the 1,000 newest failed and cancelled runs, so its failure comes in a bucket.
      const until = new Date(Date.now() - 6 * 86_400_000).toISOString();
      const listed = await api<{ executions: Array<{ id: string; cronName: string; startedAt: string }> }>(server, `${API_PATHS.executions}?status=completed&until=${until}&limit=1`);
      const run = listed.body.executions[0];
      assert.ok(run, listed.text);
      await read();
      const before = await read();
      const bucketOf = (reply: TimelineReply, status: string) =>
        reply.buckets!.find((bucket) => bucket.cronName === run.cronName && bucket.status === status && bucket.start <= run.startedAt && run.startedAt < bucket.end);
      const completedBefore = bucketOf(before, 'completed');
      assert.ok(completedBefore, `a completed bucket holds ${run.startedAt}`);
      await markFailedByHand(dataDir, run.id);
      const after = await read();
      assert.equal(bucketOf(after, 'completed')?.count ?? 0, completedBefore.count - 1, 'one completed run less in its bucket');
      assert.equal(bucketOf(after, 'failed')?.count ?? 0, (bucketOf(before, 'failed')?.count ?? 0) + 1, 'one failed run more beside it');
    });

    it('lists the newest failed, cancelled and running runs as the store holds them, read after read, and a run changed by hand in an old hour at once', async () => {
      // A range that ends in the past: the same runs every read, most of its hours kept between two reads.
      const to = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000);
      const from = new Date(to.getTime() - 7 * 86_400_000);
      const path = `${API_PATHS.timeline}?from=${from.toISOString()}&to=${to.toISOString()}`;
      const listed = async () => {
        const reply = await api<TimelineReply>(server, path);
        assert.equal(reply.status, 200, reply.text);
        return reply.body.executions;
      };
      const inStore = () =>
        withStoreSql(dataDir, (query) =>
          query(`SELECT id, status FROM cron_executions WHERE started_at >= '${from.toISOString()}' AND started_at < '${to.toISOString()}' AND status <> 'completed' ORDER BY started_at DESC LIMIT 1000`),
        );
      const asText = (runs: Array<{ id: unknown; status: unknown }>) => runs.map((run) => `${String(run.id)} ${String(run.status)}`).sort();
      const first = await listed();
      assert.equal(first.length, 1000, 'more failed and cancelled runs in the week than are listed');
      assert.deepEqual(asText(await listed()), asText(await inStore()), 'the second read (from the kept hours) lists what the store holds');
      // A listed failure three days back becomes cancelled, and a completed run between it and the newest becomes failed.
      const older = first.find((run) => run.status === 'failed' && Date.parse(run.startedAt) < to.getTime() - 3 * 86_400_000)!;
      assert.ok(older, 'a listed failure three days back');
      const until = new Date(to.getTime() - 86_400_000).toISOString();
      const completed = (await api<{ executions: Array<{ id: string; startedAt: string }> }>(server, `${API_PATHS.executions}?status=completed&until=${until}&limit=1`)).body.executions[0];
      await withStoreSql(dataDir, (query) => query(`UPDATE cron_executions SET status = 'cancelled' WHERE id = '${older.id}'`));
      await markFailedByHand(dataDir, completed.id);
      const after = await listed();
      assert.equal(after.find((run) => run.id === older.id)?.status, 'cancelled', 'the run cancelled by hand');
      assert.equal(after.find((run) => run.id === completed.id)?.status, 'failed', 'the run failed by hand');
      assert.deepEqual(asText(after), asText(await inStore()));
      // An id changed by hand, and nothing else.
      const renamed = 'dddddddd-0000-4000-a000-000000000001';
      await withStoreSql(dataDir, (query) => query(`UPDATE cron_executions SET id = '${renamed}' WHERE id = '${older.id}'`));
      const renamedRead = await listed();
      assert.ok(renamedRead.some((run) => run.id === renamed) && !renamedRead.some((run) => run.id === older.id), 'the run listed under its new id');
    });

    it("gives the runs at a range's partial-minute edges the duration classes the roll-ups give them (their p95)", async () => {
      // The runs of a range's partial minutes are classed by their own SQL (on PostgreSQL width_bucket over
      // the bounds, not the classes table): every bound, its neighbours, and the durations of the seeded runs.
      const durations = new Set<number>([0, 600_000_000, 2_000_000_000]);
      for (const bound of DURATION_CLASS_BOUNDS) for (const near of [bound - 1, bound, bound + 1]) durations.add(near);
      await withStoreSql(dataDir, async (query, dialect) => {
        const seeded = await query('SELECT DISTINCT duration_ms FROM cron_executions WHERE duration_ms IS NOT NULL LIMIT 2000');
        for (const row of seeded) durations.add(Number(row.duration_ms));
        const values = [...durations].map((duration) => `(${duration})`).join(', ');
        const rows = await query(`WITH runs(duration_ms) AS (VALUES ${values}) SELECT duration_ms, ${runDurationClassSql(dialect)} AS duration_class FROM runs
          UNION ALL SELECT NULL, ${runDurationClassSql(dialect).replaceAll('duration_ms', 'NULL')}`);
        assert.equal(rows.length, durations.size + 1);
        for (const row of rows) {
          const duration = row.duration_ms === null ? null : Number(row.duration_ms);
          assert.equal(Number(row.duration_class), durationClassOf(duration), `the class of ${duration} ms`);
        }
      });
    });

    it('counts the KPIs and finds the last run of each cron over the whole history', async () => {
      const stats = (await api<Stats>(server, API_PATHS.stats)).body;
      assert.ok(stats.executions24h > count / 7 * 0.8 && stats.executions24h < count / 7 * 1.2, JSON.stringify(stats));
      assert.equal(stats.running, 2);
      const crons = (await api(server, API_PATHS.crons)).body.crons as Array<{ name: string; lastExecution: { startedAt: string } | null }>;
      for (const cron of DEMO_CRONS) assert.ok(crons.find((candidate) => candidate.name === cron.name)?.lastExecution, `${cron.name} has a last run`);
    });

    it('shows every run once, listed or in a bucket, when the listed runs end inside a millisecond many runs started in', async () => {
      // 1,100 failures in one millisecond three days back (a tick's runs share one on SQLite): the 1,000 listed
      // runs end among them.
      const tieMs = Math.floor((Date.now() - 3 * 86_400_000) / 60_000) * 60_000 + 123;
      const tie = new Date(tieMs).toISOString();
      const from = new Date(tieMs - 12 * 3_600_000).toISOString();
      const to = new Date(tieMs + 12 * 3_600_000).toISOString();
      await withStoreSql(dataDir, (query, dialect) =>
        dialect === 'postgres'
          ? query(`INSERT INTO cron_executions (id, cron_name, status, trigger_type, triggered_by, params, started_at, completed_at, duration_ms, runner_id)
              SELECT gen_random_uuid(), 'check-alerts', 'failed', 'scheduled', 'scheduler', '{}', '${tie}', '${tie}', 1000, 'by-hand' FROM generate_series(1, 1100)`)
          : query(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1100)
              INSERT INTO cron_executions (id, cron_name, status, trigger_type, triggered_by, params, started_at, completed_at, duration_ms, runner_id)
              SELECT printf('cccccccc-0000-4000-a000-%012d', i), 'check-alerts', 'failed', 'scheduled', 'scheduler', '{}', '${tie}', '${tie}', 1000, 'by-hand' FROM n`),
      );
      const reply = await api<TimelineReply>(server, `${API_PATHS.timeline}?from=${from}&to=${to}`);
      assert.equal(reply.status, 200, reply.text);
      assert.ok(reply.body.buckets, 'a summarised reply');
      const shown = new Map<string, number>();
      const add = (key: string, runs: number) => shown.set(key, (shown.get(key) ?? 0) + runs);
      for (const run of reply.body.executions) add(`${run.cronName} ${run.status}`, 1);
      for (const bucket of reply.body.buckets) add(`${bucket.cronName} ${bucket.status}`, bucket.count);
      const stored = await withStoreSql(dataDir, (query) =>
        query(`SELECT cron_name, status, count(*) AS n FROM cron_executions WHERE started_at >= '${from}' AND started_at < '${to}' GROUP BY cron_name, status`),
      );
      assert.deepEqual(
        Object.fromEntries([...shown].sort()),
        Object.fromEntries(stored.map((row) => [`${String(row.cron_name)} ${String(row.status)}`, Number(row.n)]).sort()),
        'runs per cron and status on the chart (listed + in buckets) against the store',
      );
      // A run still running, older than every listed failure (a stuck one): listed all the same.
      const stuckId = 'eeeeeeee-0000-4000-a000-000000000001';
      const stuckAt = new Date(tieMs - 6 * 3_600_000).toISOString();
      await withStoreSql(dataDir, (query) =>
        query(`INSERT INTO cron_executions (id, cron_name, status, trigger_type, triggered_by, params, started_at, runner_id)
          VALUES ('${stuckId}', 'made-by-hand', 'running', 'external', 'operator', '{}', '${stuckAt}', 'by-hand')`),
      );
      const withStuck = await api<TimelineReply>(server, `${API_PATHS.timeline}?from=${from}&to=${to}`);
      assert.equal(withStuck.body.executions.find((run) => run.id === stuckId)?.status, 'running', 'the stuck run is listed');
      for (let index = 1; index < withStuck.body.executions.length; index++) assert.ok(withStuck.body.executions[index - 1].startedAt >= withStuck.body.executions[index].startedAt, 'newest first');
    });
  });
});
