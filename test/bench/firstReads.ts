// Issue 10, "no request may block the event loop for more than 20 ms", for the FIRST call of each endpoint
// the extension calls on a server that just started (the reads benchmark measures them warm): first-use
// work (validators and serializers compiled lazily, prepared statements, croner, V8 compiling the code
// paths) shows there and nowhere else. Cases: the demo crons in a new data folder, and the demo crons over
// 1,000,000 runs in SQLite (CRON_OPS_BENCH_STORES=demo,sqlite,postgres picks; PostgreSQL is off by default).
// Each call gets its own window of the server's event-loop delay (loopDelayProbe.ts), and so does the
// second call of the same endpoint and an idle window (the baseline). CRON_OPS_BENCH_PROFILE=1 also
// profiles the server's main thread per window and prints each window's longest busy stretch and what it
// spent its time in (the figures are then inflated by the profiler: use them to find causes only).
// CRON_OPS_BENCH_SEEDED=DIR keeps the seeded 1M stores there (seededStore.ts). Never asserts.
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Execution } from '../../src/shared/api';
import { startServer, TEST_ADMIN_TOKEN, writeConfig, type ServerProcess } from '../support/serverProcess';
import { describeInterval, describeStretch, type CpuProfile } from './profileStretches';
import { demoConfig } from './seed';
import { benchHistory, seededPostgres, seededSqlite } from './seededStore';
import { ms, removeLater, sleep, stopLater, type BenchContext, type Benchmark, type FigureRow } from './support';

const EXECUTIONS = 1_000_000;
const LOG_LINES = 10_000;
const SEED = { ...benchHistory(EXECUTIONS), logLines: LOG_LINES };
const GOAL_MS = 20;
const PROFILE = process.env.CRON_OPS_BENCH_PROFILE === '1';
/** Fresh starts per case (CRON_OPS_BENCH_STARTS): first calls are one sample each, and the machine is shared. */
const STARTS = Number(process.env.CRON_OPS_BENCH_STARTS ?? 3);

interface Delay {
  p50: number;
  p99: number;
  max: number;
  count: number;
  /** The most main-thread CPU one turn of the loop took (ms), and that turn's wall time. */
  turnCpuMax: number;
  turnWallAtCpuMax: number;
  /** When that turn was (process.hrtime in µs, the clock of the window's profile). */
  turnFromUs: number;
  turnToUs: number;
}

/** The server's loop-delay probe, one window at a time. */
class Probe {
  /** Resets so far: window n is the one the n-th reset started (its profile is written by the next one). */
  resets = 0;

  constructor(readonly file: string) {}

  async reset(): Promise<number> {
    writeFileSync(`${this.file}.reset`, '');
    for (let waited = 0; existsSync(`${this.file}.reset`); waited += 10) {
      if (waited > 10_000) throw new Error('the server\'s loop-delay probe did not take the reset within 10 s');
      await sleep(10);
    }
    return ++this.resets;
  }

  /** Waits for two more writes of the probe (≥ 200 ms): work the call left behind lands in its window. */
  async settle(): Promise<Delay> {
    for (let writes = 0; writes < 2; writes++) {
      const before = statSync(this.file).mtimeMs;
      for (let waited = 0; waited < 5_000 && statSync(this.file).mtimeMs === before; waited += 10) await sleep(10);
    }
    return JSON.parse(readFileSync(this.file, 'utf8')) as Delay;
  }

