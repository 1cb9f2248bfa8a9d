// Figure 6: 50 concurrent callers, each triggering its own cron (/bin/true) through the API and waiting
// for its execution.finished on the event stream before the next trigger. Executions recorded per second,
// then every accepted trigger checked against the store: none lost, none twice, all completed.
// Baseline: 50 concurrent loops of a bare child_process.spawn of the same command in this process.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseFor } from '../support/postgres';
import { startServer } from '../support/serverProcess';
import { api, connectSse, cpuMs, removeLater, sleep, stopLater, trigger, type BenchContext, type Benchmark, type FigureRow } from './support';

const CALLERS = 50;
const DURATION_MS = 15_000;
const BASELINE_MS = 5_000;
const COMMAND = '/bin/true';

/** The CPU the bare loop took in this process per spawn (ms), from the last bareSpawnRate. */
export let bareCpuMsPerSpawn = NaN;

export async function bareSpawnRate(): Promise<number> {
  let done = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + BASELINE_MS;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (performance.now() < deadline) {
        await new Promise<void>((resolveRun, reject) => {
          const child = spawn(COMMAND, [], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
          child.on('error', reject);
          child.on('close', () => resolveRun());
        });
        done++;
      }
    }),
  );
  const cpu = process.cpuUsage(cpuBefore);
  bareCpuMsPerSpawn = (cpu.user + cpu.system) / 1000 / done;
  return done / ((performance.now() - started) / 1000);
}

