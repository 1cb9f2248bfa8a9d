// The timeline is read off the server's main thread (a worker thread with its own connection: read-only to
// the SQLite file, or to the PostgreSQL database), replaced when it dies, stopped at shutdown; in memory it
// is read on the store.
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { API_PATHS, type TimelineReply } from '../../src/shared/api';
import { createLogger } from '../../src/server/logger';
import { openPostgres, openSqlite, SQLITE_FILE, type Db } from '../../src/server/store/db';
import { ExecutionStore } from '../../src/server/store/executionStore';
import { migrate } from '../../src/server/store/migrations';
import { TIMELINE_WORKER_FILE } from '../../src/server/store/timelineProtocol';
import { timelineSource, type TimelineSource } from '../../src/server/store/timelineReader';
import { demoConfig, seedPostgres, seedSqliteFolder } from '../bench/seed';
import { databaseFor, TEST_DATABASE_ENV } from '../support/postgres';
import { api, triggerOk, waitForStatus } from '../support/http';
import { nodeCron, REPO_ROOT, startServer, writeConfig, type ServerProcess } from '../support/serverProcess';
import { waitFor } from '../support/waitFor';

const WORKER_BUNDLE = join(REPO_ROOT, 'dist', TIMELINE_WORKER_FILE);
const quiet = () => createLogger({ level: 'error', write: () => undefined });

/** A running run's duration grows with the clock: compare runs by what does not move. */
function steady(reply: TimelineReply) {
  return { ...reply, executions: reply.executions.map(({ durationMs, ...entry }) => (entry.status === 'running' ? entry : { ...entry, durationMs })) };
}

/** The route's reply is the store's own timeline of the range, with the range's skipped ticks beside it. */
async function assertAsTheStore(db: Db, reply: TimelineReply, from: string, to: string): Promise<void> {
  try {
    const expected = await new ExecutionStore(db, () => undefined).timeline({ from, to });
    const { skipped, skippedTotal, ...runs } = reply;
    assert.ok(Array.isArray(skipped) && skippedTotal === skipped.length, 'the skipped ticks come beside the runs');
    assert.deepEqual(steady(runs), steady(expected));
  } finally {
    await db.close();
  }
}

