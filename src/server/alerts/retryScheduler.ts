// Retries waiting for their time, kept in storage so they survive a restart and are started once across
// instances; a manual trigger of the cron during the wait cancels them (the manual run is the new attempt),
// a later success of the cron drops them (the chain is over), and one that cannot start when due is dropped
// with its chain's alert.
import type { ParamValue } from '../../shared/api';
import type { PendingRetry } from '../../shared/alerts';
import { errorText, type Logger } from '../logger';
import type { Query } from '../store/db';
import { DuePump } from './duePump';

export interface ScheduledRetry {
  cronName: string;
  /** The first attempt of the chain. */
  retryOf: string;
  attempt: number;
  params: Record<string, ParamValue>;
  dueAt: Date;
}

export interface RetryStorage {
  /**
   * Adds a retry; adding the same (retryOf, attempt) again changes nothing. `tx`: inside the transaction that
   * records the run's end, so no reader sees the end without its retry.
   */
  add(retry: ScheduledRetry, tx?: Query): Promise<boolean>;
  /**
   * Takes the due retries and moves them to `leaseUntil`, at once, so no other instance takes them; `done`
   * removes one once its run started. An instance that dies in between leaves it to come due again.
   */
  claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ScheduledRetry[]>;
  /** Removes one retry; true for the one caller (of any instance) that found it still there. */
  done(retryOf: string, attempt: number, tx?: Query): Promise<boolean>;
  /** Removes the cron's waiting retries and returns them. */
  cancel(cronName: string): Promise<ScheduledRetry[]>;
  pending(): Promise<ScheduledRetry[]>;
  /** The waiting retries of these chains (first attempts' ids). */
  ofChains(retryOf: readonly string[]): Promise<ScheduledRetry[]>;
  nextDueAt(): Promise<Date | undefined>;
}

function shown(retry: ScheduledRetry): PendingRetry {
  return { cronName: retry.cronName, retryOf: retry.retryOf, attempt: retry.attempt, dueAt: retry.dueAt.toISOString() };
}

/** The claimed retry was removed (a later success dropped it) before its run was inserted: it must not run. */
class RetryGoneError extends Error {}

/** What starting a retry came to: started, or not (the cron is running again, unknown now, ...). */
export type RetryStart = { started: true; executionId: string } | { started: false; reason: string };

export interface RetrySchedulerOptions {
  storage: RetryStorage;
  /**
   * Starts the retry's run (attempt and retryOf set); `doneWith` removes the waiting retry in the transaction
   * that inserts its run, so no reader sees the run started and its retry still waiting.
   */
  start(retry: ScheduledRetry, doneWith: (tx: Query) => Promise<void>): Promise<RetryStart>;
  /** When attempt `attempt` of the chain `retryOf` started (attempt 1 is the chain's first run), if it did. */
  attemptStartedAt(retryOf: string, attempt: number): Promise<string | undefined>;
  /** A waiting retry will not run (not a later success, not a manual trigger): the chain's alert is due now. */
  dropped?(retry: ScheduledRetry, reason: string): Promise<void>;
  /** Waiting retries of these crons went away without running: clients re-read them (crons.changed). */
  announce?(cronNames: string[]): Promise<void>;
  log: Logger;
  pollMs?: number;
  /** How long a claimed retry is held before another instance may take it (default 60 s). */
  leaseMs?: number;
  /**
   * This process alone adds retries to the storage (SQLite: one instance per file). Then a cron none of whose
   * retries was ever seen waiting (at start or added since) has none: its manual triggers and successes skip
   * the statements that look for them (two a run under figure 6's load, where no cron has retries).
   */
  soleWriter?: boolean;
}

export class RetryScheduler {
  private readonly pump: DuePump;
  /**
   * With `soleWriter`, once the waiting retries were read at start: the crons that may have some (those read
   * then, and every cron a retry was added for since; never removed, so never too few). Undefined: unknown.
   */
  private mayWait: Set<string> | undefined;
  /** The crons a retry was added for while the start-up read runs (learnWaiting). */
  private added: Set<string> | undefined;