  profile(window: number): CpuProfile | undefined {
    const path = `${this.file}.window-${window}.cpuprofile`;
    return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as CpuProfile) : undefined;
  }
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function get(baseUrl: string, path: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolveReply, reject) => {
    const req = request(baseUrl + path, { agent, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'accept-encoding': 'gzip' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const raw = Buffer.concat(chunks);
        resolveReply({ status: response.statusCode ?? 0, body: response.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens the event stream as the extension does, takes its first bytes, and closes it. */
function sseConnect(baseUrl: string, path: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolveReply, reject) => {
    const req = request(baseUrl + path, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, accept: 'text/event-stream' } }, (response) => {
      response.once('data', (chunk: Buffer) => {
        resolveReply({ status: response.statusCode ?? 0, body: chunk });
        req.destroy();
      });
    });
    req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
    req.end();
  });
}

interface Endpoint {
  what: string;
  /** The path, from what earlier replies told (undefined: nothing to read, e.g. no run yet). */
  path: () => string | undefined;
  sse?: boolean;
}

interface Measured {
  what: string;
  firstMs: number;
  first: Delay;
  second: Delay;
  firstWindow: number;
  secondWindow: number;
}

interface StartResult {
  measured: Measured[];
  tail: Delay;
  idle: Delay;
  load: string;
}

async function firstCalls(context: BenchContext, label: string, server: ServerProcess, probe: Probe, profile: boolean): Promise<StartResult> {
  const load = () => loadavg().map((value) => value.toFixed(2)).join(' ');
  const loadBefore = load();
  // Just after listening: the start-up's tail (downtime ticks, the first KPIs published), then idle.
  const tailWindow = await probe.reset();
  await sleep(1_500);
  const tail = await probe.settle();
  const idleWindow = await probe.reset();
  await sleep(1_500);
  const idle = await probe.settle();

  let executions: Execution[] = [];
  let running: Execution | undefined;
  const completed = () => executions.find((execution) => execution.status === 'completed');
  const endpoints: Endpoint[] = [
    { what: 'GET /health', path: () => '/health' },
    { what: 'GET /crons', path: () => '/api/admin/crons' },
    { what: 'GET /stats', path: () => '/api/admin/cron-executions/stats' },
    { what: 'GET history page (100 newest)', path: () => '/api/admin/cron-executions?limit=100' },
    { what: "GET one cron's history (10)", path: () => '/api/admin/cron-executions?cronName=check-alerts&limit=10' },
    { what: 'GET one execution', path: () => (completed() ? `/api/admin/cron-executions/${completed()!.id}` : undefined) },
    { what: 'GET logs page (1,000 lines)', path: () => (completed() ? `/api/admin/cron-executions/${completed()!.id}/logs?after=0&limit=1000` : undefined) },
    { what: 'SSE connect /events (following a running run)', path: () => `/api/admin/events${running ? `?follow=${running.id}` : ''}`, sse: true },
    { what: 'GET skipped ticks', path: () => '/api/admin/crons/check-alerts/skipped?limit=100' },
    { what: 'GET audit', path: () => '/api/admin/audit?limit=100' },
    { what: 'GET alerts', path: () => '/api/admin/alerts' },
    { what: 'GET session', path: () => '/api/admin/session' },
    { what: 'GET timeline 7 days', path: () => '/api/admin/cron-executions/timeline?days=7' },
  ];
  const measured: Measured[] = [];
  for (const endpoint of endpoints) {
    const path = endpoint.path();
    if (!path) continue;
    const call = () => (endpoint.sse ? sseConnect(server.url, path) : get(server.url, path));
    const firstWindow = await probe.reset();
    const started = performance.now();
    const reply = await call();
    const firstMs = performance.now() - started;
    if (reply.status !== 200) throw new Error(`${path} answered ${reply.status}: ${reply.body.toString().slice(0, 200)}`);
    const first = await probe.settle();
    if (path.startsWith('/api/admin/cron-executions?limit=100')) {
      executions = (JSON.parse(reply.body.toString()) as { executions: Execution[] }).executions;
      running = executions.find((execution) => execution.status === 'running');
    }
    const secondWindow = await probe.reset();
    await call();
    const second = await probe.settle();
    measured.push({ what: endpoint.what, firstMs, first, second, firstWindow, secondWindow });
  }
  await probe.reset(); // writes the last window's profile
  const loadAfter = load();

  context.log(`  ${label}: load average ${loadBefore} before, ${loadAfter} after`);
  context.log(`  ${label}: just after listening: longest turn ${ms(tail.turnCpuMax, 1)} CPU, loop delay max ${ms(tail.max, 1)}; idle: ${ms(idle.turnCpuMax, 1)} CPU, ${ms(idle.max, 1)}`);
  const lines = measured.map(
    ({ what, firstMs, first, second }) =>
      `    ${what}: first call ${ms(firstMs, 1)}: longest turn ${ms(first.turnCpuMax, 1)} CPU (${ms(first.turnWallAtCpuMax, 1)} wall), loop delay max ${ms(first.max, 1)}; second call ${ms(second.turnCpuMax, 1)} CPU, max ${ms(second.max, 1)}`,
  );
  context.log(`  ${label}: per endpoint, on a server that just started:\n${lines.join('\n')}`);
  if (profile) {
    const windows: Array<[string, number, Delay]> = [
      ['just after listening', tailWindow, tail],
      ['idle', idleWindow, idle],
      ...measured.flatMap((entry): Array<[string, number, Delay]> => [
        [`${entry.what}, first`, entry.firstWindow, entry.first],
        [`${entry.what}, second`, entry.secondWindow, entry.second],
      ]),
    ];
    for (const [what, window, delay] of windows) {
      const cpuProfile = probe.profile(window);
      if (!cpuProfile) continue;
      context.log(`    ${what}: heaviest turn ${ms(delay.turnCpuMax, 1)} CPU (${ms(delay.turnWallAtCpuMax, 1)} wall):\n${describeStretch(describeInterval(cpuProfile, delay.turnFromUs, delay.turnToUs))}`);
    }
  }
  return { measured, tail, idle, load: `${loadBefore} → ${loadAfter}` };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];

/** The figures of several fresh starts: per endpoint, the median (and the least) of its first call. */
function figures(label: string, starts: StartResult[]): FigureRow[] {
  const loads = starts.map((start) => start.load).join('; ');
  const idleCpu = median(starts.map((start) => start.idle.turnCpuMax));
  const idleWall = median(starts.map((start) => start.idle.max));
  const rows: FigureRow[] = starts[0].measured.map(({ what }) => {
    const firsts = starts.map((start) => start.measured.find((entry) => entry.what === what)!);
    const cpu = median(firsts.map((entry) => entry.first.turnCpuMax));
    const wall = median(firsts.map((entry) => entry.first.max));
    return {
      figure: '10',
      what: `first ${what.replace(/^GET /, '')} after start, ${label}: the server's longest turn of the loop in main-thread CPU (median of ${starts.length} starts; wall-clock loop delay max in brackets)`,
      value: `${ms(cpu, 1)} (${ms(wall, 1)}); least ${ms(Math.min(...firsts.map((entry) => entry.first.turnCpuMax)), 1)}; second call ${ms(median(firsts.map((entry) => entry.second.turnCpuMax)), 1)}`,
      baseline: `idle ${ms(idleCpu, 1)} (${ms(idleWall, 1)})`,
      ratio: '',
      goal: `no request blocks > ${GOAL_MS} ms`,
      met: cpu <= GOAL_MS,
      note: `load average ${loads}`,
    };
  });
  const worst = rows.reduce((a, b) => (Number.parseFloat(b.value) > Number.parseFloat(a.value) ? b : a));
  rows.push({ ...worst, what: `worst first call after start, ${label}: ${worst.what.replace(/^first /, '').replace(/ after start.*$/, '')}, longest turn in main-thread CPU (wall)` });
  return rows;
}

function probeEnv(delayFile: string): Record<string, string> {
  return {
    NODE_OPTIONS: `--require ${join(__dirname, 'loopDelayProbe.js')}`,
    CRON_OPS_LOOP_DELAY_FILE: delayFile,
    ...(PROFILE ? { CRON_OPS_LOOP_DELAY_PROFILE: '1' } : {}),
  };
}

/** `STARTS` fresh starts of the server, each read once through. */
async function run(context: BenchContext, label: string, start: (env: Record<string, string>, index: number) => Promise<ServerProcess>, dir: string): Promise<FigureRow[]> {
  const results: StartResult[] = [];
  for (let index = 0; index < STARTS; index++) {
    const probe = new Probe(join(dir, `loop-delay-${index}.json`));
    const server = stopLater(context, await start(probeEnv(probe.file), index));
    try {
      results.push(await firstCalls(context, `${label}, start ${index + 1}`, server, probe, PROFILE && index === 0));
    } finally {
      await server.stop();
    }
  }
  return figures(label, results);
}

export const firstReads: Benchmark = {
  name: 'firstReads',
  title: 'Issue 10: the event loop during the first call of each endpoint, on a server that just started',
  async run(context) {
    const stores = (process.env.CRON_OPS_BENCH_STORES ?? 'demo,sqlite').split(',');
    const rows: FigureRow[] = [];
    if (stores.includes('demo')) {
      const dir = removeLater(context, mkdtempSync(join(tmpdir(), 'cron-ops-bench-first-demo-')));
      // The server's own demo crons (no --config), a new data folder: the first start of a new install.
      rows.push(...(await run(context, 'demo crons, new data folder', (env, index) => startServer({ args: ['--data', join(dir, `data-${index}`)], env }), dir)));
    }
    if (stores.includes('sqlite')) {
      const dir = removeLater(context, mkdtempSync(join(tmpdir(), 'cron-ops-bench-first-sqlite-')));
      await seededSqlite(context, join(dir, 'data'), SEED);
      rows.push(...(await run(context, `SQLite, ${EXECUTIONS.toLocaleString('en')} executions`, (env) => startServer({ config: writeConfig(demoConfig()), args: ['--data', join(dir, 'data')], env, timeoutMs: 300_000 }), dir)));
    }
    if (stores.includes('postgres')) {
      const dir = removeLater(context, mkdtempSync(join(tmpdir(), 'cron-ops-bench-first-pg-')));
      const url = await seededPostgres(context, dir, SEED);
      rows.push(...(await run(context, `PostgreSQL 15, ${EXECUTIONS.toLocaleString('en')} executions`, (env) => startServer({ config: writeConfig(demoConfig()), env: { DATABASE_URL: url, ...env }, timeoutMs: 300_000 }), dir)));
    }
    return rows;
  },
};
