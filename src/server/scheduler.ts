// Fires each enabled cron on its schedule (schedule.ts: the same parsed schedule that is shown) and tracks
// pause and next run. Its own timers, never longer than a minute, re-read the clock: a host clock that
// jumps (NTP, a suspended VM) never silences a schedule. Crons due at the same instant share one timer and
// are handed over together. The clock is injected, so tests drive time.
import type { CronDefinition } from './config';
import { errorText, type Logger } from './logger';
import { Schedule } from './schedule';
import { markTick, tickTraceOn } from './tickTrace';

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

/** Ticks a late wake-up passes over that are counted for its log line, at most. */
const MAX_REPORTED_PASSED_OVER = 1000;

/** The longest sleep between two looks at the clock. */
export const MAX_SLEEP_MS = 60_000;
/** A clock set back by more than this is a correction, not a wobble (ISC cron's rule). */
const CORRECTION_MS = 3 * 3_600_000;

/** A tick due now, handed over with the others of its instant (onDueTicks). */
export interface DueTick {
  cron: CronDefinition;
  tickAt: Date;
}

interface Entry {
  cron: CronDefinition;
  schedule: Schedule;
  next: Date | null;
  /** The last instant fired: never fired twice, even when the clock goes back. */
  lastTick: number;
  /** When the clock should read at the next look: reading less means it was set back. */
  expectedWake: number;
  /** The wake-up it waits for (a key of Scheduler.wakeUps), if armed. */
  wakeAt?: number;
}

/** One timer for every entry that looks at the clock at the same instant. */
interface WakeUp {
  timer: unknown;
  entries: Set<Entry>;
}

