// Will a cron's runs overlap its own schedule? From its recent durations (p95) and its next ticks (croner,
// in its time zone): when a run usually lasts longer than the shortest gap between two ticks, the scheduler
// will find it still running and skip ticks. Pure: the caller passes the durations and the time.
import { Cron as CronJob } from 'croner';
import type { OverlapForecast } from '../shared/api';
import { overlapText } from '../shared/overlapText';

export { formatSpan } from '../shared/overlapText';

export interface OverlapForecastInput {
  schedule: string;
  timezone: string;
  /** Durations of the cron's recent finished runs, in ms, any order (e.g. its last 20). */
  durationsMs: readonly number[];
  /** Ticks are looked at from here (default now). */
  from?: Date;
  /** How many next ticks to look at (default 100). */
  ticks?: number;
  /** Fewer finished runs than this give no forecast (default 3). */
  minSamples?: number;
  /** The next ticks, when the caller keeps them (nextTicks): croner is not asked again. */
  nextTicks?: readonly Date[] | null;
}

export type { OverlapForecast };

const DEFAULT_TICKS = 100;
const DEFAULT_MIN_SAMPLES = 3;

/** The 95th percentile (nearest rank) of `values`, ignoring values that are not finite non-negative numbers. */
export function percentile95(values: readonly number[]): number | null {
  const sorted = values.filter((value) => Number.isFinite(value) && value >= 0).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  return sorted[Math.ceil(0.95 * sorted.length) - 1];
}

/** The next `count` ticks of a schedule in its time zone (croner); null for a schedule croner rejects. */
export function nextTicks(schedule: string, timezone: string, from: Date, count: number): Date[] | null {
  try {
    const job = new CronJob(schedule, { timezone, paused: true });
    const ticks = job.nextRuns(count, from);
    job.stop();
    return ticks;
  } catch {
    return null; // the config check reports a bad schedule; a forecast has nothing to add
  }
}

/** Runs lasting `durationMs` from each tick they start at: how many of `ticks` find the cron still running. */
function skippedTicks(ticks: readonly Date[], durationMs: number): number {
  let busyUntil = -Infinity;
  let skipped = 0;
  for (const tick of ticks) {
    if (tick.getTime() < busyUntil) skipped++;
    else busyUntil = tick.getTime() + durationMs;
  }
  return skipped;
}

/** Whether the cron's runs, at their p95 duration, will overlap its next ticks, and what that costs. */
export function forecastOverlap(input: OverlapForecastInput): OverlapForecast {
  const samples = input.durationsMs.filter((value) => Number.isFinite(value) && value >= 0).length;
  const p95Ms = percentile95(input.durationsMs);
  const unknown: OverlapForecast = { status: 'unknown', p95Ms, samples, shortestIntervalMs: null, shortestIntervalAt: null, regular: false, ticksConsidered: 0, ticksSkipped: 0, message: null };
  const ticks = input.nextTicks !== undefined ? input.nextTicks : nextTicks(input.schedule, input.timezone, input.from ?? new Date(), input.ticks ?? DEFAULT_TICKS);
  if (!ticks || ticks.length < 2) return unknown;
  let shortest = Infinity;
  let shortestAt = 0;
  let regular = true;
  for (let index = 1; index < ticks.length; index++) {
    const gap = ticks[index].getTime() - ticks[index - 1].getTime();
    if (index > 1 && gap !== ticks[1].getTime() - ticks[0].getTime()) regular = false;
    if (gap < shortest) {
      shortest = gap;
      shortestAt = index - 1;
    }
  }
  const known = { ...unknown, shortestIntervalMs: shortest, shortestIntervalAt: ticks[shortestAt].toISOString(), regular, ticksConsidered: ticks.length };
  if (p95Ms === null || samples < (input.minSamples ?? DEFAULT_MIN_SAMPLES)) return known;
  const ticksSkipped = skippedTicks(ticks, p95Ms);
  if (p95Ms <= shortest) return { ...known, status: 'ok', ticksSkipped };
  const forecast: OverlapForecast = { ...known, status: 'overlap', ticksSkipped, message: null };
  return { ...forecast, message: overlapText(forecast, input.timezone) ?? null };
}
