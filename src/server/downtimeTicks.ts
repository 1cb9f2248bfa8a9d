// Ticks missed while no server was up, found at start: for each cron this instance schedules, the ticks
// between the last one the store knows of (run, claimed or skipped) and now. They are recorded as skipped
// (server-down), the last MAX_MISSED_PER_CRON of them only, so a month down does not write millions of
// rows; a cron with `catchUp: "last"` then runs once, by the instance that claimed its latest missed tick.
import type { CronDefinition } from './config';
import { errorText, type Logger } from './logger';
import { Schedule } from './schedule';
import { tickKey } from './scheduler';
import type { SkippedTickStore } from './store/skippedTickStore';

/** Missed ticks recorded per cron at most (the newest). */
export const MAX_MISSED_PER_CRON = 100;
/**
 * Ticks this recent are left to the scheduler of an instance that may be up: it claims a tick the moment it
 * is due, so one older than this and still unclaimed was missed.
 */
export const MISSED_GRACE_MS = 2_000;

/** The last `max` ticks of `schedule` in (since, until], oldest first, without walking every tick since. */
export function lastTicksBetween(schedule: Schedule, since: Date, until: Date, max: number): Date[] {
  if (max <= 0 || until <= since) return [];
  // Walk back from `until` over a window that grows until it holds `max` ticks or reaches `since`.
  let windowMs = (max + 1) * 1000;
  for (;;) {
    const from = Math.max(since.getTime(), until.getTime() - windowMs);
    const ticks: Date[] = [];
    for (let tick = schedule.nextAfter(new Date(from)); tick && tick <= until; tick = schedule.nextAfter(tick)) {
      ticks.push(tickKey(tick));
      if (ticks.length > max) ticks.shift();
    }
    if (ticks.length >= max || from === since.getTime()) return ticks;
    windowMs *= 8;
  }
}

export interface DowntimeDeps {
  crons: readonly CronDefinition[];
  runsHere(cron: CronDefinition): boolean;
  isPaused(cronName: string): boolean;
  skipped: SkippedTickStore;
  /** When each cron last started a run (any kind): the server was up then. */
  lastRunAt(cronNames: string[]): Promise<Map<string, Date>>;
  runnerId: string;
  log: Logger;
  /** Starts the catch-up run of a cron whose latest missed tick this instance claimed. */
  catchUp(cron: CronDefinition, missedTick: Date): Promise<void>;
  now?: () => number;
}

/** Records the ticks each cron missed while no server was up, then starts the catch-up runs. */
export async function recordDowntime(deps: DowntimeDeps): Promise<void> {
  const crons = deps.crons.filter((cron) => cron.enabled && deps.runsHere(cron));
  if (crons.length === 0) return;
  let lastRuns: Map<string, Date>;
  try {
    lastRuns = await deps.lastRunAt(crons.map((cron) => cron.name));
  } catch (error) {
    deps.log.warn('Could not look for ticks missed while the server was down', { error: errorText(error) });
    return;
  }
  const until = new Date((deps.now ?? Date.now)() - MISSED_GRACE_MS);
  for (const cron of crons) {
    try {
      const parsed = Schedule.parse(cron.schedule, cron.timezone);
      if (!(parsed instanceof Schedule)) continue;
      const known = [await deps.skipped.lastKnownTick(cron.name), lastRuns.get(cron.name) ?? null].filter((at): at is Date => at !== null);
      // Nothing known of this cron: nothing can be said to be missed (a new cron, or all of it pruned).
      if (known.length === 0) continue;
      const since = new Date(Math.max(...known.map((at) => at.getTime())));
      const ticks = lastTicksBetween(parsed, since, until, MAX_MISSED_PER_CRON);
      const mine = await deps.skipped.recordMissed(cron.name, ticks, deps.runnerId);
      if (mine.length === 0) continue;
      const latest = mine[mine.length - 1];
      deps.log.warn(
        `[Scheduler] ${cron.name} missed ${mine.length} tick${mine.length === 1 ? '' : 's'} while the server was down (${mine[0].toISOString()} to ${latest.toISOString()}${ticks.length === MAX_MISSED_PER_CRON ? `; the last ${MAX_MISSED_PER_CRON} are recorded` : ''})`,
      );
      // The instance that claimed the latest missed tick runs the catch-up: once, however many start.
      if (cron.catchUp === 'last' && ticks.length > 0 && latest.getTime() === ticks[ticks.length - 1].getTime() && !deps.isPaused(cron.name)) {
        await deps.catchUp(cron, latest);
      }
    } catch (error) {
      deps.log.warn(`Could not record the ticks ${cron.name} missed while the server was down`, { error: errorText(error) });
    }
  }
}
