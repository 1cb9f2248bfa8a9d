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

/** Schedule steps (each a look at the time zone's clock) one cron's look-up may take at most. */
const STEP_BUDGET = 5_000;

/**
 * The last `max` ticks of `schedule` in (since, until], oldest first, without walking every tick since: a
 * window back from `until`, first as wide as `max` gaps of the schedule, grows until it holds `max` ticks
 * or reaches `since`, and is narrowed (bisection) when it holds too many to walk (a schedule dense in one
 * month of a long downtime). Past STEP_BUDGET steps it answers with what it has: the start stays quick.
 */
export function lastTicksBetween(schedule: Schedule, since: Date, until: Date, max: number): Date[] {
  if (max <= 0 || until <= since) return [];
  let steps = 0;
  const next = (after: Date) => {
    steps++;
    return schedule.nextAfter(after);
  };
  const cap = Math.max(2 * max, 50);
  const first = next(until);
  const second = first && next(first);
  let windowMs = first && second ? (max + 1) * (second.getTime() - first.getTime()) : (max + 1) * 1000;
  let tooFew = 0;
  let tooMany = Infinity;
  let latest: Date[] = [];
  while (steps < STEP_BUDGET) {
    const from = Math.max(since.getTime(), until.getTime() - windowMs);
    const ticks: Date[] = [];
    let count = 0;
    let tick = next(new Date(from));
    for (; tick && tick <= until && count <= cap && steps < STEP_BUDGET; tick = next(tick)) {
      ticks.push(tickKey(tick));
      count++;
      if (ticks.length > max) ticks.shift();
    }
    const walked = !tick || tick > until;
    if (count > cap) tooMany = windowMs;
    else if (!walked) break; // out of budget midway: these are not the latest ticks
    else {
      latest = ticks;
      if (ticks.length >= max || from === since.getTime()) return ticks;
      tooFew = windowMs;
    }
    const wider = tooMany === Infinity ? windowMs * 8 : Math.floor((tooFew + tooMany) / 2);
    if (Math.abs(wider - windowMs) < 1000) break;
    windowMs = wider;
  }
  return latest;
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
    // Each cron's look-up is a moment of CPU: requests are served between them.
    await new Promise((resolveLater) => setImmediate(resolveLater));
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
