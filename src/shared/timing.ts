// A run's duration and a cron's next run, defined once: the tree, the status bar, the dashboard's table,
// KPIs and Latest runs all read them from here, so two views never disagree on one fact.
import { Cron as CronSchedule } from 'croner';
import type { Cron, Execution } from './api';

/** How long a run took, or for a running one how long it has been running; undefined when unknown. */
export function runDurationMs(execution: Pick<Execution, 'status' | 'startedAt' | 'completedAt' | 'durationMs'>, now: number): number | undefined {
  const started = Date.parse(execution.startedAt);
  if (execution.status === 'running') return Number.isFinite(started) ? Math.max(0, now - started) : undefined;
  if (execution.durationMs !== null) return execution.durationMs;
  const completed = execution.completedAt ? Date.parse(execution.completedAt) : NaN;
  return Number.isFinite(started) && Number.isFinite(completed) ? Math.max(0, completed - started) : undefined;
}

const schedules = new Map<string, CronSchedule | null>();

function schedule(expression: string, timezone: string): CronSchedule | null {
  const key = `${expression}|${timezone}`;
  let found = schedules.get(key);
  if (found === undefined) {
    try {
      found = new CronSchedule(expression, { timezone, paused: true });
    } catch {
      found = null;
    }
    schedules.set(key, found);
  }
  return found;
}

/** The schedule's next tick after `now`; undefined when this runtime cannot compute it (an unknown time zone throws here, not in the constructor). */
function scheduledAfter(expression: string, timezone: string, now: number): number | undefined {
  try {
    return schedule(expression, timezone)?.nextRun(new Date(now))?.getTime();
  } catch {
    // Render paths must never throw: the caller falls back to the server's nextRunAt.
    schedules.set(`${expression}|${timezone}`, null);
    return undefined;
  }
}

/**
 * When a cron next runs on its schedule (ms), after `now`; undefined when paused, disabled or unknown. The
 * server's `nextRunAt` is used while it is ahead; once it has passed, the schedule gives the following tick at
 * once (the server's next reply will agree) rather than showing "now" until the reply comes.
 */
export function nextRunAt(cron: Pick<Cron, 'paused' | 'enabled' | 'nextRunAt' | 'schedule' | 'timezone'>, now: number): number | undefined {
  if (cron.paused || !cron.enabled) return undefined;
  const given = cron.nextRunAt ? Date.parse(cron.nextRunAt) : NaN;
  if (Number.isFinite(given) && given > now) return given;
  const next = scheduledAfter(cron.schedule, cron.timezone, now);
  if (next !== undefined) return next;
  return Number.isFinite(given) ? given : undefined;
}

/** The soonest scheduled run among crons (paused and disabled ones skipped). */
export function nextScheduledRun(crons: readonly Cron[], now: number): { cronName: string; at: number } | undefined {
  let best: { cronName: string; at: number } | undefined;
  for (const cron of crons) {
    const at = nextRunAt(cron, now);
    if (at !== undefined && (!best || at < best.at)) best = { cronName: cron.name, at };
  }
  return best;
}

/** When a manual trigger of this cron will be accepted again (ms), if the rate limits refuse it now. */
export function manualTriggerBlockedUntil(cron: Pick<Cron, 'manualTriggerAvailableAt'>, now: number): number | undefined {
  const at = cron.manualTriggerAvailableAt ? Date.parse(cron.manualTriggerAvailableAt) : NaN;
  return Number.isFinite(at) && at > now ? at : undefined;
}