  constructor(private readonly options: RetrySchedulerOptions) {
    this.pump = new DuePump({ what: '[Retry] Starting due retries', runDue: () => this.startDue(), nextDueAt: () => options.storage.nextDueAt(), log: options.log, pollMs: options.pollMs ?? 5_000 });
  }

  start(): void {
    this.pump.start();
    if (this.options.soleWriter) void this.learnWaiting();
  }

  private async learnWaiting(): Promise<void> {
    // Retries added while this read runs are in `added`: none is missed between the read and its use.
    this.added = new Set();
    try {
      const waiting = await this.options.storage.pending();
      this.mayWait = new Set([...waiting.map((retry) => retry.cronName), ...this.added]);
    } catch (error) {
      this.options.log.warn('[Retry] Could not read the waiting retries at start: every manual trigger and success looks for them', { error: errorText(error) });
    } finally {
      this.added = undefined;
    }
  }

  /** False only when the cron surely has no retry waiting (see `soleWriter`). */
  private mayHaveWaiting(cronName: string): boolean {
    return this.mayWait === undefined || this.mayWait.has(cronName);
  }

  stop(): Promise<void> {
    return this.pump.stop();
  }

  async schedule(retry: ScheduledRetry): Promise<void> {
    await this.record(retry);
    this.kick();
  }

  /** Stores a retry without starting the wait (inside a transaction: `kick` once it is committed). */
  async record(retry: ScheduledRetry, tx?: Query): Promise<void> {
    // Known before it is stored: a lookup that runs meanwhile does not skip it.
    this.mayWait?.add(retry.cronName);
    this.added?.add(retry.cronName);
    if (await this.options.storage.add(retry, tx)) {
      this.options.log.info(`[Retry] ${retry.cronName}: attempt ${retry.attempt} at ${retry.dueAt.toISOString()}`, { retryOf: retry.retryOf });
    }
  }

  /** A retry was stored: the wait is timed on it. */
  kick(): void {
    this.pump.kick();
  }

  /** The waiting retries of these chains (what an execution's `retry` and a cron's `pendingRetry` show). */
  async ofChains(retryOf: readonly string[]): Promise<PendingRetry[]> {
    return retryOf.length === 0 ? [] : (await this.options.storage.ofChains(retryOf)).map(shown);
  }

  /** A manual trigger ran the cron now: its waiting retries are not needed. */
  async cancel(cronName: string, why: string): Promise<ScheduledRetry[]> {
    if (!this.mayHaveWaiting(cronName)) return [];
    const cancelled = await this.options.storage.cancel(cronName);
    for (const retry of cancelled) this.options.log.info(`[Retry] ${cronName}: attempt ${retry.attempt} cancelled: ${why}`, { retryOf: retry.retryOf });
    if (cancelled.length > 0) await this.announce([cronName]);
    return cancelled;
  }

  /**
   * A run of the cron succeeded: a success ends the chain, so the retries waiting after a failed attempt that
   * started before it are removed (not run, no `failed` alert: the cron works again).
   */
  async dropBeforeSuccess(cronName: string, success: { id: string; startedAt: string }): Promise<ScheduledRetry[]> {
    const { storage, log } = this.options;
    const dropped: ScheduledRetry[] = [];
    if (!this.mayHaveWaiting(cronName)) return dropped;
    for (const retry of await storage.pending()) {
      if (retry.cronName !== cronName) continue;
      const failedAt = await this.options.attemptStartedAt(retry.retryOf, retry.attempt - 1);
      if (failedAt === undefined || Date.parse(failedAt) >= Date.parse(success.startedAt)) continue;
      if (!(await storage.done(retry.retryOf, retry.attempt))) continue;
      log.info(`[Retry] ${cronName}: attempt ${retry.attempt} dropped: a later run of ${cronName} succeeded`, { retryOf: retry.retryOf, executionId: success.id });
      dropped.push(retry);
    }
    if (dropped.length > 0) await this.announce([cronName]);
    return dropped;
  }

