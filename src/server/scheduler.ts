// Fires each enabled cron on its schedule (schedule.ts: the same parsed schedule that is shown) and tracks
// pause and next run. Its own timers, never longer than a minute, re-read the clock: a host clock that
// jumps (NTP, a suspended VM) never silences a schedule. The clock is injected, so tests drive time.
import type { CronDefinition } from './config';
import { errorText, type Logger } from './logger';
import { Schedule } from './schedule';

export type TickHandler = (cron: CronDefinition, tickAt: Date) => Promise<void>;

export interface Clock {
  now(): number;
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (callback, ms) => setTimeout(callback, ms),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The scheduled instant on a whole second, the same on every instance: the tick's claim key. */
export function tickKey(at: Date): Date {
  return new Date(Math.floor(at.getTime() / 1000) * 1000);
}

/** The longest sleep between two looks at the clock. */
export const MAX_SLEEP_MS = 60_000;
/** A clock set back by more than this is a correction, not a wobble (ISC cron's rule). */
const CORRECTION_MS = 3 * 3_600_000;

interface Entry {
  cron: CronDefinition;
  schedule: Schedule;
  next: Date | null;
  /** The last instant fired: never fired twice, even when the clock goes back. */
  lastTick: number;
  /** When the clock should read at the next look: reading less means it was set back. */
  expectedWake: number;
  timer?: unknown;
}

export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly paused: Set<string>;
  private readonly schedules = new Map<string, Schedule | null>();
  private stopped = false;
  /** Set by start(): definitions replaced before it are only remembered. */
  private started = false;
  private pausedTick: TickHandler | undefined;
  /** Next runs of crons that run elsewhere (pinned), recomputed once passed. */
  private readonly previews = new Map<string, Date | null>();
  /**
   * nextExecution's answer, kept until a next run changes in a way that can change it (undefined: to
   * compute). The KPIs ask it after every change of a run, many times a second with 1,000 crons: a walk over
   * every cron each time cost 3 % of the server's main thread on figure 5's load.
   */
  private soonest: { cronName: string; at: Date } | null | undefined;

  constructor(
    private crons: CronDefinition[],
    paused: Set<string>,
    private readonly onTick: TickHandler,
    private readonly log: Logger,
    /** Crons pinned to other runners are scheduled there, not here. */
    private readonly runsHere: (cron: CronDefinition) => boolean,
    private readonly clock: Clock = systemClock,
  ) {
    this.paused = new Set(paused);
  }

  private scheduleOf(cron: CronDefinition): Schedule | null {
    let schedule = this.schedules.get(cron.name);
    if (schedule === undefined) {
      const parsed = Schedule.parse(cron.schedule, cron.timezone, new Date(this.clock.now()));
      schedule = parsed instanceof Schedule ? parsed : null;
      if (!schedule) this.log.error(`Cron ${cron.name} has a schedule that cannot run: ${(parsed as { message: string }).message}`);
      this.schedules.set(cron.name, schedule);
    }
    return schedule;
  }

  /**
   * Fires each cron's ticks strictly after `from` (default now): the start instant, up to which the ticks
   * missed while down are recorded (downtimeTicks.ts), so none falls between the two.
   */
  start(from?: number): void {
    this.stopped = false;
    this.started = true;
    this.soonest = undefined;
    for (const cron of this.crons) this.add(cron, from);
  }

  private add(cron: CronDefinition, from?: number): void {
    if (!cron.enabled || !this.runsHere(cron)) return;
    const schedule = this.scheduleOf(cron);
    if (!schedule) return;
    const now = from ?? this.clock.now();
    const entry: Entry = { cron, schedule, next: schedule.nextAfter(new Date(now)), lastTick: now, expectedWake: now };
    this.entries.set(cron.name, entry);
    this.soonest = undefined;
    this.arm(entry);
  }

  /**
   * New definitions (a reload of the file): a removed cron stops firing, a changed one (any field differs)
   * is scheduled afresh from now, an added one from now; the others keep their timers. A tick already
   * fired keeps the definition it fired with. Paused names are kept as they are.
   */
  replace(crons: CronDefinition[]): void {
    const next = new Map(crons.map((cron) => [cron.name, cron]));
    for (const old of this.crons) {
      const kept = next.get(old.name);
      if (kept && JSON.stringify(kept) === JSON.stringify(old)) continue;
      const entry = this.entries.get(old.name);
      if (entry?.timer !== undefined) this.clock.clearTimer(entry.timer);
      this.entries.delete(old.name);
      this.schedules.delete(old.name);
      this.previews.delete(old.name);
    }
    this.crons = crons;
    this.soonest = undefined;
    if (!this.started || this.stopped) return;
    // Unchanged crons still hold their entry; changed and added ones (and disabled ones, a no-op) get one now.
    for (const cron of crons) if (!this.entries.has(cron.name)) this.add(cron);
  }

  private arm(entry: Entry): void {
    if (entry.timer !== undefined) this.clock.clearTimer(entry.timer);
    entry.timer = undefined;
    if (this.stopped || !entry.next) return;
    const now = this.clock.now();
    const delay = Math.max(0, Math.min(entry.next.getTime() - now, MAX_SLEEP_MS));
    entry.expectedWake = now + delay;
    entry.timer = this.clock.setTimer(() => this.wake(entry), delay);
  }