describe('Timeline reads off the main thread', function () {
  this.timeout(240_000);
  const servers: ServerProcess[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  // SQLite here; the PostgreSQL pass (where --data and --memory become databases) runs its own below.
  if (process.env.CRON_OPS_TEST_STORE !== 'postgres') {
    it('reads a 7-day timeline of 150,000 runs in its worker, answers as the store does, and /health asked meanwhile answers first', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'cron-ops-timeline-'));
      await seedSqliteFolder(dataDir, { count: 150_000, days: 7, running: 2, logLines: 0 });
      const server = await startServer({ config: writeConfig(demoConfig()), args: ['--data', dataDir], timeoutMs: 120_000 });
      servers.push(server);
      const to = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
      const from = new Date(Date.parse(to) - 7 * 86_400_000).toISOString();
      const order: string[] = [];
      const timeline = api<TimelineReply>(server, `${API_PATHS.timeline}?from=${from}&to=${to}`).then((reply) => {
        order.push('timeline');
        return reply;
      });
      // The worker starts with the first timeline read: once it says so, that read is under way in it.
      await server.waitForOutput(/Timeline reads run in a worker thread/, 60_000);
      const health = await api(server, API_PATHS.health, { token: null });
      order.push('health');
      const reply = await timeline;
      assert.equal(health.status, 200, health.text);
      assert.equal(reply.status, 200, reply.text);
      assert.deepEqual(order, ['health', 'timeline'], 'the main thread answered /health while the worker read the timeline');
      assert.ok(reply.body.buckets && reply.body.buckets.length > 0, 'a week of 150,000 runs comes as buckets');

      // The same range read by the store itself, on its own connection to the file.
      // (The route adds the range's skipped ticks: a demo cron missed while the seeded store had no server.)
      await assertAsTheStore(await openSqlite({ file: join(dataDir, SQLITE_FILE), log: quiet(), readonly: true }), reply.body, from, to);
    });

    describe('the worker itself', () => {
      let db: Db;
      let store: ExecutionStore;
      let source: TimelineSource | undefined;
      const workers: Worker[] = [];
      const exits: number[] = [];
      /** A fixed range ending just after the last run written (a range ending now moves between two reads). */
      let range: { from: string; to: string };

      const startSource = (idleMs?: number) =>
        timelineSource(db, store, quiet(), {
          workerFile: WORKER_BUNDLE,
          idleMs,
          startWorker: (file, data) => {
            const worker = new Worker(file, { workerData: data });
            worker.on('exit', (code) => exits.push(code));
            workers.push(worker);
            return worker;
          },
        });

      beforeEach(async () => {
        db = await openSqlite({ file: join(mkdtempSync(join(tmpdir(), 'cron-ops-timeline-')), SQLITE_FILE), log: quiet() });
        await migrate(db);
        store = new ExecutionStore(db, () => undefined);
        let lastMs = 0;
        for (let index = 0; index < 20; index++) {
          const started = await store.startUnguarded({ id: randomUUID(), cronName: `job-${index % 3}`, triggerType: 'manual', triggeredBy: 'test', params: {}, runnerId: null });
          assert.equal(started.kind, 'started');
          if (started.kind === 'started') lastMs = Date.parse(started.execution.startedAt);
          // The last run of each cron stays running (one running run per cron: the store's guard).
          if (started.kind === 'started' && index < 17) await store.finish(started.execution.id, { status: index % 5 === 0 ? 'failed' : 'completed', exitCode: 0 });
        }
        range = { from: new Date(lastMs - 3_600_000).toISOString(), to: new Date(lastMs + 1).toISOString() };
        workers.length = 0;
        exits.length = 0;
        source = await startSource();
      });
      afterEach(async () => {
        await source?.close();
        await db.close();
      });

      it('is replaced when it dies: the read it held answers, and so do the next ones', async () => {
        const expected = steady(await store.timeline(range));
        assert.equal(expected.executions.length, 20);
        const held = source!.timeline(range);
        assert.equal(workers.length, 1, 'the first read starts the worker');
        // As a crash would: the worker ends with the read in hand.
        await workers[0].terminate();
        assert.deepEqual(steady(await held), expected);
        assert.equal(workers.length, 2, 'a second worker answered the held read');
        assert.deepEqual(steady(await source!.timeline(range)), expected);
        // Killed while idle: the next read starts a third.
        await workers[1].terminate();
        assert.deepEqual(steady(await source!.timeline(range)), expected);
        assert.equal(workers.length, 3);
      });

      it('ends when idle, and the next read starts a new one', async () => {
        await source!.close();
        source = await startSource(100);
        const expected = steady(await store.timeline(range));
        assert.deepEqual(steady(await source.timeline(range)), expected);
        await waitFor(() => exits.length === 1, 'the idle worker to end', 30_000, 20);
        assert.deepEqual(steady(await source.timeline(range)), expected);
        assert.equal(workers.length, 2, 'a new worker for the read after the idle one ended');
      });

      it('sees what the server wrote after it started, and stops with the server', async () => {
        assert.equal((await source!.timeline({ days: 1 })).executions.length, 20);
        const started = await store.startUnguarded({ id: randomUUID(), cronName: 'late', triggerType: 'manual', triggeredBy: 'test', params: {}, runnerId: null });
        assert.equal(started.kind, 'started');
        const after = await source!.timeline({ days: 1 });
        assert.ok(after.executions.some((entry) => entry.cronName === 'late'), 'the run written on the main connection is in the next read');
        assert.equal(workers.length, 1);
        await source!.close();
        source = undefined;
        assert.equal(exits.length, 1, 'the worker ended at close');
      });
    });

    it('with --memory, serves the timeline from the store itself (no file for a worker to open)', async () => {
      const server = await startServer({ config: { crons: [nodeCron('quick', 'console.log("done")')] }, args: ['--memory'] });
      servers.push(server);
      const id = await triggerOk(server, 'quick');
      await waitForStatus(server, id, 'completed');
      const reply = await api<TimelineReply>(server, `${API_PATHS.timeline}?days=1`);
      assert.equal(reply.status, 200, reply.text);
      assert.deepEqual(
        reply.body.executions.map((entry) => [entry.id, entry.status]),
        [[id, 'completed']],
      );
      assert.doesNotMatch(server.output(), /Timeline reads run in a worker thread/);
    });
  } else {
    it('on PostgreSQL, reads a 7-day timeline of 30,000 runs in its worker, on a connection of its own, and answers as the store does', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'cron-ops-timeline-'));
      const url = await databaseFor(process.env[TEST_DATABASE_ENV]!, dataDir);
      await seedPostgres(url, { count: 30_000, days: 7, running: 2, logLines: 0, chunk: 10_000 });
      // --data names the seeded database in the PostgreSQL pass (serverProcess.ts).
      const server = await startServer({ config: writeConfig(demoConfig()), args: ['--data', dataDir], timeoutMs: 120_000 });
      servers.push(server);
      const to = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
      const from = new Date(Date.parse(to) - 7 * 86_400_000).toISOString();
      const reply = await api<TimelineReply>(server, `${API_PATHS.timeline}?from=${from}&to=${to}`);
      assert.equal(reply.status, 200, reply.text);
      assert.match(server.output(), /Timeline reads run in a worker thread, on a PostgreSQL connection of its own/);
      assert.ok(reply.body.buckets && reply.body.buckets.length > 0, 'a week of 30,000 runs comes as buckets');
      await assertAsTheStore(await openPostgres({ url, log: quiet() }), reply.body, from, to);
      // A second read (buckets from the worker's cache) is the same timeline.
      const again = await api<TimelineReply>(server, `${API_PATHS.timeline}?from=${from}&to=${to}`);
      assert.deepEqual(steady(again.body), steady(reply.body));
    });
  }

});
