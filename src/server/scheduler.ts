// Fires each enabled cron on its schedule (croner, in the cron's time zone) and tracks pause and next run.
import { Cron as CronJob } from 'croner';
import type { CronDefinition } from './config';
import { errorText, type Logger } from './logger';

export type TickHandler = (cron: CronDefinition, tickAt: Date) => Promise<void>;

export class Scheduler {
  private readonly jobs = new Map<string, CronJob>();
  private readonly paused: Set<string>;
  private stopped = false;
  /** nextRun() with a time zone costs ~0.5 ms (Intl); it only changes once that instant has passed. */
  private readonly nextRuns = new Map<string, Date | null>();

  constructor(
    private readonly crons: CronDefinition[],
    paused: Set<string>,
    private readonly onTick: TickHandler,
    private readonly log: Logger,
    /** Crons pinned to other runners are scheduled there, not here. */
    private readonly runsHere: (cron: CronDefinition) => boolean,
  ) {
    this.paused = new Set(paused);
  }

  start(): void {
    for (const cron of this.crons) {
      if (!cron.enabled || !this.runsHere(cron)) continue;
      const job = new CronJob(cron.schedule, { timezone: cron.timezone, paused: this.paused.has(cron.name) }, (self: CronJob) => {
        // currentRun() is the scheduled instant, the same on every instance: the tick's claim key.
        const tickAt = self.currentRun() ?? new Date();
        tickAt.setMilliseconds(0);
        this.onTick(cron, tickAt).catch((error) => this.log.error(`Scheduled run of ${cron.name} failed to start`, { error: errorText(error) }));
      });
      this.jobs.set(cron.name, job);
    }
  }

  isPaused(cronName: string): boolean {
    return this.paused.has(cronName);
  }

  setPaused(cronName: string, paused: boolean): void {
    this.nextRuns.delete(cronName);
    if (paused) this.paused.add(cronName);
    else this.paused.delete(cronName);
    const job = this.jobs.get(cronName);
    if (paused) job?.pause();
    else if (!this.stopped) job?.resume();
  }

  /** Applies the paused set the store holds (another instance may have changed it). */
  syncPaused(paused: Set<string>): void {
    for (const cron of this.crons) if (paused.has(cron.name) !== this.paused.has(cron.name)) this.setPaused(cron.name, paused.has(cron.name));
  }

  /** The next time the cron will fire here, or null when it is disabled, paused or pinned elsewhere. */
  nextRun(cron: CronDefinition): Date | null {
    if (!cron.enabled || this.paused.has(cron.name)) return null;
    const cached = this.nextRuns.get(cron.name);
    if (cached !== undefined && (cached === null || cached.getTime() > Date.now())) return cached;
    const next = this.computeNextRun(cron);
    this.nextRuns.set(cron.name, next);
    return next;
  }

  private computeNextRun(cron: CronDefinition): Date | null {
    const job = this.jobs.get(cron.name);
    if (job) return job.nextRun();
    // Pinned to another runner: still tell when it will run.
    try {
      const preview = new CronJob(cron.schedule, { timezone: cron.timezone, paused: true });
      const next = preview.nextRun();
      preview.stop();
      return next;
    } catch {
      return null;
    }
  }

  /** The soonest next run among the crons that will fire. */
  nextExecution(): { cronName: string; at: Date } | null {
    let soonest: { cronName: string; at: Date } | null = null;
    for (const cron of this.crons) {
      const at = this.nextRun(cron);
      if (at && (!soonest || at < soonest.at)) soonest = { cronName: cron.name, at };
    }
    return soonest;
  }

  stop(): void {
    this.stopped = true;
    for (const job of this.jobs.values()) job.stop();
  }
}
