// What the CodeLens above a cron says: its last run (status and age), its p95 duration and its next run.
// Pure: strings through a Translate function, numbers and times through Intl in the display language.
import type { Cron, Execution } from '../../shared/api';
import { formatDuration, formatRelative } from '../../shared/format';
import { nextRunAt } from '../../shared/timing';
import { english, statusLabel, timeSince, type Translate } from '../format';
import { overlapWarning } from '../overlapWarning';
import { codicon, cronIcon } from '../statusIcons';

/** Durations of finished runs the p95 is computed from, at most (the newest). */
export const P95_SAMPLE_LIMIT = 50;

/** The 95th percentile (nearest rank) of the durations of finished runs; undefined without any. */
export function p95Duration(executions: readonly Pick<Execution, 'status' | 'durationMs'>[]): number | undefined {
  const durations = executions
    .filter((execution) => execution.status !== 'running' && typeof execution.durationMs === 'number' && Number.isFinite(execution.durationMs))
    .map((execution) => execution.durationMs as number)
    .sort((a, b) => a - b);
  if (durations.length === 0) return undefined;
  return durations[Math.min(durations.length - 1, Math.ceil(0.95 * durations.length) - 1)];
}

/** "$(pass) completed 5 min. ago · p95 1.2 sec (20 runs) · next in 3 hr.", "$(sync~spin) running · next …", "never run". */
export function lensSummary(cron: Cron, p95: { ms: number; runs: number } | undefined, now: number, t: Translate = english, locale = 'en'): string {
  const parts: string[] = [];
  const running = cron.runningExecution;
  const last = cron.lastExecution;
  const icon = codicon(cronIcon(cron));
  if (running) parts.push(`${icon} ${running.stuck ? t('stuck') : t('running')}`);
  else if (last) parts.push(`${icon} ${statusLabel(last.status, t)} ${timeSince(last.completedAt ?? last.startedAt, now, locale)}`);
  else parts.push(`${icon} ${t('never run')}`);
  if (p95) parts.push(p95.runs === 1 ? t('p95 {0} (1 run)', formatDuration(p95.ms, locale)) : t('p95 {0} ({1} runs)', formatDuration(p95.ms, locale), p95.runs));
  const overlap = overlapWarning(cron, t);
  if (overlap) parts.push(`$(warning) ${overlap}`);
  if (cron.paused) parts.push(t('paused'));
  else if (!cron.enabled) parts.push(t('disabled'));
  else {
    const next = nextRunAt(cron, now);
    if (next !== undefined) parts.push(t('next {0}', formatRelative(next, now, locale)));
  }
  return parts.join(' · ');
}
