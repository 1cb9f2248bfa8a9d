// Which finished runs this window tells its user about, under `cronOps.notify`, and how a retry reads. Pure:
// unit tests check it without VS Code.
import { MANUAL_FAILURE_REASON, type Execution } from '../shared/api';
export { attemptNote } from './format';

export const NOTIFY_MODES = ['mine', 'failures', 'all', 'off'] as const;
/** mine: the runs triggered from this window; failures: those and every failure; all: every end; off: none. */
export type NotifyMode = (typeof NOTIFY_MODES)[number];

/** A run is mine when this window triggered it, or when it retries one this window triggered. */
export function isMine(execution: Pick<Execution, 'id' | 'retryOf'>, startedHere: ReadonlySet<string>): boolean {
  return startedHere.has(execution.id) || (!!execution.retryOf && startedHere.has(execution.retryOf));
}

/**
 * A failure worth someone's attention: status failed, unless a person marked it so (they know already; the
 * server's alerts skip it too). A timeout and a server that died under the run are failures.
 */
export function isFailure(execution: Pick<Execution, 'status' | 'errorMessage'>): boolean {
  return execution.status === 'failed' && execution.errorMessage !== MANUAL_FAILURE_REASON;
}

/**
 * A failure that ends its chain: a failed attempt the server will retry is not one yet (the status bar's
 * unseen count and `failures` wait for the last attempt, as the server's alerts do).
 */
export function isFinalFailure(execution: Pick<Execution, 'status' | 'errorMessage' | 'retry'>): boolean {
  return isFailure(execution) && !execution.retry;
}

/**
 * Whether the end of `execution` is announced under `mode`; `mine` as isMine says. Under `failures`, someone
 * else's failed attempt that will be retried stays quiet until the last attempt fails (or never, if a retry
 * succeeds); the one who triggered it hears of each attempt.
 */
export function shouldNotify(execution: Pick<Execution, 'status' | 'errorMessage' | 'retry'>, mode: NotifyMode, mine: boolean): boolean {
  if (execution.status === 'running') return false;
  switch (mode) {
    case 'off':
      return false;
    case 'all':
      return true;
    case 'failures':
      return mine || isFinalFailure(execution);
    case 'mine':
      return mine;
  }
}

/** The setting's value, or the default for anything else (a typo in settings.json). */
export function parseNotifyMode(value: unknown): NotifyMode {
  return (NOTIFY_MODES as readonly unknown[]).includes(value) ? (value as NotifyMode) : 'mine';
}

/** The chain a run belongs to: the first attempt's id. */
export function chainOf(execution: Pick<Execution, 'id' | 'retryOf'>): string {
  return execution.retryOf ?? execution.id;
}

/**
 * Failures not looked at yet, one per retry chain (a failed retry replaces its chain's earlier failure).
 * Opening the dashboard clears them all; Show Logs of a run clears its chain.
 */
export class UnseenFailures {
  private readonly byChain = new Map<string, string>();

  get count(): number {
    return this.byChain.size;
  }

  /** Records a failure; false when nothing changed. */
  add(execution: Pick<Execution, 'id' | 'retryOf'>): boolean {
    const chain = chainOf(execution);
    if (this.byChain.get(chain) === execution.id) return false;
    this.byChain.set(chain, execution.id);
    return true;
  }

  /** Show Logs of `executionId`: its chain counts as seen; false when it was not unseen. */
  seen(executionId: string): boolean {
    for (const [chain, id] of this.byChain) {
      if (chain === executionId || id === executionId) return this.byChain.delete(chain);
    }
    return false;
  }

  /** The dashboard was opened: everything counts as seen; false when nothing was unseen. */
  clear(): boolean {
    if (this.byChain.size === 0) return false;
    this.byChain.clear();
    return true;
  }
}