  private async announce(cronNames: string[]): Promise<void> {
    try {
      await this.options.announce?.(cronNames);
    } catch (error) {
      this.options.log.warn(`[Retry] Could not announce the retries of ${cronNames.join(', ')} that went away`, { error: errorText(error) });
    }
  }

  async pending(): Promise<PendingRetry[]> {
    return (await this.options.storage.pending()).map(shown);
  }

  private async startDue(): Promise<void> {
    const { storage, log } = this.options;
    for (;;) {
      const now = new Date();
      const due = await storage.claimDue(now, new Date(now.getTime() + (this.options.leaseMs ?? 60_000)), 8);
      if (due.length === 0) return;
      for (const retry of due) {
        let outcome: RetryStart;
        try {
          // The run is inserted only while its retry still waits: a success may have dropped it since the claim.
          outcome = await this.options.start(retry, async (tx) => {
            if (!(await storage.done(retry.retryOf, retry.attempt, tx))) throw new RetryGoneError();
          });
        } catch (error) {
          if (!(error instanceof RetryGoneError)) throw error;
          log.info(`[Retry] ${retry.cronName}: attempt ${retry.attempt} not started: it was dropped meanwhile`, { retryOf: retry.retryOf });
          continue;
        }
        if (outcome.started) log.info(`[Retry] ${retry.cronName}: attempt ${retry.attempt} started`, { executionId: outcome.executionId, retryOf: retry.retryOf });
        else log.warn(`[Retry] ${retry.cronName}: attempt ${retry.attempt} not started: ${outcome.reason}`, { retryOf: retry.retryOf });
        // Not started (or started without `doneWith`): it is not retried later either.
        const stillWaiting = await storage.done(retry.retryOf, retry.attempt);
        // Gone already: a later success dropped it meanwhile, and no alert is due for its chain.
        if (!outcome.started && stillWaiting) {
          // The failure's alert waited for this retry: it goes out now, and clients stop showing the retry.
          await this.options.dropped?.(retry, outcome.reason).catch((error: unknown) => log.warn(`[Retry] Could not raise the alert of ${retry.cronName}'s dropped retry`, { error: errorText(error) }));
          await this.announce([retry.cronName]);
        }
      }
    }
  }
}

/** Retries kept in this process (one instance, and tests); the store's version survives a restart. */
export class MemoryRetryStorage implements RetryStorage {
  private readonly retries = new Map<string, ScheduledRetry>();

  private static key(retryOf: string, attempt: number): string {
    return `${retryOf}#${attempt}`;
  }

  async add(retry: ScheduledRetry): Promise<boolean> {
    const key = MemoryRetryStorage.key(retry.retryOf, retry.attempt);
    if (this.retries.has(key)) return false;
    this.retries.set(key, { ...retry });
    return true;
  }

  async claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ScheduledRetry[]> {
    const due = [...this.retries.values()].filter((retry) => retry.dueAt <= now).sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime()).slice(0, limit);
    for (const retry of due) retry.dueAt = leaseUntil;
    return due.map((retry) => ({ ...retry }));
  }

  async done(retryOf: string, attempt: number): Promise<boolean> {
    return this.retries.delete(MemoryRetryStorage.key(retryOf, attempt));
  }

  async cancel(cronName: string): Promise<ScheduledRetry[]> {
    const cancelled = [...this.retries.entries()].filter(([, retry]) => retry.cronName === cronName);
    for (const [key] of cancelled) this.retries.delete(key);
    return cancelled.map(([, retry]) => retry);
  }

  async pending(): Promise<ScheduledRetry[]> {
    return [...this.retries.values()].map((retry) => ({ ...retry }));
  }

  async ofChains(retryOf: readonly string[]): Promise<ScheduledRetry[]> {
    const chains = new Set(retryOf);
    return [...this.retries.values()].filter((retry) => chains.has(retry.retryOf)).map((retry) => ({ ...retry }));
  }

  async nextDueAt(): Promise<Date | undefined> {
    let soonest: Date | undefined;
    for (const retry of this.retries.values()) if (!soonest || retry.dueAt < soonest) soonest = retry.dueAt;
    return soonest;
  }
}
