// Turns a failed API call into one sentence an operator can act on: what went wrong and the next step.
import { ALREADY_RUNNING_ERROR, type ErrorReply } from '../shared/api';
import { english, formatTimeLeft, type Translate } from './format';

/** What the extension was doing, so a 403 or a 409 can say it in words. */
export type ApiAction = 'read' | 'trigger' | 'cancel' | 'markFailed' | 'pause' | 'resume' | 'health' | 'tokens';

export type FailureKind = 'unreachable' | 'timeout' | 'malformed' | 'http';

export interface ApiFailure {
  kind: FailureKind;
  action: ApiAction;
  baseUrl: string;
  /** HTTP status, undefined when no reply came. */
  status?: number;
  reply?: ErrorReply;
  /** The network error's text (ECONNREFUSED…) or what was wrong with the reply. */
  cause?: string;
  timeoutMs?: number;
  /** The cron or execution the call was about. */
  target?: string;
}

/** Reads a reply body as the API's error shape, tolerating servers that send something else. */
export function asErrorReply(body: unknown): ErrorReply | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const candidate = body as Record<string, unknown>;
  return typeof candidate.error === 'string' ? ({ ...candidate, success: false } as ErrorReply) : undefined;
}

function withPeriod(text: string): string {
  return /[.!?:)]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`;
}

function forbiddenText(action: ApiAction, t: Translate): string {
  switch (action) {
    case 'trigger':
      return t("Your token's role cannot trigger crons.");
    case 'cancel':
      return t("Your token's role cannot cancel executions.");
    case 'markFailed':
      return t("Your token's role cannot mark executions as failed.");
    case 'pause':
    case 'resume':
      return t("Your token's role cannot pause or resume schedules.");
    case 'tokens':
      return t("Your token's role cannot manage tokens: only a super-admin can.");
    case 'read':
    case 'health':
      return t("Your token's role cannot read this.");
  }
}

/** The user-facing sentence for a failure. */
export function failureMessage(failure: ApiFailure, t: Translate = english, locale = 'en'): string {
  const { baseUrl, reply } = failure;
  const serverSaid = reply?.error ? ` ${t('The server says: {0}', withPeriod(reply.error))}` : '';
  switch (failure.kind) {
    case 'unreachable':
      return t(
        'Cannot reach the Cron Ops server at {0} ({1}). Start it with `npm start` (or `cron-ops-server`), or set cronOps.serverUrl to where it runs, then run "Cron Ops: Check Connection".',
        baseUrl,
        failure.cause ?? t('no reply'),
      );
    case 'timeout':
      return t('The Cron Ops server at {0} did not answer within {1}. Check that it is running and not overloaded, then retry.', baseUrl, formatTimeLeft(failure.timeoutMs ?? 0, locale));
    case 'malformed':
      return t('The server at {0} sent a reply that is not Cron Ops JSON ({1}). Check that cronOps.serverUrl points to a Cron Ops server.', baseUrl, failure.cause ?? t('unreadable body'));
    case 'http':
      break;
  }
  const status = failure.status ?? 0;
  if (status === 401) return t('The server refused your token. Run "Cron Ops: Sign In" with a valid token.') + serverSaid;
  if (status === 403) return forbiddenText(failure.action, t) + ' ' + t('Ask for an admin or super-admin token, then run "Cron Ops: Sign In".') + serverSaid;
  if (status === 409 && reply?.error === ALREADY_RUNNING_ERROR) {
    const name = reply.cronName ?? failure.target ?? '';
    return reply.runningExecutionId
      ? t('{0} is already running (execution {1}). Wait for it to end, or cancel it.', name, reply.runningExecutionId)
      : t('{0} is already running. Wait for it to end, or cancel it.', name);
  }
  if (status === 409 && reply?.status) return t('Execution {0} is no longer running (status {1}): nothing to do.', failure.target ?? '', reply.status);
  if (status === 429) {
    const seconds = reply?.retryAfterS;
    return seconds !== undefined
      ? t('{0} can be triggered again in {1} (limit on manual runs).', reply?.cronName ?? failure.target ?? '', formatTimeLeft(seconds * 1000, locale))
      : t('Too many manual runs: wait a little, then retry.') + serverSaid;
  }
  if (status >= 500) return t('The Cron Ops server failed (HTTP {0}). Check its log, then retry.', status) + serverSaid;
  if (reply?.error) return withPeriod(reply.error);
  return t('The Cron Ops server answered HTTP {0}. Check its log.', status);
}
