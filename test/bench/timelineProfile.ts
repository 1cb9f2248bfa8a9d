// A focused look at the 7-day and one-hour timelines in process (no HTTP) on a seeded SQLite file: each
// read on the main connection (what the server did before the timeline worker) and through the worker
// (timelineReader.ts, what it does now: the runs as objects, and the route's reply as JSON text), with the
// main thread's event-loop delay during each series. Buckets are cached between reads (timelineCache.ts):
// the first read of each series is left out of the figures (its time and loop delay are printed apart).
// `node out/test/bench/timelineProfile.js FOLDER [COUNT]` seeds FOLDER once (when it holds no store yet);
// `node out/test/bench/timelineProfile.js --postgres [COUNT]` the same on PostgreSQL (a cluster of its own,
// or the one the read benchmarks keep in CRON_OPS_BENCH_SEEDED=DIR);
// the worker is dist/timelineWorker.mjs (`node esbuild.mjs` builds it).
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createLogger } from '../../src/server/logger';
import { openPostgres, openSqlite, SQLITE_FILE } from '../../src/server/store/db';
import { ExecutionStore, type TimelineQuery } from '../../src/server/store/executionStore';
import { TIMELINE_WORKER_FILE } from '../../src/server/store/timelineProtocol';
import { timelineSource } from '../../src/server/store/timelineReader';
import { REPO_ROOT } from '../support/serverProcess';
import { databaseFor, startPostgres } from '../support/postgres';
import { seedPostgres, seedSqliteFolder } from './seed';
import { benchHistory, seededDir, seededPostgres } from './seededStore';
import { createContext, percentile } from './support';

const SAMPLES = 25;

/** CRON_OPS_PROFILE_ONLY=WORD: only the series whose label holds WORD (e.g. "worker"). */
const ONLY = process.env.CRON_OPS_PROFILE_ONLY;

async function series(label: string, read: (query: TimelineQuery) => Promise<unknown>, query: TimelineQuery): Promise<void> {
  if (ONLY && !label.includes(ONLY)) return;
  const firstDelay = monitorEventLoopDelay({ resolution: 1 });
  firstDelay.enable();
  const firstStarted = performance.now();
  await read(query);
  firstDelay.disable();
  console.log(`${label}: first read ${(performance.now() - firstStarted).toFixed(1)} ms, main loop delay max ${(firstDelay.max / 1e6).toFixed(1)} ms`);
  const times: number[] = [];
  const cpu: number[] = [];
  // The longest the loop waited: what one request blocks it for (plus the wait for a CPU on a loaded machine).
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  // The main thread's time in callbacks (not waiting in the poll): what the reads cost the event loop,
  // without the waits for a CPU that the delay above also counts on a loaded machine.
  const loopBefore = performance.eventLoopUtilization();
  for (let i = 0; i < SAMPLES; i++) {
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    await read(query);
    const used = process.cpuUsage(cpuBefore);
    cpu.push((used.user + used.system) / 1000);
    times.push(performance.now() - started);
  }
  delay.disable();
  const loop = performance.eventLoopUtilization(loopBefore);
  const p = (values: number[], at: number) => percentile(values, at).toFixed(1);
  console.log(`${label}: p50 ${p(times, 50)} ms, p95 ${p(times, 95)} ms; CPU (all threads) p50 ${p(cpu, 50)} ms; main loop busy ${(loop.active / SAMPLES).toFixed(1)} ms per read; main loop delay p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms`);
}

