// What the API shows of the retries waiting in the store: on an ended attempt, the attempt that will follow it
// (`retry`: which, of how many, when), and on a cron, the retry it waits to run (`pendingRetry`). A retry
// that ran, that a manual trigger cancelled or that was dropped (a later success, a paused or disabled cron)
// is no longer waiting, so it shows nowhere; nor does one the cron's retries, as a reload changed them, no
// longer allow (it is dropped when due).
import type { PendingRetry } from '../../shared/alerts';
import type { Cron, Execution, NextRetry } from '../../shared/api';
import type { RetryPolicy } from './alertConfig';
import { retryNoLongerAllowed } from './retryPolicy';
import type { RetryScheduler } from './retryScheduler';

export interface RetryViewOptions {
  scheduler: Pick<RetryScheduler, 'ofChains' | 'pending'>;
  /** The crons' retry policies as now in effect (for "of N"). */
  policies: ReadonlyMap<string, RetryPolicy>;
  /** When attempt `attempt` of a chain started, if it did. */
  attemptStartedAt(retryOf: string, attempt: number): Promise<string | undefined>;
}

const chainOf = (execution: Pick<Execution, 'id' | 'retryOf'>) => execution.retryOf ?? execution.id;

export class RetryView {
  constructor(private readonly options: RetryViewOptions) {}

  /** The executions with `retry` set (null where none waits), in the order given. */
  async executions<T extends Execution>(executions: readonly T[]): Promise<T[]> {
    const ended = executions.filter((execution) => execution.status === 'failed');
    const waiting = ended.length === 0 ? [] : await this.options.scheduler.ofChains([...new Set(ended.map(chainOf))]);
    return executions.map((execution) => this.withRetry(execution, waiting));
  }

  async execution<T extends Execution>(execution: T): Promise<T> {
    return (await this.executions([execution]))[0];
  }

  /**
   * An ended run as its `execution.finished` event carries it: a retry that already started (a short delay
   * can beat the event) still follows this attempt, so the event says so, with the time it started; a client
   * must not take the attempt for the last one.
   */
  async finished<T extends Execution>(execution: T): Promise<T> {
    const shown = await this.execution(execution);
    if (shown.retry || execution.status !== 'failed') return shown;
    const next = (execution.attempt ?? 1) + 1;
    const startedAt = await this.options.attemptStartedAt(chainOf(execution), next);
    return startedAt ? { ...shown, retry: this.shown({ cronName: execution.cronName, retryOf: chainOf(execution), attempt: next, dueAt: startedAt }) } : shown;
  }

  /** The crons with `pendingRetry`, and `retry` on their last and running executions. */
  async crons(crons: readonly Cron[]): Promise<Cron[]> {
    const waiting = (await this.options.scheduler.pending()).filter((retry) => this.allowed(retry));
    return crons.map((cron) => {
      const soonest = waiting.filter((retry) => retry.cronName === cron.name).sort((a, b) => Date.parse(a.dueAt) - Date.parse(b.dueAt))[0];
      return {
        ...cron,
        lastExecution: cron.lastExecution && this.withRetry(cron.lastExecution, waiting),
        runningExecution: cron.runningExecution && this.withRetry(cron.runningExecution, waiting),
        pendingRetry: soonest ? { retryOf: soonest.retryOf, ...this.shown(soonest) } : null,
      };
    });
  }

  private withRetry<T extends Execution>(execution: T, waiting: readonly PendingRetry[]): T {
    const chain = chainOf(execution);
    const next = (execution.attempt ?? 1) + 1;
    const found = execution.status === 'failed' ? waiting.find((retry) => retry.retryOf === chain && retry.attempt === next && this.allowed(retry)) : undefined;
    return { ...execution, retry: found ? this.shown(found) : null };
  }

  private allowed(retry: PendingRetry): boolean {
    return retryNoLongerAllowed(this.options.policies.get(retry.cronName), retry.attempt) === undefined;
  }

  /** "of N" from the policy now in effect; never fewer than the attempt itself (a policy since lowered or removed). */
  private shown(retry: PendingRetry): NextRetry {
    const policy = this.options.policies.get(retry.cronName);
    return { attempt: retry.attempt, of: Math.max(retry.attempt, (policy?.count ?? 0) + 1), at: retry.dueAt };
  }
}
