// Ticks a schedule expected in a window when no server ran them (all instances down): one `missed` alert per cron.
import { Cron as CronJob } from 'croner';

export interface MissedTicks {
  first: Date;
  /** Ticks after the first one, up to the scan limit. */
  later: number;
}

/**
 * The ticks of `schedule` strictly after `after` and strictly before `before` (the first tick this start
 * will run itself). Stops counting at `limit` so a long outage of a per-second cron stays cheap.
 */
export function missedTicks(schedule: string, timezone: string, after: Date, before: Date, limit = 1000): MissedTicks | undefined {
  const job = new CronJob(schedule, { timezone, paused: true });
  try {
    const first = job.nextRun(after);
    if (!first || first >= before) return undefined;
    let later = 0;
    let at: Date | null = first;
    while (later < limit) {
      at = job.nextRun(at);
      if (!at || at >= before) break;
      later++;
    }
    return { first, later };
  } finally {
    job.stop();
  }
}
