// Figure 1: POST trigger -> `execution.started` at an SSE client, against a bare child_process.spawn of
// the same command in this process; the two are interleaved run by run so they share the machine's noise.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseFor } from '../support/postgres';
import { startServer } from '../support/serverProcess';
import { connectSse, ms, percentile, ratio, removeLater, stopLater, trigger, type BenchContext, type Benchmark, type FigureRow, type SseEvent } from './support';

const RUNS = 200;
const WARMUP = 10;
const COMMAND = ['/bin/true'];

/** Bare spawn: from the call to the 'spawn' event (the program is running), and to its exit. */
function bareSpawn(): Promise<{ started: number; exited: number }> {
  return new Promise((resolveRun, reject) => {
    const t0 = performance.now();
    let started = NaN;
    const child = spawn(COMMAND[0], COMMAND.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.on('spawn', () => (started = performance.now() - t0));
    child.on('error', reject);
    child.on('close', () => resolveRun({ started, exited: performance.now() - t0 }));
  });
}

async function measure(context: BenchContext, store: 'embedded' | 'postgres'): Promise<FigureRow[]> {
  const env: Record<string, string> = {};
  if (store === 'postgres') {
    const postgres = await context.postgres();
    env.DATABASE_URL = await databaseFor(postgres.baseUrl, removeLater(context, mkdtempSync(join(tmpdir(), 'cron-ops-bench-latency-'))));
  }
  const server = stopLater(
    context,
    await startServer({
      config: { crons: [{ name: 'latency', schedule: '0 0 1 1 *', command: COMMAND, estimatedDurationMs: 10, timeoutMs: 60_000 }], rateLimits: { perCronSeconds: 0, globalPerMinute: 0 } },
      env,
    }),
  );

  // One run at a time: an event for a run is waited for by its id, whether it comes before or after the reply.
  const seen = new Map<string, SseEvent>();
  const waiting = new Map<string, (event: SseEvent) => void>();
  const key = (name: string, id: string) => `${name}:${id}`;
  let firstStartedAfter: ((event: SseEvent) => void) | undefined;
  const sse = await connectSse(`${server.url}/api/admin/events`, (event) => {
    if (event.name !== 'execution.started' && event.name !== 'execution.finished') return;
    const id = (JSON.parse(event.data) as { execution: { id: string } }).execution.id;
    if (event.name === 'execution.started') firstStartedAfter?.(event);
    const k = key(event.name, id);
    const wake = waiting.get(k);
    if (wake) wake(event);
    else seen.set(k, event);
  });
  const eventFor = (name: string, id: string) =>
    new Promise<SseEvent>((resolveEvent, reject) => {
      const k = key(name, id);
      const early = seen.get(k);
      if (early) {
        seen.delete(k);
        resolveEvent(early);
        return;
      }
      const timer = setTimeout(() => reject(new Error(`no ${name} for ${id} within 15 s`)), 15_000);
      waiting.set(k, (event) => {
        clearTimeout(timer);
        waiting.delete(k);
        resolveEvent(event);
      });
    });

  const started: number[] = [];
  const finished: number[] = [];
  const bareStarted: number[] = [];
  const bareExited: number[] = [];
  try {
    for (let run = 0; run < WARMUP + RUNS; run++) {
      const bare = await bareSpawn();
      // The first execution.started after the POST is this run's (nothing else fires on this server).
      const startedEvent = new Promise<SseEvent>((resolveEvent) => (firstStartedAfter = resolveEvent));
      const t0 = performance.now();
      const reply = await trigger(server.url, 'latency');
      if (reply.status !== 202 || !reply.body.executionId) throw new Error(`trigger answered ${reply.status}: ${JSON.stringify(reply.body)}`);
      const id = reply.body.executionId;
      const [startedAt, finishedAt] = await Promise.all([startedEvent, eventFor('execution.finished', id)]);
      firstStartedAfter = undefined;
      seen.delete(key('execution.started', id));
      if (run < WARMUP) continue;
      started.push(startedAt.at - t0);
      finished.push(finishedAt.at - t0);
      bareStarted.push(bare.started);
      bareExited.push(bare.exited);
    }
  } finally {
    sse.close();
    await server.stop();
  }

  const goal = store === 'embedded' ? 10 : 15;
  const p50 = percentile(started, 50);
  const bareP50 = percentile(bareStarted, 50);
  const label = store === 'embedded' ? 'embedded (SQLite)' : 'PostgreSQL 15';
  context.log(`  ${label}: POST -> started p50 ${ms(p50)} p99 ${ms(percentile(started, 99))}; bare spawn p50 ${ms(bareP50)} p99 ${ms(percentile(bareStarted, 99))}`);
  return [
    {
      figure: '1',
      what: `trigger -> execution.started at SSE, ${label}, p50 / p99 (${RUNS} runs)`,
      value: `${ms(p50)} / ${ms(percentile(started, 99))} (overhead ${ms(p50 - bareP50)})`,
      baseline: `bare spawn ${ms(bareP50, 2)} / ${ms(percentile(bareStarted, 99), 2)}`,
      ratio: ratio(p50, bareP50),
      goal: `p50 overhead ≤ ${goal} ms`,
      met: p50 - bareP50 <= goal,
    },
    {
      figure: '1',
      what: `trigger -> execution.finished at SSE, ${label}, p50 / p99`,
      value: `${ms(percentile(finished, 50))} / ${ms(percentile(finished, 99))}`,
      baseline: `bare spawn -> exit ${ms(percentile(bareExited, 50))} / ${ms(percentile(bareExited, 99))}`,
      ratio: ratio(percentile(finished, 50), percentile(bareExited, 50)),
      goal: '(no goal: the whole run, for scale)',
    },
  ];
}

export const triggerLatency: Benchmark = {
  name: 'trigger',
  title: 'Figure 1: trigger latency',
  async run(context) {
    return [...(await measure(context, 'embedded')), ...(await measure(context, 'postgres'))];
  },
};