export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  /**
   * Armed wake-ups by the wall-clock instant they are for. Crons due at the same instant share one timer,
   * so they are handed over together (onDueTicks) and their next runs are computed once all are: with
   * 1,000 crons, 17 due in the same second were 17 timers, each tick's work (its store writes, its launch,
   * its next run) delaying the next one's start.
   */
  private readonly wakeUps = new Map<number, WakeUp>();
  private dueTicks: ((ticks: DueTick[]) => Array<Promise<void>>) | undefined;
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
      if (entry) this.disarm(entry);
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
    this.disarm(entry);
    if (this.stopped || !entry.next) return;
    const now = this.clock.now();
    const delay = Math.max(0, Math.min(entry.next.getTime() - now, MAX_SLEEP_MS));
    const at = now + delay;
    entry.expectedWake = at;
    entry.wakeAt = at;
    const wakeUp = this.wakeUps.get(at);
    if (wakeUp) {
      wakeUp.entries.add(entry);
      return;
    }
    const entries = new Set([entry]);
    this.wakeUps.set(at, { entries, timer: this.clock.setTimer(() => this.wake(at), delay) });
  }

  private disarm(entry: Entry): void {
    if (entry.wakeAt === undefined) return;
    const wakeUp = this.wakeUps.get(entry.wakeAt);
    if (wakeUp) {
      wakeUp.entries.delete(entry);
      if (wakeUp.entries.size === 0) {
        this.clock.clearTimer(wakeUp.timer);
        this.wakeUps.delete(entry.wakeAt);
      }
    }
    entry.wakeAt = undefined;
  }

  /**
   * Every entry of the wake-up at `at`: the due ones are handed over together first, then each entry's next
   * run is computed and armed (a tick's lateness does not include the others' look-ups).
   */
  private wake(at: number): void {
    const wakeUp = this.wakeUps.get(at);
    if (!wakeUp) return;
    this.wakeUps.delete(at);
    const entries = [...wakeUp.entries];
    for (const entry of entries) entry.wakeAt = undefined;
    if (this.stopped) return;
    const now = this.clock.now();
    const due = new Map<Entry, Date>();
    for (const entry of entries) {
      const next = entry.next;
      if (tickTraceOn && next) markTick(entry.cron.name, next.getTime(), 'woke');
      // Due (or overdue after a jump forward: fired once, then on from now).
      if (next && next.getTime() <= now) due.set(entry, next);
    }
    if (due.size > 0) this.fire(due);
    for (const entry of entries) {
      const fired = due.get(entry);
      if (fired) {
        // The tick after the fired one, unless the wake-up came later than it: then on from now.
        const after = entry.schedule.nextAfter(fired);
        const passedOver = after !== null && after.getTime() <= now;
        if (passedOver) this.reportPassedOver(entry, after, fired, now);
        this.setNext(entry, passedOver ? entry.schedule.nextAfter(new Date(now)) : after);
        if (tickTraceOn) markTick(entry.cron.name, fired.getTime(), 'armed');
      } else if (now < entry.expectedWake - 1000) {
        // The clock was set back since the next run was computed: an earlier one may be due. As ISC cron does,
        // a change under 3 hours does not run again what ran; a larger one is a correction: the new time rules.
        if (entry.expectedWake - now > CORRECTION_MS) entry.lastTick = now;
        const candidate = entry.schedule.nextAfter(new Date(Math.max(now, entry.lastTick)));
        if (candidate && (!entry.next || candidate < entry.next)) this.setNext(entry, candidate);
      }
      this.arm(entry);
    }
  }

  /**
   * A wake-up later than the tick after the one it fired (the event loop held up for over a tick's interval,
   * a suspended machine, a clock set forward): the ticks in between are not fired (a run per missed second
   * would pile up), but the log names them, so they are not lost without a word.
   */
  private reportPassedOver(entry: Entry, first: Date, fired: Date, now: number): void {
    let last = first;
    let count = 1;
    for (let tick = entry.schedule.nextAfter(first); tick && tick.getTime() <= now && count < MAX_REPORTED_PASSED_OVER; tick = entry.schedule.nextAfter(tick)) {
      last = tick;
      count++;
    }
    const more = count === MAX_REPORTED_PASSED_OVER ? ' or more' : '';
    this.log.warn(
      `[Scheduler] ${entry.cron.name}: ${count}${more} tick${count === 1 && !more ? '' : 's'} from ${tickKey(first).toISOString()} to ${tickKey(last).toISOString()} not fired: the scheduler woke ${now - fired.getTime()} ms after ${tickKey(fired).toISOString()} (a machine too busy or suspended, or the clock set forward)`,
    );
  }

  /** A new next run for an entry; nextExecution's answer is dropped if this can change it. */
  private setNext(entry: Entry, next: Date | null): void {
    entry.next = next;
    const soonest = this.soonest;
    if (soonest === undefined) return;
    if (soonest?.cronName === entry.cron.name || (next && (!soonest || next < soonest.at))) this.soonest = undefined;
  }

  /** Hands the due ticks over: together to onDueTicks when set, else one by one; paused crons' are told. */
  private fire(due: Map<Entry, Date>): void {
    const ticks: DueTick[] = [];
    for (const [entry, at] of due) {
      entry.lastTick = at.getTime();
      if (this.paused.has(entry.cron.name)) this.reportPaused(entry.cron, at);
      else ticks.push({ cron: entry.cron, tickAt: tickKey(at) });
    }
    if (ticks.length === 0) return;
    if (tickTraceOn) for (const tick of ticks) markTick(tick.cron.name, tick.tickAt.getTime(), 'fired');
    let running: Array<Promise<void>>;
    if (this.dueTicks) {
      try {
        running = this.dueTicks(ticks);
      } catch (error) {
        running = ticks.map(() => Promise.reject(error));
      }
    } else {
      running = ticks.map((tick) => {
        try {
          return this.onTick(tick.cron, tick.tickAt);
        } catch (error) {
          return Promise.reject(error);
        }
      });
    }
    running.forEach((started, index) => started.catch((error) => this.log.error(`Scheduled run of ${ticks[index].cron.name} failed to start`, { error: errorText(error) })));
  }

  /**
   * Ticks due at the same instant are handed to `handler` together (one promise per tick, in their order)
   * instead of to the tick handler one by one: it can record every one before it launches any.
   */
  onDueTicks(handler: (ticks: DueTick[]) => Array<Promise<void>>): void {
    this.dueTicks = handler;
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
    for (const wakeUp of this.wakeUps.values()) this.clock.clearTimer(wakeUp.timer);
    this.wakeUps.clear();
    for (const entry of this.entries.values()) entry.wakeAt = undefined;
  }
}