async function main(): Promise<void> {
  if (process.argv[2] === '--postgres') return onPostgres(Number(process.argv[3] ?? 1_000_000));
  const folder = process.argv[2];
  const count = Number(process.argv[3] ?? 200_000);
  if (!existsSync(join(folder, SQLITE_FILE))) await seedSqliteFolder(folder, { count, days: 7, running: 2, logLines: 0 });
  const log = createLogger({ level: 'warn' });
  const db = await openSqlite({ file: join(folder, SQLITE_FILE), log });
  const store = new ExecutionStore(db, () => undefined);
  const worker = await timelineSource(db, store, log, { workerFile: join(REPO_ROOT, 'dist', TIMELINE_WORKER_FILE) });
  console.log(`load average ${loadavg().map((value) => value.toFixed(1)).join(' ')}`);
  for (const [label, query] of queries()) {
    await series(`${label}, main connection`, (q) => store.timeline(q), query);
    await series(`${label}, worker`, (q) => worker.timeline(q), query);
    // What the route asks: the whole reply as JSON text written in the worker (the main thread takes a string in),
    // and that text gzipped there too (a client that accepts gzip, as the extension's does).
    await series(`${label}, worker, route's JSON`, (q) => worker.routeReply(q, 'identity'), query);
    await series(`${label}, worker, route's gzip`, (q) => worker.routeReply(q, 'gzip'), query);
  }
  console.log(`load average ${loadavg().map((value) => value.toFixed(1)).join(' ')}`);
  await worker.close();
  await db.close();
}

function queries(): Array<[string, TimelineQuery]> {
  const hourFrom = Date.now() - 3 * 86_400_000;
  return [
    ['7 days', { days: 7 }],
    ['an hour', { from: new Date(hourFrom).toISOString(), to: new Date(hourFrom + 3_600_000).toISOString() }],
  ];
}

/**
 * `--postgres [COUNT]`: a PostgreSQL cluster of its own (test/support/postgres.ts), seeded, and the timeline
 * read as the server reads it there (in its worker), and on the main thread as it did before: the first read
 * (empty bucket cache) and the next ones.
 */
async function onPostgres(count: number): Promise<void> {
  // CRON_OPS_PROFILE_PG_URL: a database this tool seeded before (kept with --keep), read again as it is.
  const known = process.env.CRON_OPS_PROFILE_PG_URL;
  const keep = process.argv.includes('--keep');
  // CRON_OPS_BENCH_SEEDED=DIR: the store the read benchmarks keep there (seededStore.ts), seeded there once.
  const kept = !known && seededDir() ? createContext((line) => console.log(line)) : undefined;
  const server = known || kept ? undefined : await startPostgres();
  try {
    const url = known ?? (kept ? await seededPostgres(kept, 'timeline-profile', benchHistory(count)) : await databaseFor(server!.baseUrl, 'timeline-profile'));
    if (!known && !kept) {
      const seeded = await seedPostgres(url, { count, days: 7, running: 2, logLines: 0 });
      console.log(`seeded ${seeded.inserted} executions in ${(seeded.ms / 1000).toFixed(0)} s${keep ? `; kept: CRON_OPS_PROFILE_PG_URL=${url} (stop it with pg_ctl -D ${server!.dir}/data stop)` : ''}`);
    }
    const log = createLogger({ level: 'warn' });
    const db = await openPostgres({ url, log });
    console.log(`load average ${loadavg().map((value) => value.toFixed(1)).join(' ')}`);
    const workerFile = join(REPO_ROOT, 'dist', TIMELINE_WORKER_FILE);
    for (const [label, query] of queries()) {
      // A new store or worker each time: its bucket cache starts empty, as after the server's start.
      const worker = await timelineSource(db, new ExecutionStore(db, () => undefined), log, { workerFile, postgresUrl: url });
      await series(`${label}, PostgreSQL, worker, route's gzip`, (q) => worker.routeReply(q, 'gzip'), query);
      await worker.close();
      const source = await timelineSource(db, new ExecutionStore(db, () => undefined), log);
      await series(`${label}, PostgreSQL, main thread, route's gzip`, (q) => source.routeReply(q, 'gzip'), query);
      const objects = new ExecutionStore(db, () => undefined);
      await series(`${label}, PostgreSQL, main thread, as objects`, (q) => objects.timeline(q), query);
    }
    console.log(`load average ${loadavg().map((value) => value.toFixed(1)).join(' ')}`);
    await db.close();
  } finally {
    if (!keep) server?.stop();
    await kept?.cleanup();
  }
}

void main();
