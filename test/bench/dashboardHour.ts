// Issue 10's footprint after use: the server's RSS through an hour of what one VS Code window with the
// dashboard open asks of it, over a 1,000,000-run history (embedded store, demo crons). Every
// refreshIntervalSeconds (30 s) the extension reloads the crons and the KPIs and the dashboard its timeline;
// an operator also zooms, opens a cron's history, the failed runs, a run and its logs. The hour's 120 refreshes
// are sent back to back (the RSS follows what the server is asked, not the clock), the event stream open
// throughout; then the server idles past the timeline worker's idle end (60 s), and its RSS is read again.
// Baseline: the same server's RSS once started, before the first request.
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Execution } from '../../src/shared/api';
import { startServer, TEST_ADMIN_TOKEN, writeConfig, type ServerProcess } from '../support/serverProcess';
import { demoConfig } from './seed';
import { benchHistory, seededPostgres, seededSqlite } from './seededStore';
import { connectSse, ratio, removeLater, rssKb, sleep, stopLater, type BenchContext, type Benchmark, type FigureRow } from './support';

const EXECUTIONS = 1_000_000;
const SEED = { ...benchHistory(EXECUTIONS), days: 7, logLines: 10_000 };
/** An hour of refreshes, one every 30 s (the extension's default refreshIntervalSeconds). */
const REFRESHES = 120;
/** An operator's look around (a zoom, a cron's history, the failed runs, a run and its logs) every this many refreshes. */
const LOOK_EVERY = 10;
/** Past the timeline worker's idle end (IDLE_MS, 60 s): its thread and heap are gone. */
const IDLE_AFTER_MS = 65_000;
const GOAL_MB = 250;

/** GET as the extension sends it (gzip accepted); the body decoded. */
function get(baseUrl: string, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolveReply, reject) => {
    const call = request(baseUrl + path, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'accept-encoding': 'gzip' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        resolveReply({ status: response.statusCode ?? 0, text: (response.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString() });
      });
    });
    call.on('error', reject);
    call.end();
  });
}

async function getOk<T>(baseUrl: string, path: string): Promise<T> {
  const reply = await get(baseUrl, path);
  if (reply.status !== 200) throw new Error(`${path} answered ${reply.status}: ${reply.text.slice(0, 200)}`);
  return JSON.parse(reply.text) as T;
}

async function hourOn(context: BenchContext, label: string, server: ServerProcess): Promise<FigureRow[]> {
  const pid = server.child.pid!;
  const mb = () => rssKb(pid) / 1024;
  await sleep(2000);
  const started = mb();
  const stream = await connectSse(`${server.url}/api/admin/events`, () => undefined);
  const samples: number[] = [];
  const began = performance.now();
  let requests = 0;
  try {
    for (let refresh = 1; refresh <= REFRESHES; refresh++) {
      await Promise.all([getOk(server.url, '/api/admin/crons'), getOk(server.url, '/api/admin/cron-executions/stats'), getOk(server.url, '/api/admin/cron-executions/timeline?days=7')]);
      requests += 3;
      if (refresh % LOOK_EVERY === 0) {
        // A zoom into a different hour of the week each time, a cron's history, the failed runs, one of them and its logs.
        const to = new Date(Date.now() - (refresh / LOOK_EVERY) * 11 * 3_600_000);
        const from = new Date(to.getTime() - 3_600_000);
        await getOk(server.url, `/api/admin/cron-executions/timeline?from=${from.toISOString()}&to=${to.toISOString()}`);
        await getOk(server.url, '/api/admin/cron-executions?cronName=check-alerts&limit=10');
        const failed = await getOk<{ executions: Execution[] }>(server.url, '/api/admin/cron-executions?status=failed&limit=100');
        const run = failed.executions[refresh % failed.executions.length];
        await getOk(server.url, `/api/admin/cron-executions/${run.id}`);
        await getOk(server.url, `/api/admin/cron-executions/${run.id}/logs?after=0&limit=1000`);
        requests += 5;
      }
      samples.push(mb());
    }
  } finally {
    stream.close();
  }
  const seconds = (performance.now() - began) / 1000;
  const peak = Math.max(...samples);
  const after = samples[samples.length - 1];
  await sleep(IDLE_AFTER_MS);
  const idle = mb();
  context.log(`  ${label}: ${requests} requests (an hour's refreshes and looks) in ${seconds.toFixed(0)} s; RSS started ${started.toFixed(0)} MB, peak ${peak.toFixed(0)} MB, after ${after.toFixed(0)} MB, ${IDLE_AFTER_MS / 1000} s later ${idle.toFixed(0)} MB`);
  return [
    {
      figure: '10',
      what: `server RSS over an hour of dashboard use (${REFRESHES} refreshes of /crons, /stats and the 7-day timeline, ${REFRESHES / LOOK_EVERY} zooms with a cron's history, the failed runs, a run and its logs; the event stream open), ${label}, ${EXECUTIONS.toLocaleString('en')} executions, peak (after, ${IDLE_AFTER_MS / 1000} s idle after)`,
      value: `${peak.toFixed(0)} MB (${after.toFixed(0)} MB, ${idle.toFixed(0)} MB); ${requests} requests in ${seconds.toFixed(0)} s`,
      baseline: `the same server once started ${started.toFixed(0)} MB`,
      ratio: ratio(peak, started),
      goal: `≤ ${GOAL_MB} MB`,
      met: peak <= GOAL_MB,
    },
  ];
}

async function sqlite(context: BenchContext): Promise<FigureRow[]> {
  const dir = removeLater(context, mkdtempSync(join(tmpdir(), 'cron-ops-bench-hour-')));
  await seededSqlite(context, join(dir, 'data'), SEED);
  const server = stopLater(context, await startServer({ config: writeConfig(demoConfig()), args: ['--data', join(dir, 'data')], timeoutMs: 300_000 }));
  try {
    return await hourOn(context, 'SQLite', server);
  } finally {
    await server.stop();
  }
}

async function postgres(context: BenchContext): Promise<FigureRow[]> {
  const dir = removeLater(context, mkdtempSync(join(tmpdir(), 'cron-ops-bench-hour-pg-')));
  const url = await seededPostgres(context, dir, SEED);
  const server = stopLater(context, await startServer({ config: writeConfig(demoConfig()), env: { DATABASE_URL: url }, timeoutMs: 300_000 }));
  try {
    return await hourOn(context, 'PostgreSQL 15', server);
  } finally {
    await server.stop();
  }
}

export const dashboardHour: Benchmark = {
  name: 'dashboardHour',
  title: `Issue 10: server RSS over an hour of dashboard use at ${EXECUTIONS.toLocaleString('en')} executions`,
  async run(context) {
    // CRON_OPS_BENCH_STORES=sqlite (or postgres) runs one store only.
    const stores = (process.env.CRON_OPS_BENCH_STORES ?? 'sqlite,postgres').split(',');
    return [...(stores.includes('sqlite') ? await sqlite(context) : []), ...(stores.includes('postgres') ? await postgres(context) : [])];
  },
};
