// Ticks missed while no server was up, found at start: for each cron this instance schedules, the ticks
// between the last time the server was known up for it (its last run, claimed or skipped tick, or this
// runner's last heartbeat) and the instant its scheduler starts from. They are recorded as skipped
// (server-down), the last MAX_MISSED_PER_CRON of them only, so a month down does not write millions of
// rows; a cron with `catchUp: "last"` then runs once per downtime: the catch-up run's id is derived from
// when the server was last up before the downtime (SkippedTickStore.lastUpBefore), a time every instance
// reads alike whatever its own start instant, so the store's primary key lets one instance insert it.
import { createHash } from 'node:crypto';
import type { CronDefinition } from './config';
import { errorText, type Logger } from './logger';
import { Schedule } from './schedule';
import { tickKey } from './scheduler';
import type { SkippedTickStore } from './store/skippedTickStore';

/** Missed ticks recorded per cron at most (the newest). */
export const MAX_MISSED_PER_CRON = 100;
/**
 * When another instance is up, ticks this recent are left to its scheduler: it claims a tick the moment it
 * is due, so one older than this and still unclaimed was missed. With no other instance up, every tick up
 * to the start is looked at.
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
  /**
   * When this runner was last seen up (its heartbeat before this start), null if the store has no record of
   * it: no tick before it was missed, whatever the schedule now says (a schedule changed while stopped is
   * not applied to a time the server was up).
   */
  lastUpAt: Date | null;
  /**
   * Starts the scheduler and returns the instant it fires ticks strictly after: the downtime is every tick
   * up to and including it, so a tick during the start is a run or a skipped tick, never neither.
   */
  startScheduler(): Date;
  /**
   * Whether another instance may be scheduling these crons now: its scheduler claims a tick the moment it is
   * due, so the last MISSED_GRACE_MS before the start are left to it.
   */
  peersAlive(): Promise<boolean>;
  runnerId: string;
  log: Logger;
  /**
   * Starts the catch-up run of a cron that missed ticks while down, under the id of its downtime
   * (catchUpExecutionId): the instance that inserts it first runs it, the others find it there.
   */
  catchUp(cron: CronDefinition, missedTick: Date, downtimeAfter: Date): Promise<void>;
}

/** The key of a downtime nothing before it is known of (all of it pruned, or only missed ticks): one. */
const NOTHING_KNOWN = new Date(0);

/**
 * The id of the one catch-up run of a cron's downtime, named by when the server was last up before it: a
 * UUID (version 8, from SHA-256) every instance computes alike, so the store's primary key on executions
 * admits one whichever instances start, and a restart that finds the same downtime finds it run.
 */
export function catchUpExecutionId(cronName: string, downtimeAfter: Date): string {
  const bytes = createHash('sha256').update(`cron-ops catch-up\n${cronName}\n${downtimeAfter.toISOString()}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Starts the scheduler (startScheduler) and records the ticks each cron missed while no server was up, then
 * starts the catch-up runs. What is known of each cron is read before the scheduler starts: its own claims
 * from then on are not mistaken for the last tick before the downtime.
 */
export async function recordDowntime(deps: DowntimeDeps): Promise<void> {
  const crons = deps.crons.filter((cron) => cron.enabled && deps.runsHere(cron));
  let since: Map<string, Date>;
  let graceMs = MISSED_GRACE_MS;
  try {
    since = await lowerBounds(deps, crons);
    graceMs = (await deps.peersAlive()) ? MISSED_GRACE_MS : 0;
  } catch (error) {
    deps.startScheduler();
    deps.log.warn('Could not look for ticks missed while the server was down', { error: errorText(error) });
    return;
  }
  const until = new Date(deps.startScheduler().getTime() - graceMs);
  for (const cron of crons) {
    // Each cron's look-up is a moment of CPU: requests are served between them.
    await new Promise((resolveLater) => setImmediate(resolveLater));
    try {
      const parsed = Schedule.parse(cron.schedule, cron.timezone);
      const from = since.get(cron.name);
      // Nothing known of this cron: nothing can be said to be missed (a new cron, or all of it pruned).
      if (!(parsed instanceof Schedule) || !from) continue;
      const ticks = lastTicksBetween(parsed, from, until, MAX_MISSED_PER_CRON);
      const mine = await deps.skipped.recordMissed(cron.name, ticks, deps.runnerId);
      if (mine.length === 0) continue;
      const latest = mine[mine.length - 1];
      deps.log.warn(
        `[Scheduler] ${cron.name} missed ${mine.length} tick${mine.length === 1 ? '' : 's'} while the server was down (${mine[0].toISOString()} to ${latest.toISOString()}${ticks.length === MAX_MISSED_PER_CRON ? `; the last ${MAX_MISSED_PER_CRON} are recorded` : ''})`,
      );
      // Every instance that recorded ticks of the downtime names its catch-up alike (the missed ticks, each
      // instance's own share of them, are not proof the server was up): the first to insert it runs it.
      if (cron.catchUp === 'last' && !deps.isPaused(cron.name)) {
        const downtimeAfter = (await deps.skipped.lastUpBefore(cron.name, mine[0])) ?? NOTHING_KNOWN;
        await deps.catchUp(cron, latest, downtimeAfter);
      }
    } catch (error) {
      deps.log.warn(`Could not record the ticks ${cron.name} missed while the server was down`, { error: errorText(error) });
    }
  }
}

/**
 * For each cron, when the server was last known up for it: its last tick (run, claimed or skipped), its last
 * run, and this runner's last heartbeat, the latest of them. A cron with no tick and no run has none: it is
 * new (or all of it pruned), nothing of it can be said to be missed.
 */
async function lowerBounds(deps: DowntimeDeps, crons: readonly CronDefinition[]): Promise<Map<string, Date>> {
  const bounds = new Map<string, Date>();
  if (crons.length === 0) return bounds;
  const lastRuns = await deps.lastRunAt(crons.map((cron) => cron.name));
  for (const cron of crons) {
    const known = [await deps.skipped.lastKnownTick(cron.name), lastRuns.get(cron.name) ?? null].filter((at): at is Date => at !== null);
    if (known.length === 0) continue;
    if (deps.lastUpAt) known.push(deps.lastUpAt);
    bounds.set(cron.name, new Date(Math.max(...known.map((at) => at.getTime()))));
  }
  return bounds;
}
