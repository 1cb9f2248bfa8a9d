// What happens after a run ends, gets stuck or misses its tick: the retry its cron asks for, and the alert
// its rules ask for. Called once per transition, by the instance that recorded it; never throws at the caller.
import type { Execution } from '../../shared/api';
import type { ExecutionRetryFields } from '../../shared/alerts';
import { errorText, type Logger } from '../logger';
import type { Query } from '../store/db';
import type { RetryPolicy } from './alertConfig';
import type { Alerting } from './alerting';
import { previousChainFailed, type MissedReason, type PastRun } from './alertRules';
import { endCauseOf, planRetry, retryLink } from './retryPolicy';
import type { RetryScheduler, ScheduledRetry } from './retryScheduler';

export type RetriedExecution = Execution & ExecutionRetryFields;

export interface RunOutcomesOptions {
  retries: Map<string, RetryPolicy>;
  scheduler: RetryScheduler;
  /** Absent when the config declares no destinations. */
  alerting?: Alerting;
  /** Runs of the cron that started before `before`, newest first (for `recovered`). */
  history(cronName: string, before: string, limit: number): Promise<PastRun[]>;
  /** Attempt `attempt` of the chain `retryOf` as stored, if it ran (the failed attempt of a dropped retry). */
  attempt(retryOf: string, attempt: number): Promise<RetriedExecution | undefined>;
  log: Logger;
}

const HISTORY_LOOKBACK = 50;

export class RunOutcomes {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: RunOutcomesOptions) {}

  /** Resolves once the transitions reported so far are planned (before the store closes). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /**
   * Inside the transaction that writes a run's end: stores the retry its cron asks for, so whoever reads the
   * end (an event, a reply, another instance) reads that a retry is waiting. True when one was stored; pass
   * it to `ended` once committed. Unlike the rest, this throws: the end is rolled back and written again with it.
   */
  async retryOnEnd(tx: Query, execution: RetriedExecution, byOperator = false): Promise<boolean> {
    const retry = this.retryAfter(execution, byOperator);
    if (!retry) return false;
    await this.options.scheduler.record(retry, tx);
    return true;
  }

  /**
   * A run reached its terminal status; `byOperator` when a person cancelled it or marked it failed.
   * `retryStored`: what `retryOnEnd` did in the end's transaction; absent, the retry is planned here.
   */
  ended(execution: RetriedExecution, byOperator = false, retryStored?: boolean): Promise<void> {
    const work = this.plan(execution, byOperator, retryStored);
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
    return work;
  }

  /** The retry the cron's policy asks for after this end, if any. */
  private retryAfter(execution: RetriedExecution, byOperator: boolean): ScheduledRetry | undefined {
    const cause = endCauseOf({ status: execution.status, errorMessage: execution.errorMessage, byOperator });
    const plan = cause && planRetry(this.options.retries.get(execution.cronName), execution.attempt, cause);
    if (!plan) return undefined;
    return { cronName: execution.cronName, ...retryLink(execution, plan.attempt), params: execution.params, dueAt: new Date(Date.now() + plan.delayMs) };
  }

  private async plan(execution: RetriedExecution, byOperator: boolean, retryStored: boolean | undefined): Promise<void> {
    const { log } = this.options;
    try {
      const cause = endCauseOf({ status: execution.status, errorMessage: execution.errorMessage, byOperator });
      if (!cause) return;
      // A success ends the chain: retries still waiting after an earlier failure are not needed.
      if (cause === 'completed') {
        await this.options.scheduler.dropBeforeSuccess(execution.cronName, execution).catch((error: unknown) => log.warn(`[Retry] Could not drop the retries ${execution.cronName}'s success ends`, { error: errorText(error) }));
      }
      let retryPending = retryStored ?? false;
      if (retryStored === undefined) {
        const retry = this.retryAfter(execution, byOperator);
        if (retry) await this.options.scheduler.schedule(retry);
        retryPending = retry !== undefined;
      } else if (retryStored) {
        // Committed now: the wait is timed on it.
        this.options.scheduler.kick();
      }
      const alerting = this.options.alerting;
      if (!alerting) return;
      const failedBefore = cause === 'completed' && previousChainFailed(execution, await this.options.history(execution.cronName, execution.startedAt, HISTORY_LOOKBACK));
      alerting.raise({ kind: 'ended', execution, cause, retryPending, previousChainFailed: failedBefore }, `ended:${execution.id}`);
    } catch (error) {
      log.error(`Could not plan the retry or alert after ${execution.cronName} ended`, { executionId: execution.id, error: errorText(error) });
    }
  }

  /** A run past its timeout that this server cannot end; announced once per run across instances. */
  stuck(execution: RetriedExecution, timeoutMs: number): void {
    this.options.alerting?.raise({ kind: 'stuck', execution, timeoutMs }, `stuck:${execution.id}`);
  }

  /**
   * A tick that did not run; announced once across instances. Ticks skipped behind one long run are one
   * alert (its first tick), so a per-second cron stuck behind a slow run does not send one a second.
   */
  missed(cronName: string, tickAt: Date, reason: MissedReason, details: { runningExecutionId?: string; laterTicks?: number } = {}): void {
    const key = details.runningExecutionId ? `missed:${cronName}:behind:${details.runningExecutionId}` : `missed:${cronName}:${tickAt.toISOString()}`;
    this.options.alerting?.raise({ kind: 'missed', cronName, tickAt, reason, ...details }, key);
  }

  /** A retry was dropped without running (not by a success or a manual trigger): its chain's alert goes out now. */
  async retryDropped(retry: ScheduledRetry, reason: string): Promise<void> {
    const alerting = this.options.alerting;
    if (!alerting) return;
    const failed = await this.options.attempt(retry.retryOf, retry.attempt - 1);
    if (!failed) return;
    alerting.raise({ kind: 'retryDropped', execution: failed, nextAttempt: retry.attempt, reason }, `retryDropped:${retry.retryOf}:${retry.attempt}`);
  }

  /** A manual run started: it replaces the retries the cron was waiting for. */
  async manualRunStarted(cronName: string, executionId: string): Promise<void> {
    try {
      await this.options.scheduler.cancel(cronName, `manual run ${executionId} started`);
    } catch (error) {
      this.options.log.warn(`Could not cancel the waiting retries of ${cronName}`, { error: errorText(error) });
    }
  }
}
