// The two transitions nobody reports: a run that outlived its timeout where no runner can end it (stuck),
// and ticks that passed while no server ran (missed). Checked periodically and at start.
import type { MissedTicks } from './missedTicks';
import { missedTicks } from './missedTicks';
import type { RetriedExecution } from './runOutcomes';

/** The running executions to announce as stuck: past their timeout, and not a process this server will end. */
export function stuckToAnnounce(running: RetriedExecution[], isLocalRun: (id: string) => boolean): RetriedExecution[] {
  return running.filter((execution) => execution.status === 'running' && execution.stuck && !isLocalRun(execution.id));
}

export interface ScheduledCron {
  name: string;
  schedule: string;
  timezone: string;
  enabled: boolean;
}

/**
 * At start: per cron, the ticks after the last one any instance claimed and before `now` (nobody ran them).
 * A cron that never ran here, or is disabled or paused now, has nothing to announce.
 */
export function missedWhileDown(crons: ScheduledCron[], lastTicks: Map<string, Date>, paused: Set<string>, now: Date): Array<{ cronName: string; missed: MissedTicks }> {
  const found: Array<{ cronName: string; missed: MissedTicks }> = [];
  for (const cron of crons) {
    const last = lastTicks.get(cron.name);
    if (!cron.enabled || paused.has(cron.name) || !last) continue;
    try {
      const missed = missedTicks(cron.schedule, cron.timezone, last, now);
      if (missed) found.push({ cronName: cron.name, missed });
    } catch {
      // A schedule croner rejects was reported by the config check.
    }
  }
  return found;
}
