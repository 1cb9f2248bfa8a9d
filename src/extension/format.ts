// How crons, executions and the KPIs read in the tree, the tooltips and the status bar. No vscode import:
// strings go through a Translate function (vscode.l10n.t in the extension, `english` in unit tests), numbers,
// durations and times through Intl in the display language (`locale`).
import type { Cron, Execution, ExecutionStatus, NextRetry, Stats } from '../shared/api';
import { formatDuration, formatRelative, formatTime, formatTimeLeft } from '../shared/format';
import { nextScheduledRun as nextRunOf, runDurationMs } from '../shared/timing';

export { formatDuration, formatTimeLeft };

/** vscode.l10n.t's positional form: "{0} ago" with args. */
export type Translate = (message: string, ...args: Array<string | number | boolean>) => string;

export const english: Translate = (message, ...args) => message.replace(/\{(\d+)\}/g, (whole, index: string) => (Number(index) < args.length ? String(args[Number(index)]) : whole));

/** "now", "42 sec. ago", "5 min. ago", "3 hr. ago", "2 days ago" (Intl, in the display language). */
export function timeSince(iso: string, now: number, locale = 'en'): string {
  const at = Date.parse(iso);
  return Number.isFinite(at) ? formatRelative(Math.min(at, now), now, locale) : '';
}

/** A status as the operator reads it (the guide's four words, translated). */
export function statusLabel(status: ExecutionStatus, t: Translate = english): string {
  switch (status) {
    case 'completed':
      return t('completed');
    case 'running':
      return t('running');
    case 'failed':
      return t('failed');
    case 'cancelled':
      return t('cancelled');
  }
}

/** The tree's description of a cron, the schedule's state first: "paused · completed · 1.6 sec · 5 min. ago", "running · 12 sec". */
export function cronDescription(cron: Cron, now: number, t: Translate = english, locale = 'en'): string {
  const parts: string[] = [];
  if (cron.paused) parts.push(t('paused'));
  else if (!cron.enabled) parts.push(t('disabled'));
  const execution = cron.runningExecution ?? cron.lastExecution;
  if (!execution) parts.push(t('never run'));
  else {
    parts.push(execution.stuck && execution.status === 'running' ? t('stuck') : statusLabel(execution.status, t));
    const duration = runDurationMs(execution, now);
    if (duration !== undefined) parts.push(formatDuration(duration, locale));
    if (execution.status !== 'running') parts.push(timeSince(execution.completedAt ?? execution.startedAt, now, locale));
  }
  if (cron.pendingRetry) parts.push(retryWaiting(cron.pendingRetry, t, locale));
  return parts.join(' · ');
}

/** A retry waiting for its time, as the tree and its tooltips show it: "retry 2/3 at 4:12:30 AM". */
export function retryWaiting(retry: NextRetry, t: Translate = english, locale = 'en'): string {
  return t('retry {0}/{1} at {2}', retry.attempt, retry.of, formatTime(Date.parse(retry.at), locale));
}

/**
 * The attempt of a retry, "attempt 2, retry of 1a2b3c4d"; undefined for a first run. A completed retry
 * does not know how many attempts its cron allowed, so "of N" is not shown.
 */
export function attemptNote(execution: Pick<Execution, 'attempt' | 'retryOf'>, t: Translate = english): string | undefined {
  const attempt = execution.attempt ?? 1;
  if (attempt <= 1 && !execution.retryOf) return undefined;
  if (execution.retryOf) return t('attempt {0}, retry of {1}', attempt, execution.retryOf.slice(0, 8));
  return t('attempt {0}', attempt);
}

/**
 * A finished run's notification from its summary: a failed attempt the server will retry says so and when
 * ("billing-sync failed in 1.2 sec: … (attempt 1 of 3); retrying at 4:12:30 AM"), the last failed attempt
 * of a chain says how many were made ("… (after 3 attempts)"), another retry says its attempt.
 */
export function finishedNotice(execution: Pick<Execution, 'status' | 'attempt' | 'retryOf' | 'retry'>, summary: string, t: Translate = english, locale = 'en'): string {
  const attempt = execution.attempt ?? 1;
  if (execution.retry) return t('{0} (attempt {1} of {2}); retrying at {3}', summary, attempt, execution.retry.of, formatTime(Date.parse(execution.retry.at), locale));
  if (execution.status === 'failed' && attempt > 1) return t('{0} (after {1} attempts)', summary, attempt);
  const note = attemptNote(execution, t);
  return note ? `${summary} (${note})` : summary;
}

