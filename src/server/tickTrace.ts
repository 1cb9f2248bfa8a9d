// Per-tick timestamps at each stage of a scheduled start, for the scheduler benchmark (test/bench/scheduler.ts)
// to tell what a late tick waited for. Off unless CRON_OPS_TICK_TRACE names a file: then every mark is kept in
// memory, with the garbage collections and, at some marks, how long the main thread had waited for a CPU
// (Linux's /proc/self/schedstat), and the lot is written there as JSON when the process exits. Never in the
// server's logs.
import { readFileSync, writeFileSync } from 'node:fs';
import { performance, PerformanceObserver } from 'node:perf_hooks';

export type TickStage =
  /** The scheduler's timer called back. */
  | 'woke'
  /** The scheduler handed the tick to the service. */
  | 'fired'
  /** The scheduler computed the cron's next run. */
  | 'armed'
  /** The tick's claim is written. */
  | 'claimed'
  /** The run's row is written (its started_at). */
  | 'inserted'
  /** The run is handed to the runner. */
  | 'launched'
  /** The service is done with the tick (its log line written). */
  | 'done';

/**
 * [cron name, scheduled instant (ms), stage, wall-clock time with a fraction of a ms, and at 'woke' and
 * 'inserted': the main thread's CPU time and its time waiting for a CPU so far (ms)].
 */
type Mark = [string, number, TickStage, number] | [string, number, TickStage, number, number, number];

const file = process.env.CRON_OPS_TICK_TRACE;
const marks: Mark[] | undefined = file ? [] : undefined;
/** [start (wall-clock ms), duration (ms)] of each garbage collection. */
const collections: Array<[number, number]> = [];
if (file && marks) {
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) collections.push([performance.timeOrigin + entry.startTime, entry.duration]);
  });
  observer.observe({ entryTypes: ['gc'] });
  process.on('exit', () => writeFileSync(file, JSON.stringify({ marks, collections })));
}

/** True when marks are kept: a caller skips building what only a mark needs. */
export const tickTraceOn = marks !== undefined;

/** The main thread's CPU time and run-queue wait so far (ms), where Linux tells them. */
function schedStat(): [number, number] | undefined {
  try {
    const [cpu, wait] = readFileSync('/proc/self/schedstat', 'utf8').split(' ').map(Number);
    return [cpu / 1e6, wait / 1e6];
  } catch {
    return undefined;
  }
}

export function markTick(cronName: string, tickAtMs: number, stage: TickStage): void {
  if (!marks) return;
  const at = performance.timeOrigin + performance.now();
  const stat = stage === 'woke' || stage === 'inserted' ? schedStat() : undefined;
  marks.push(stat ? [cronName, tickAtMs, stage, at, stat[0], stat[1]] : [cronName, tickAtMs, stage, at]);
}