  private wake(entry: Entry): void {
    entry.timer = undefined;
    if (this.stopped) return;
    const now = this.clock.now();
    const due = entry.next;
    if (due && due.getTime() <= now) {
      // Due (or overdue after a jump forward: fired once, then on from now).
      entry.lastTick = due.getTime();
      // Fired before its next run is computed: the tick's lateness does not include that look-up.
      if (!this.paused.has(entry.cron.name)) this.fire(entry.cron, due);
      else this.reportPaused(entry.cron, due);
      this.setNext(entry, entry.schedule.nextAfter(new Date(Math.max(now, due.getTime()))));
    } else if (now < entry.expectedWake - 1000) {
      // The clock was set back since the next run was computed: an earlier one may be due. As ISC cron does,
      // a change under 3 hours does not run again what ran; a larger one is a correction: the new time rules.
      if (entry.expectedWake - now > CORRECTION_MS) entry.lastTick = now;
      const candidate = entry.schedule.nextAfter(new Date(Math.max(now, entry.lastTick)));
      if (candidate && (!due || candidate < due)) this.setNext(entry, candidate);
    }
    this.arm(entry);
  }

  /** A new next run for an entry; nextExecution's answer is dropped if this can change it. */
  private setNext(entry: Entry, next: Date | null): void {
    entry.next = next;
    const soonest = this.soonest;
    if (soonest === undefined) return;
    if (soonest?.cronName === entry.cron.name || (next && (!soonest || next < soonest.at))) this.soonest = undefined;
  }

  private fire(cron: CronDefinition, at: Date): void {
    const tickAt = tickKey(at);
    let running: Promise<void>;
    try {
      running = this.onTick(cron, tickAt);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.catch((error) => this.log.error(`Scheduled run of ${cron.name} failed to start`, { error: errorText(error) }));
  }

  /** A tick of a paused cron is not run, but told (it is recorded as skipped). */
  onPausedTick(handler: TickHandler): void {
    this.pausedTick = handler;
  }

  private reportPaused(cron: CronDefinition, at: Date): void {
    const handler = this.pausedTick;
    if (!handler) return;
    const tickAt = tickKey(at);
    Promise.resolve()
      .then(() => handler(cron, tickAt))
      .catch((error) => this.log.warn(`The paused tick of ${cron.name} at ${tickAt.toISOString()} was not recorded`, { error: errorText(error) }));
  }

  isPaused(cronName: string): boolean {
    return this.paused.has(cronName);
  }

  setPaused(cronName: string, paused: boolean): void {
    if (paused) this.paused.add(cronName);
    else this.paused.delete(cronName);
    this.soonest = undefined;
    const entry = this.entries.get(cronName);
    if (!paused && entry) {
      // Resumed: from now on, not a tick missed while paused.
      const now = this.clock.now();
      entry.next = entry.schedule.nextAfter(new Date(Math.max(now, entry.lastTick)));
      this.arm(entry);
    }
  }

  /** Applies the paused set the store holds (another instance may have changed it). */
  syncPaused(paused: Set<string>): void {
    for (const cron of this.crons) if (paused.has(cron.name) !== this.paused.has(cron.name)) this.setPaused(cron.name, paused.has(cron.name));
  }

  /** The next time the cron will fire, or null when it is disabled or paused. */
  nextRun(cron: CronDefinition): Date | null {
    if (!cron.enabled || this.paused.has(cron.name)) return null;
    const entry = this.entries.get(cron.name);
    if (entry) return entry.next;
    // Not scheduled here (pinned to another runner, or not started yet): still tell when it will run.
    const now = this.clock.now();
    const cached = this.previews.get(cron.name);
    if (cached !== undefined && (cached === null || cached.getTime() > now)) return cached;
    const next = this.scheduleOf(cron)?.nextAfter(new Date(now)) ?? null;
    this.previews.set(cron.name, next);
    return next;
  }

  /** The soonest next run among the crons that will fire. */
  nextExecution(): { cronName: string; at: Date } | null {
    // A kept answer that has passed is computed again: a pinned cron's preview moves on only when asked.
    const kept = this.soonest;
    if (kept !== undefined && (kept === null || kept.at.getTime() > this.clock.now())) return kept;
    let soonest: { cronName: string; at: Date } | null = null;
    for (const cron of this.crons) {
      const at = this.nextRun(cron);
      if (at && (!soonest || at < soonest.at)) soonest = { cronName: cron.name, at };
    }
    this.soonest = soonest;
    return soonest;
  }

  /** Started and not stopped: the server is scheduling (a catch-up waiting for a run gives up once not). */
  get active(): boolean {
    return this.started && !this.stopped;
  }

  stop(): void {
    this.stopped = true;
    this.soonest = undefined;
    for (const entry of this.entries.values()) {
      if (entry.timer !== undefined) this.clock.clearTimer(entry.timer);
      entry.timer = undefined;
    }
  }
}