/** An execution row under its cron: "failed · 2.0 sec · manual (token:alice)", with "attempt 2" on a retry. */
export function executionDescription(execution: Execution, now: number, t: Translate = english, locale = 'en'): string {
  const parts = [execution.stuck && execution.status === 'running' ? t('stuck') : statusLabel(execution.status, t)];
  const duration = runDurationMs(execution, now);
  if (duration !== undefined) parts.push(formatDuration(duration, locale));
  parts.push(execution.triggeredBy ? `${execution.triggerType} (${execution.triggeredBy})` : execution.triggerType);
  if ((execution.attempt ?? 1) > 1) parts.push(t('attempt {0}', execution.attempt ?? 1));
  if (execution.retry) parts.push(retryWaiting(execution.retry, t, locale));
  return parts.join(' · ');
}

/** The next scheduled run (shared definition), or the server's KPI when no cron is loaded. */
export function nextScheduledRun(crons: readonly Cron[], stats: Stats | undefined, now: number): { cronName: string; at: number } | undefined {
  const next = nextRunOf(crons, now);
  if (next || crons.length > 0 || !stats?.nextExecution) return next;
  return { cronName: stats.nextExecution.cronName, at: Date.parse(stats.nextExecution.at) };
}

export type Connection = 'connected' | 'connecting' | 'disconnected' | 'signedOut';

/**
 * The status bar's text: "$(pulse) 1 running · 0 failed · next in 3 min 12 sec", or the connection's trouble;
 * failures not looked at yet come first ("$(bell-dot) 2 unseen").
 */
export function statusBarText(connection: Connection, stats: Stats | undefined, crons: readonly Cron[], now: number, t: Translate = english, locale = 'en', unseenFailures = 0): string {
  switch (connection) {
    case 'signedOut':
      return t('$(account) Cron Ops: sign in');
    case 'disconnected':
      return t('$(debug-disconnect) Cron Ops: disconnected');
    case 'connecting':
      if (!stats) return t('$(sync~spin) Cron Ops: connecting…');
  }
  const running = crons.length ? crons.filter((cron) => cron.runningExecution).length : (stats?.running ?? 0);
  const failed = stats?.failures24h ?? 0;
  const icon = failed > 0 ? '$(warning)' : '$(pulse)';
  const parts = [`${icon} ${t('{0} running', running)}`, t('{0} failed', failed)];
  if (unseenFailures > 0) parts.unshift(`$(bell-dot) ${t('{0} unseen', unseenFailures)}`);
  const next = nextScheduledRun(crons, stats, now);
  if (next) parts.push(t('next in {0}', formatTimeLeft(next.at - now, locale)));
  return parts.join(' · ');
}

/** How a finished run compares with its estimate: "completed in 1.6 sec (estimated 5.0 sec)". */
export function finishedSummary(execution: Execution, estimatedMs: number | undefined, t: Translate = english, locale = 'en'): string {
  const ms = runDurationMs(execution, Date.now());
  const duration = ms !== undefined ? formatDuration(ms, locale) : '–';
  const estimate = estimatedMs !== undefined ? formatDuration(estimatedMs, locale) : undefined;
  const base = estimate
    ? t('{0} {1} in {2} (estimated {3})', execution.cronName, statusLabel(execution.status, t), duration, estimate)
    : t('{0} {1} in {2}', execution.cronName, statusLabel(execution.status, t), duration);
  return execution.errorMessage && execution.status !== 'completed' ? `${base}: ${execution.errorMessage}` : base;
}

/** The path of the script a command runs: the first argument after an interpreter, or the program itself. */
export function scriptPath(command: readonly string[]): string | undefined {
  if (command.length === 0) return undefined;
  const isPath = (part: string) => /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(part);
  const program = command[0].split(/[\\/]/).pop()!.toLowerCase().replace(/\.exe$/, '');
  const interpreter = /^(node|nodejs|bun|deno|python\d*(\.\d+)?|bash|sh|zsh|ruby|perl|php|pwsh|powershell|tsx|ts-node)$/.test(program);
  if (interpreter) return command.slice(1).find((part) => !part.startsWith('-') && isPath(part));
  return isPath(command[0]) ? command[0] : undefined;
}

/** A log line as the logs channel prints it: stderr lines are marked. */
export function formatLogLine(line: { stream: 'stdout' | 'stderr'; line: string }): string {
  return line.stream === 'stderr' ? `[stderr] ${line.line}` : line.line;
}
