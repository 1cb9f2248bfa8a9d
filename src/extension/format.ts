// How crons, executions and the KPIs read in the tree, the tooltips and the status bar. No vscode import:
// strings go through a Translate function (vscode.l10n.t in the extension, `english` in unit tests).
import type { Cron, Execution, ExecutionStatus, Stats } from '../shared/api';
import { formatCountdown, formatDuration } from '../shared/format';

export { formatCountdown, formatDuration };

/** vscode.l10n.t's positional form: "{0} ago" with args. */
export type Translate = (message: string, ...args: Array<string | number | boolean>) => string;

export const english: Translate = (message, ...args) => message.replace(/\{(\d+)\}/g, (whole, index: string) => (Number(index) < args.length ? String(args[Number(index)]) : whole));

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function timeSince(iso: string, now: number, t: Translate = english): string {
  const elapsed = now - Date.parse(iso);
  if (!Number.isFinite(elapsed)) return '';
  if (elapsed < 10 * SECOND) return t('just now');
  if (elapsed < MINUTE) return t('{0} s ago', Math.floor(elapsed / SECOND));
  if (elapsed < HOUR) return t('{0} min ago', Math.floor(elapsed / MINUTE));
  if (elapsed < DAY) return t('{0} h ago', Math.floor(elapsed / HOUR));
  return t('{0} d ago', Math.floor(elapsed / DAY));
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

/** A codicon id and a theme colour id; the tree turns them into ThemeIcon + ThemeColor. */
export interface IconChoice {
  id: string;
  color: string | undefined;
}

export function executionIcon(execution: Pick<Execution, 'status' | 'stuck'>): IconChoice {
  switch (execution.status) {
    case 'running':
      return execution.stuck ? { id: 'watch', color: 'list.warningForeground' } : { id: 'sync~spin', color: 'charts.blue' };
    case 'completed':
      return { id: 'pass', color: 'testing.iconPassed' };
    case 'failed':
      return { id: 'error', color: 'testing.iconFailed' };
    case 'cancelled':
      return { id: 'circle-slash', color: 'disabledForeground' };
  }
}

/** The running run first, else the last run's outcome; a paused cron that never ran shows the pause. */
export function cronIcon(cron: Pick<Cron, 'paused' | 'lastExecution' | 'runningExecution'>): IconChoice {
  const execution = cron.runningExecution ?? cron.lastExecution;
  if (execution) return executionIcon(execution);
  return cron.paused ? { id: 'debug-pause', color: 'descriptionForeground' } : { id: 'circle-outline', color: 'descriptionForeground' };
}

/** Elapsed time of a running execution, or its recorded duration. */
export function executionDuration(execution: Pick<Execution, 'status' | 'startedAt' | 'durationMs'>, now: number): number | undefined {
  if (execution.status === 'running') return Math.max(0, now - Date.parse(execution.startedAt));
  return execution.durationMs ?? undefined;
}

/** The tree's description of a cron: "completed · 1.6 s · 5 min ago", "running · 12 s", "never run". */
export function cronDescription(cron: Cron, now: number, t: Translate = english): string {
  const parts: string[] = [];
  const execution = cron.runningExecution ?? cron.lastExecution;
  if (!execution) parts.push(t('never run'));
  else {
    parts.push(execution.stuck ? t('stuck') : statusLabel(execution.status, t));
    const duration = executionDuration(execution, now);
    if (duration !== undefined) parts.push(formatDuration(duration));
    if (execution.status !== 'running') parts.push(timeSince(execution.completedAt ?? execution.startedAt, now, t));
  }
  if (cron.paused) parts.push(t('paused'));
  else if (!cron.enabled) parts.push(t('disabled'));
  return parts.join(' · ');
}

/** An execution row under its cron: "failed · 2.0 s · manual (token:alice)". */
export function executionDescription(execution: Execution, now: number, t: Translate = english): string {
  const parts = [execution.stuck ? t('stuck') : statusLabel(execution.status, t)];
  const duration = executionDuration(execution, now);
  if (duration !== undefined) parts.push(formatDuration(duration));
  parts.push(execution.triggeredBy ? `${execution.triggerType} (${execution.triggeredBy})` : execution.triggerType);
  return parts.join(' · ');
}

/** "14:03:07" today, "Mar 3 14:03" otherwise, in the local time zone. */
export function formatStartTime(iso: string, now: number, locale?: string): string {
  const date = new Date(iso);
  const sameDay = new Date(now).toDateString() === date.toDateString();
  return sameDay
    ? date.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })
    : date.toLocaleString(locale, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
}

/** The next scheduled run among crons whose schedule is active (paused and disabled ones are skipped). */
export function nextScheduledRun(crons: readonly Cron[], stats: Stats | undefined): { cronName: string; at: number } | undefined {
  let best: { cronName: string; at: number } | undefined;
  for (const cron of crons) {
    if (cron.paused || !cron.enabled || !cron.nextRunAt) continue;
    const at = Date.parse(cron.nextRunAt);
    if (Number.isFinite(at) && (!best || at < best.at)) best = { cronName: cron.name, at };
  }
  if (best || crons.length > 0 || !stats?.nextExecution) return best;
  return { cronName: stats.nextExecution.cronName, at: Date.parse(stats.nextExecution.at) };
}

export type Connection = 'connected' | 'connecting' | 'disconnected' | 'signedOut';

/** The status bar's text: "$(pulse) 1 running · 0 failed · next 3:12", or the connection's trouble. */
export function statusBarText(connection: Connection, stats: Stats | undefined, crons: readonly Cron[], now: number, t: Translate = english): string {
  switch (connection) {
    case 'signedOut':
      return t('$(account) Cron Ops: sign in');
    case 'disconnected':
      return t('$(debug-disconnect) Cron Ops: disconnected');
    case 'connecting':
      if (!stats) return t('$(sync~spin) Cron Ops: connecting…');
  }
  const running = stats?.running ?? crons.filter((cron) => cron.runningExecution).length;
  const failed = stats?.failures24h ?? 0;
  const icon = failed > 0 ? '$(warning)' : '$(pulse)';
  const parts = [`${icon} ${t('{0} running', running)}`, t('{0} failed', failed)];
  const next = nextScheduledRun(crons, stats);
  if (next) parts.push(next.at <= now ? t('next now') : t('next {0}', formatCountdown(next.at - now)));
  return parts.join(' · ');
}

/** How a finished run compares with its estimate: "completed in 1.6 s (estimated 5.0 s)". */
export function finishedSummary(execution: Execution, estimatedMs: number | undefined, t: Translate = english): string {
  const duration = execution.durationMs !== null ? formatDuration(execution.durationMs) : '–';
  const estimate = estimatedMs !== undefined ? formatDuration(estimatedMs) : undefined;
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
