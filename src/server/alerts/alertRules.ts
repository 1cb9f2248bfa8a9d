// Which execution transitions raise which alert, to which destinations, saying what: pure, tested on its own.
import type { Execution } from '../../shared/api';
import type { AlertEvent, AlertMessage } from '../../shared/alerts';
import { formatDuration } from '../../shared/format';
import type { AlertRule } from './alertConfig';
import { endCauseOf, type EndCause } from './retryPolicy';

/** The execution fields an alert reads (an Execution with its retry fields). */
export type AlertExecution = Pick<Execution, 'id' | 'cronName' | 'status' | 'errorMessage' | 'startedAt' | 'durationMs'> & {
  attempt: number;
  retryOf: string | null;
};

export type Transition =
  /** A run reached its terminal status; `retryPending` when a retry of it was scheduled. */
  | { kind: 'ended'; execution: AlertExecution; cause: EndCause; retryPending: boolean; previousChainFailed: boolean }
  /** A run went past its timeout and this server cannot end it (external, or left by a runner that died). */
  | { kind: 'stuck'; execution: AlertExecution; timeoutMs: number }
  /**
   * The retry waiting after this failed attempt will not run (paused, disabled, removed, another run took its
   * place): the alert its failure held back is due now, saying why.
   */
  | { kind: 'retryDropped'; execution: AlertExecution; nextAttempt: number; reason: string }
  /** A scheduled tick that did not run. */
  | { kind: 'missed'; cronName: string; tickAt: Date; reason: MissedReason; runningExecutionId?: string; laterTicks?: number };

export type MissedReason = 'stillRunning' | 'serverDown';

/** The alert a transition raises, if any. A failure that will be retried stays quiet until the last attempt. */
export function alertEventFor(transition: Transition): AlertEvent | undefined {
  switch (transition.kind) {
    case 'stuck':
      return 'stuck';
    case 'missed':
      return 'missed';
    case 'retryDropped':
      return endCauseOf(transition.execution) === 'timeout' ? 'timeout' : 'failed';
    case 'ended':
      switch (transition.cause) {
        case 'completed':
          return transition.previousChainFailed ? 'recovered' : undefined;
        case 'failed':
        case 'interrupted':
          return transition.retryPending ? undefined : 'failed';
        case 'timeout':
          return transition.retryPending ? undefined : 'timeout';
        case 'operator':
          // A person cancelled or marked it failed: they know already.
          return undefined;
      }
  }
}

/** A past run of the cron, newest first, as `previousChainFailed` reads it. */
export type PastRun = Pick<AlertExecution, 'id' | 'status' | 'errorMessage' | 'retryOf'>;

/**
 * Whether the cron's last retry chain before `current` ended in failure: recovered means the first success
 * after failures. Runs of the current chain and runs a person ended are not outcomes; `history` is newest first.
 */
export function previousChainFailed(current: Pick<AlertExecution, 'id' | 'retryOf'>, history: PastRun[]): boolean {
  const chain = current.retryOf ?? current.id;
  for (const run of history) {
    if (run.id === current.id || run.id === chain || run.retryOf === chain) continue;
    const cause = endCauseOf(run);
    if (cause === undefined || cause === 'operator') continue;
    return cause !== 'completed';
  }
  return false;
}

/** Destination names for an event of a cron: every matching rule, global or the cron's own, each name once. */
export function destinationsFor(rules: AlertRule[], cronName: string, event: AlertEvent): string[] {
  const names = new Set<string>();
  for (const rule of rules) {
    if (!rule.on.includes(event)) continue;
    if (rule.crons !== null && !rule.crons.includes(cronName)) continue;
    for (const name of rule.to) names.add(name);
  }
  return [...names];
}

const ERROR_IN_SUMMARY = 300;

function clip(text: string, length: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > length ? line.slice(0, length - 1) + '…' : line;
}

/** The sentence a person reads first, in the hook, the Slack message and the e-mail subject. */
export function summarize(event: AlertEvent, transition: Transition): string {
  if (transition.kind === 'missed') {
    const why = transition.reason === 'stillRunning'
      ? `the previous run${transition.runningExecutionId ? ` ${transition.runningExecutionId}` : ''} was still running`
      : 'no server was running to start it';
    const more = transition.laterTicks ? ` (nor at ${transition.laterTicks} later tick${transition.laterTicks === 1 ? '' : 's'})` : '';
    return `${transition.cronName} did not run at ${transition.tickAt.toISOString()}${more}: ${why}`;
  }
  const run = transition.execution;
  if (transition.kind === 'stuck') {
    const running = Date.now() - Date.parse(run.startedAt);
    return `${run.cronName} is stuck: running for ${formatDuration(running)}, past its timeout of ${formatDuration(transition.timeoutMs)}; Mark as Failed ends it`;
  }
  const attempts = run.attempt > 1 ? ` after ${run.attempt} attempts` : '';
  const error = run.errorMessage ? `: ${clip(run.errorMessage, ERROR_IN_SUMMARY)}` : '';
  if (transition.kind === 'retryDropped') {
    const ended = event === 'timeout' ? 'timed out' : 'failed';
    return `${run.cronName} ${ended}${attempts}${error}; its retry (attempt ${transition.nextAttempt}) did not run: ${transition.reason}`;
  }
  switch (event) {
    case 'recovered':
      return `${run.cronName} recovered: completed${run.durationMs !== null ? ` in ${formatDuration(run.durationMs)}` : ''}${run.attempt > 1 ? ` on attempt ${run.attempt}` : ''} after failing before`;
    case 'timeout':
      return `${run.cronName} timed out${attempts}${error}`;
    default:
      return `${run.cronName} failed${attempts}${error}`;
  }
}

/** The alert a transition raises, ready to deliver; undefined when it raises none. */
export function buildAlert(transition: Transition, context: { id: string; runnerId: string; now: Date }): AlertMessage | undefined {
  const event = alertEventFor(transition);
  if (!event) return undefined;
  const run = transition.kind === 'missed' ? undefined : transition.execution;
  return {
    id: context.id,
    event,
    cronName: transition.kind === 'missed' ? transition.cronName : transition.execution.cronName,
    summary: summarize(event, transition),
    at: context.now.toISOString(),
    // For a missed tick: the run that held it up, if any.
    executionId: transition.kind === 'missed' ? (transition.runningExecutionId ?? null) : transition.execution.id,
    attempt: run?.attempt ?? null,
    retryOf: run?.retryOf ?? null,
    status: run?.status ?? null,
    errorMessage: run?.errorMessage ?? null,
    startedAt: run?.startedAt ?? null,
    durationMs: run?.durationMs ?? null,
    tickAt: transition.kind === 'missed' ? transition.tickAt.toISOString() : null,
    runnerId: context.runnerId,
    test: false,
  };
}

/** The message POST /api/admin/alerts/test sends. */
export function testAlert(context: { id: string; runnerId: string; now: Date; actor: string }): AlertMessage {
  return {
    id: context.id,
    event: 'failed',
    cronName: 'cron-ops-test',
    summary: `Test alert from Cron Ops (runner ${context.runnerId}), sent by ${context.actor}: this destination works`,
    at: context.now.toISOString(),
    executionId: null,
    attempt: null,
    retryOf: null,
    status: null,
    errorMessage: null,
    startedAt: null,
    durationMs: null,
    tickAt: null,
    runnerId: context.runnerId,
    test: true,
  };
}