/** The spawn helpers of a server (its children running spawnHelper.mjs). */
export function spawnHelperPids(serverPid: number): number[] {
  const children = readFileSync(`/proc/${serverPid}/task/${serverPid}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number);
  return children.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('spawnHelper');
    } catch {
      return false;
    }
  });
}

/** CPU (ms) used by the server, its spawn helpers (all of them) and this process (the callers) while `work` runs. */
export async function withCpu<T>(serverPid: number, work: () => Promise<T>): Promise<{ result: T; serverMs: number; helperMs: number; callersMs: number }> {
  const helpersBefore = new Map(spawnHelperPids(serverPid).map((pid) => [pid, cpuMs(pid)]));
  const before = { server: cpuMs(serverPid), callers: process.cpuUsage() };
  const result = await work();
  const callers = process.cpuUsage(before.callers);
  // Helpers started meanwhile (a burst opens more) count from zero; one that exited meanwhile is not counted.
  const helperMs = spawnHelperPids(serverPid).reduce((sum, pid) => sum + cpuMs(pid) - (helpersBefore.get(pid) ?? 0), 0);
  return { result, serverMs: cpuMs(serverPid) - before.server, helperMs, callersMs: (callers.user + callers.system) / 1000 };
}

export interface CallersResult {
  accepted: string[];
  /** Accepted but not seen finished within 30 s. */
  timedOut: number;
  refused: Record<number, number>;
  elapsedS: number;
}

/**
 * One caller per cron, each triggering its cron through the API and waiting for its execution.finished on
 * the event stream before the next trigger, for `durationMs`.
 */
export async function runCallers(serverUrl: string, cronNames: string[], durationMs: number): Promise<CallersResult> {
  const finished = new Map<string, string>();
  const waiting = new Map<string, (status: string) => void>();
  const sse = await connectSse(`${serverUrl}/api/admin/events`, (event) => {
    if (event.name !== 'execution.finished') return;
    const { id, status } = (JSON.parse(event.data) as { execution: { id: string; status: string } }).execution;
    finished.set(id, status);
    waiting.get(id)?.(status);
  });
  const finishedOf = (id: string) =>
    new Promise<string>((resolveStatus) => {
      const known = finished.get(id);
      if (known) return resolveStatus(known);
      // Not recorded within 30 s: counted (it shows as not completed below) rather than waited for.
      const timer = setTimeout(() => {
        waiting.delete(id);
        resolveStatus('timeout');
      }, 30_000);
      waiting.set(id, (status) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolveStatus(status);
      });
    });

  const accepted: string[] = [];
  let timedOut = 0;
  const refused: Record<number, number> = {};
  const failures = new Set<string>();
  const started = performance.now();
  const deadline = started + durationMs;
  try {
    await Promise.all(
      cronNames.map(async (cronName) => {
        while (performance.now() < deadline) {
          const reply = await trigger(serverUrl, cronName).catch((error: Error) => {
            // Said once per message: a connection refused or reset is not a refusal of the server's.
            if (!failures.has(error.message)) console.log(`  trigger failed: ${error.message}`);
            failures.add(error.message);
            return { status: 0, body: { success: false, executionId: undefined } };
          });
          if (reply.status !== 202 || !reply.body.executionId) {
            refused[reply.status] = (refused[reply.status] ?? 0) + 1;
            await sleep(10);
            continue;
          }
          accepted.push(reply.body.executionId);
          if ((await finishedOf(reply.body.executionId)) === 'timeout') timedOut++;
        }
      }),
    );
  } finally {
    sse.close();
  }
  return { accepted, timedOut, refused, elapsedS: (performance.now() - started) / 1000 };
}

/** Measures one store; the row is made once the baseline around it is known. */
async function measure(context: BenchContext, store: 'embedded' | 'postgres'): Promise<(bareRate: number, baseline: string) => FigureRow> {
  const env: Record<string, string> = {};
  if (store === 'postgres') {
    const postgres = await context.postgres();
    env.DATABASE_URL = await databaseFor(postgres.baseUrl, removeLater(context, mkdtempSync(join(tmpdir(), 'cron-ops-bench-throughput-'))));
  }
  const crons = Array.from({ length: CALLERS }, (_, index) => ({ name: `through-${String(index).padStart(2, '0')}`, schedule: '0 0 1 1 *', command: [COMMAND], estimatedDurationMs: 10, timeoutMs: 60_000 }));
  const server = stopLater(context, await startServer({ config: { crons, rateLimits: { perCronSeconds: 0, globalPerMinute: 0 } }, env }));

  const measured = await withCpu(server.child.pid!, () => runCallers(server.url, crons.map((cron) => cron.name), DURATION_MS));
  const { accepted, timedOut, refused, elapsedS } = measured.result;
  const rate = (accepted.length - timedOut) / elapsedS;
  const perRun = (cpu: number) => (cpu / Math.max(1, accepted.length)).toFixed(1);
  const cpuText = `CPU a run: server ${perRun(measured.serverMs)} ms, spawn helpers ${perRun(measured.helperMs)} ms, callers ${perRun(measured.callersMs)} ms`;

  // The store's view: each accepted trigger exactly once, completed; nothing else.
  const rows: Array<{ id: string; status: string }> = [];
  let before: string | null = null;
  for (let page = 0; page < 100; page++) {
    const reply: { body: { executions: Array<{ id: string; status: string }>; nextCursor: string | null } } = await api<{ executions: Array<{ id: string; status: string }>; nextCursor: string | null }>(server.url, `/api/admin/cron-executions?limit=1000${before ? `&before=${before}` : ''}`);
    rows.push(...reply.body.executions);
    before = reply.body.nextCursor;
    if (!before) break;
  }
  await server.stop();
  const acceptedSet = new Set(accepted);
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.id, (counts.get(row.id) ?? 0) + 1);
  const lost = accepted.filter((id) => !counts.has(id)).length;
  const duplicated = [...counts.values()].filter((n) => n > 1).length + rows.filter((row) => !acceptedSet.has(row.id)).length;
  const notCompleted = rows.filter((row) => row.status !== 'completed').length;
  const label = store === 'embedded' ? 'embedded (SQLite)' : 'PostgreSQL 15';
  context.log(`  ${label}: ${accepted.length} executions in ${elapsedS.toFixed(1)} s = ${rate.toFixed(0)}/s; ${rows.length} rows, ${lost} lost, ${duplicated} duplicated or unexpected, ${notCompleted} not completed; refused ${JSON.stringify(refused)}; ${timedOut} not finished within 30 s; ${cpuText}`);
  return (bareRate, baseline) => ({
    figure: '6',
    what: `executions recorded per second, ${CALLERS} concurrent callers, ${label}`,
    value: `${rate.toFixed(0)}/s (${accepted.length} in ${elapsedS.toFixed(0)} s; ${lost} lost, ${duplicated} duplicated, ${notCompleted} not completed; ${cpuText})`,
    baseline,
    ratio: `${(rate / bareRate).toFixed(2)}×`,
    goal: store === 'embedded' ? '≥ 0.9× a bare spawn loop, 0 lost or duplicated' : '(no goal set) 0 lost or duplicated',
    met: store === 'embedded' ? rate >= 0.9 * bareRate && lost === 0 && duplicated === 0 && notCompleted === 0 : undefined,
  });
}

export const throughput: Benchmark = {
  name: 'throughput',
  title: 'Figure 6: trigger throughput, 50 concurrent callers',
  async run(context) {
    // CRON_OPS_BENCH_STORES=sqlite (or postgres) measures one store only.
    const stores = (process.env.CRON_OPS_BENCH_STORES ?? 'sqlite,postgres').split(',');
    // On a shared machine the CPU left to this benchmark moves from one minute to the next: the bare loop
    // runs just before and just after each store's measurement, and the baseline is their mean.
    const bare = async () => {
      const rate = await bareSpawnRate();
      context.log(`  bare spawn: ${rate.toFixed(0)}/s, ${bareCpuMsPerSpawn.toFixed(1)} ms CPU a spawn in this process`);
      return rate;
    };
    const rows: FigureRow[] = [];
    let before = await bare();
    for (const store of ['sqlite', 'postgres'] as const) {
      if (!stores.includes(store)) continue;
      const row = await measure(context, store === 'sqlite' ? 'embedded' : 'postgres');
      const after = await bare();
      rows.push(row((before + after) / 2, `bare spawn ${((before + after) / 2).toFixed(0)}/s (${before.toFixed(0)}/s before, ${after.toFixed(0)}/s after; ${bareCpuMsPerSpawn.toFixed(1)} ms CPU a spawn)`));
      before = after;
    }
    return rows;
  },
};
