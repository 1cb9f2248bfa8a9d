// Will a cron's runs overlap its own schedule? From its recent durations (p95) and its next ticks (croner,
// in its time zone): when a run usually lasts longer than the shortest gap between two ticks, the scheduler
// will find it still running and skip ticks. Pure: the caller passes the durations and the time. Cheap by
// design: no tick for a cron with too few runs, and ticks only within a week ahead (FORECAST_HORIZON_MS).
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
  /** How many next ticks to look at at most (default 100), none past the first beyond FORECAST_HORIZON_MS. */
  ticks?: number;
  /** Fewer finished runs than this give no forecast (default 3). */
  minSamples?: number;
  /** The next ticks, when the caller keeps them (TickWindow): croner is not asked again. Asked only when the runs are enough for a forecast. */
  nextTicks?: () => readonly Date[] | null;
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

/**
 * How far ahead a forecast looks for ticks. A schedule's gaps repeat within a week (daily and weekly
 * patterns), and a gap longer than a week cannot be shorter than a realistic p95 (runs are cut by their
 * timeout long before), so the ticks stop at the first one past the horizon: a yearly schedule costs one
 * look at croner, not a hundred years of them.
 */
export const FORECAST_HORIZON_MS = 7 * 86_400_000;

/**
 * A schedule's next ticks (croner, in its time zone), kept and extended as time passes: a later look drops
 * the ticks now past and asks croner only for the ones beyond what it holds.
 */
export class TickWindow {
  private readonly job: CronJob | null;
  private ticks: Date[] = [];
  /** The instant the held ticks follow on from: they are every tick after it, in order. */
  private origin = Infinity;
  /** Croner has no tick after the last one held. */
  private ended = false;
  /** Ticks asked of croner so far (a test reads it: extending costs only the new ones). */
  computed = 0;

  constructor(schedule: string, timezone: string) {
    let job: CronJob | null;
    try {
      job = new CronJob(schedule, { timezone, paused: true });
    } catch {
      job = null; // the config check reports a bad schedule; a forecast has nothing to add
    }
    this.job = job;
  }

  /** The ticks after `from`, in order, up to and including the first one past `from + horizonMs`, at most `max`; null for a schedule croner rejects. */
  from(from: Date, max: number, horizonMs = FORECAST_HORIZON_MS): Date[] | null {
    if (!this.job) return null;
    this.fill(from, max, horizonMs, Infinity);
    const end = from.getTime() + horizonMs;
    const count = this.ticks.findIndex((tick) => tick.getTime() > end);
    return this.ticks.slice(0, Math.min(max, count === -1 ? this.ticks.length : count + 1));
  }

  /**
   * Asks croner for the ticks `from(from, max, horizonMs)` needs, for about `budgetMs` at most: one tick in
   * a time zone costs croner 1–2 ms (more while cold), 30 of them too long to hold the event loop for.
   * True once `from` needs nothing more; false to be called again (after a turn of the loop).
   */
  fill(from: Date, max: number, horizonMs = FORECAST_HORIZON_MS, budgetMs = Infinity): boolean {
    const job = this.job;
    if (!job) return true;
    if (from.getTime() < this.origin) {
      // Asked about an earlier time than the held ticks follow on from: they may miss some, start over.
      this.ticks = [];
      this.ended = false;
    }
    this.origin = from.getTime();
    let drop = 0;
    while (drop < this.ticks.length && this.ticks[drop].getTime() <= from.getTime()) drop++;
    if (drop > 0) this.ticks = this.ticks.slice(drop);
    const end = from.getTime() + horizonMs;
    const deadline = performance.now() + budgetMs;
    const more = () => !this.ended && this.ticks.length < max && (this.ticks.length === 0 || this.ticks[this.ticks.length - 1].getTime() <= end);
    // One tick at least per call, whatever the budget: every call moves on.
    while (more()) {
      let next: Date | null;
      try {
        next = job.nextRun(this.ticks.length > 0 ? this.ticks[this.ticks.length - 1] : from);
      } catch {
        next = null; // croner throws on some impossible dates instead of answering null
      }
      this.computed++;
      if (!next) this.ended = true;
      else this.ticks.push(next);
      if (performance.now() >= deadline && more()) return false;
    }
    return true;
  }
}

/** The next ticks of a schedule in its time zone (croner), at most `count`, stopping at the first past the horizon; null for a schedule croner rejects. */
export function nextTicks(schedule: string, timezone: string, from: Date, count: number, horizonMs = FORECAST_HORIZON_MS): Date[] | null {
  return new TickWindow(schedule, timezone).from(from, count, horizonMs);
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

/** Whether `durationsMs` are enough runs for a forecast (fewer give "unknown", and no tick is computed). */
export function enoughForForecast(durationsMs: readonly number[], minSamples = DEFAULT_MIN_SAMPLES): boolean {
  return durationsMs.filter((value) => Number.isFinite(value) && value >= 0).length >= Math.max(1, minSamples);
}

/** Whether the cron's runs, at their p95 duration, will overlap its next ticks, and what that costs. */
export function forecastOverlap(input: OverlapForecastInput): OverlapForecast {
  const samples = input.durationsMs.filter((value) => Number.isFinite(value) && value >= 0).length;
  const p95Ms = percentile95(input.durationsMs);
  const unknown: OverlapForecast = { status: 'unknown', p95Ms, samples, shortestIntervalMs: null, shortestIntervalAt: null, regular: false, ticksConsidered: 0, ticksSkipped: 0, message: null };
  // Too few runs to say anything: no tick is computed (the crons list asks this of every cron, often).
  if (p95Ms === null || samples < (input.minSamples ?? DEFAULT_MIN_SAMPLES)) return unknown;
  const ticks = input.nextTicks ? input.nextTicks() : nextTicks(input.schedule, input.timezone, input.from ?? new Date(), input.ticks ?? DEFAULT_TICKS);
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
  const ticksSkipped = skippedTicks(ticks, p95Ms);
  if (p95Ms <= shortest) return { ...known, status: 'ok', ticksSkipped };
  const forecast: OverlapForecast = { ...known, status: 'overlap', ticksSkipped, message: null };
  return { ...forecast, message: overlapText(forecast, input.timezone) ?? null };
}
