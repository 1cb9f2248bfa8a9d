// When a run that ended is tried again, and after how long: pure, so the store-backed scheduling stays simple.
import { MANUAL_FAILURE_REASON, type ExecutionStatus } from '../../shared/api';
import type { RetryOn } from '../../shared/alerts';
import type { RetryPolicy } from './alertConfig';

/**
 * How a run ended, which the status alone does not say: `timeout` is the runner ending it at timeoutMs,
 * `operator` a cancel or mark-failed (never retried: a person chose), `interrupted` a server that stopped
 * or died under it (retried as a failure: nobody chose it).
 */
export type EndCause = 'completed' | 'failed' | 'timeout' | 'operator' | 'interrupted';

/** The end as the store records it; `byOperator` when the caller knows a person ended it. */
export interface EndedRun {
  status: ExecutionStatus;
  errorMessage: string | null;
  byOperator?: boolean;
}

// The runner's and the start-up's wording (runner.ts, executionStore.failInterrupted, app.close).
const TIMEOUT_PREFIX = 'Timeout:';
const INTERRUPTED_PREFIX = 'Interrupted:';

/** Reads how a run ended from what the store holds (another instance may have ended it). */
export function endCauseOf(run: EndedRun): EndCause | undefined {
  switch (run.status) {
    case 'running':
      return undefined;
    case 'completed':
      return 'completed';
    case 'cancelled':
      return 'operator';
    case 'failed': {
      const message = run.errorMessage ?? '';
      if (run.byOperator || message === MANUAL_FAILURE_REASON) return 'operator';
      if (message.startsWith(TIMEOUT_PREFIX)) return 'timeout';
      if (message.startsWith(INTERRUPTED_PREFIX)) return 'interrupted';
      return 'failed';
    }
  }
}

/** The `retries.on` entry an end falls under, if any. */
export function retryReason(cause: EndCause): RetryOn | undefined {
  if (cause === 'failed' || cause === 'interrupted') return 'failed';
  if (cause === 'timeout') return 'timeout';
  return undefined;
}

/** Delay before attempt `nextAttempt` (2 is the first retry): delayMs × backoff^(n-2), capped by maxDelayMs. */
export function retryDelayMs(policy: Pick<RetryPolicy, 'delayMs' | 'backoff' | 'maxDelayMs'>, nextAttempt: number): number {
  const exponent = Math.max(0, nextAttempt - 2);
  return Math.min(policy.maxDelayMs, Math.round(policy.delayMs * policy.backoff ** exponent));
}

export interface RetryPlan {
  /** The attempt number of the retry (the first run is attempt 1). */
  attempt: number;
  delayMs: number;
  reason: RetryOn;
}

/**
 * After attempt `attempt` ended with `cause`: the retry to schedule, or undefined when the chain is over
 * (success, an operator's end, an outcome the policy does not retry, or attempts used up).
 */
export function planRetry(policy: RetryPolicy | undefined, attempt: number, cause: EndCause): RetryPlan | undefined {
  if (!policy) return undefined;
  const reason = retryReason(cause);
  if (!reason || !policy.on.includes(reason)) return undefined;
  if (attempt > policy.count) return undefined;
  const next = attempt + 1;
  return { attempt: next, delayMs: retryDelayMs(policy, next), reason };
}

/**
 * Why a retry that waited may not run under the policy now in effect (a reload removed the cron's retries or
 * lowered their count below its attempt), or undefined when it may.
 */
export function retryNoLongerAllowed(policy: RetryPolicy | undefined, attempt: number): string | undefined {
  if (!policy) return 'the config no longer retries the cron';
  if (attempt > policy.count + 1) return `the config now allows ${policy.count} retr${policy.count === 1 ? 'y' : 'ies'}, and this was retry ${attempt - 1}`;
  return undefined;
}

/** The retry fields of the run that retries `ended`: every attempt points at the first one. */
export function retryLink(ended: { id: string; retryOf: string | null }, attempt: number): { attempt: number; retryOf: string } {
  return { attempt, retryOf: ended.retryOf ?? ended.id };
}
