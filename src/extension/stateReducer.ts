// How the store's crons and histories change with each event or reply. Pure: the state store applies these
// and fires its change events; unit tests check them without VS Code.
import type { Cron, Execution, Stats } from '../shared/api';

function startedAt(execution: Execution): number {
  return Date.parse(execution.startedAt);
}

const chainOf = (execution: Pick<Execution, 'id' | 'retryOf'>) => execution.retryOf ?? execution.id;

/**
 * Whether a run that started takes the place of the retry waiting after `attempt`: that retry itself, or a
 * manual run of the cron (the server cancels the cron's waiting retries when one starts).
 */
export function replacesRetry(attempt: Execution, started: Execution): boolean {
  if (!attempt.retry || started.status !== 'running' || started.cronName !== attempt.cronName) return false;
  if (started.triggerType === 'manual') return true;
  return started.retryOf === chainOf(attempt) && started.attempt === attempt.retry.attempt;
}

/** `execution` without its waiting retry once `started` took its place; the same object otherwise. */
export function settleRetry(execution: Execution, started: Execution): Execution {
  return replacesRetry(execution, started) ? { ...execution, retry: null } : execution;
}

/** The cron's waiting retry after `execution` started or ended: set by a failed attempt's end, cleared by the run that takes its place. */
function pendingRetryAfter(cron: Cron, execution: Execution): Cron['pendingRetry'] {
  if (execution.status !== 'running') return execution.retry ? { retryOf: chainOf(execution), ...execution.retry } : cron.pendingRetry;
  const pending = cron.pendingRetry;
  if (!pending) return pending;
  const replaced = execution.triggerType === 'manual' || (execution.retryOf === pending.retryOf && execution.attempt === pending.attempt);
  return replaced ? null : pending;
}

/** The cron list after an execution started, ended or changed; `changed` is false when nothing moved. */
export function applyExecution(crons: readonly Cron[], execution: Execution): { crons: readonly Cron[]; changed: boolean; known: boolean } {
  const index = crons.findIndex((cron) => cron.name === execution.cronName);
  if (index < 0) return { crons, changed: false, known: false };
  const cron = crons[index];
  const next: Cron = { ...cron, pendingRetry: pendingRetryAfter(cron, execution) };
  const last = cron.lastExecution && settleRetry(cron.lastExecution, execution);
  next.lastExecution = last;
  if (!last || last.id === execution.id || startedAt(execution) >= startedAt(last)) next.lastExecution = execution;
  if (execution.status === 'running') {
    const running = cron.runningExecution;
    if (!running || running.id === execution.id || startedAt(execution) >= startedAt(running)) next.runningExecution = execution;
  } else if (cron.runningExecution?.id === execution.id) {
    next.runningExecution = null;
  }
  if (next.lastExecution === cron.lastExecution && next.runningExecution === cron.runningExecution && next.pendingRetry === cron.pendingRetry) return { crons, changed: false, known: true };
  const updated = crons.slice();
  updated[index] = next;
  return { crons: updated, changed: true, known: true };
}

/**
 * A reload's snapshot with the events that arrived while it was on its way applied on top: the snapshot may
 * have been read before them (a run that ended meanwhile would show as running until the next reload). An
 * event older than the snapshot (a run's start, when the snapshot already has its end) changes nothing.
 */
export function applyEventsToSnapshot(snapshot: readonly Cron[], events: readonly Execution[]): readonly Cron[] {
  let crons = snapshot;
  for (const execution of events) {
    const cron = crons.find((candidate) => candidate.name === execution.cronName);
    const known = [cron?.lastExecution, cron?.runningExecution].find((candidate) => candidate?.id === execution.id);
    if (execution.status === 'running' && known && known.status !== 'running') continue;
    crons = applyExecution(crons, execution).crons;
  }
  return crons;
}

/**
 * A cron's history once its crons reply says no retry waits (dropped by the server: a later success, a
 * pause, the cron removed): no row keeps saying "retry 2/3 at …". The same array when nothing changes.
 */
export function withoutWaitingRetries(history: Execution[]): Execution[] {
  return history.some((execution) => execution.retry) ? history.map((execution) => (execution.retry ? { ...execution, retry: null } : execution)) : history;
}

/** A cron's recent executions with one inserted or replaced, newest first, at most `limit`. */
export function upsertHistory(history: readonly Execution[], execution: Execution, limit: number): Execution[] {
  const rest = history.filter((candidate) => candidate.id !== execution.id).map((candidate) => settleRetry(candidate, execution));
  rest.push(execution);
  rest.sort((a, b) => startedAt(b) - startedAt(a));
  return rest.slice(0, Math.max(1, limit));
}

/** Replaces one cron (a pause or resume reply); unknown names leave the list as it was. */
export function replaceCron(crons: readonly Cron[], cron: Cron): readonly Cron[] {
  const index = crons.findIndex((candidate) => candidate.name === cron.name);
  if (index < 0) return crons;
  const updated = crons.slice();
  updated[index] = cron;
  return updated;
}

/** Whether a running execution has outlived its cron's timeout (the server's flag may be older than now). */
export function isStuck(execution: Execution, timeoutMs: number, now: number): boolean {
  return execution.status === 'running' && (execution.stuck || now - startedAt(execution) > timeoutMs);
}

/** Flags running executions that became stuck since the last reply; returns the names that changed. */
export function markStuck(crons: readonly Cron[], now: number): { crons: readonly Cron[]; changed: string[] } {
  const changed: string[] = [];
  const updated = crons.map((cron) => {
    const running = cron.runningExecution;
    if (!running || running.stuck || !isStuck(running, cron.timeoutMs, now)) return cron;
    changed.push(cron.name);
    const stuck = { ...running, stuck: true };
    return { ...cron, runningExecution: stuck, lastExecution: cron.lastExecution?.id === running.id ? stuck : cron.lastExecution };
  });
  return changed.length ? { crons: updated, changed } : { crons, changed };
}

/** Runs that were running before a reload and have ended in it (for when the events that said so were missed). */
export function endedBetween(before: readonly Cron[], after: readonly Cron[]): Execution[] {
  const ended: Execution[] = [];
  const byName = new Map(after.map((cron) => [cron.name, cron]));
  for (const cron of before) {
    const running = cron.runningExecution;
    const last = byName.get(cron.name)?.lastExecution;
    if (running && last && last.id === running.id && last.status !== 'running') ended.push(last);
  }
  return ended;
}

/** Names whose cron differs between two lists (same order assumed by name), and whether the set of names changed. */
export function diffCrons(before: readonly Cron[], after: readonly Cron[]): { changed: string[]; structural: boolean } {
  const structural = before.length !== after.length || before.some((cron, index) => cron.name !== after[index].name);
  if (structural) return { changed: after.map((cron) => cron.name), structural };
  const changed = after.filter((cron, index) => JSON.stringify(cron) !== JSON.stringify(before[index])).map((cron) => cron.name);
  return { changed, structural };
}

/**
 * What the timeline depends on in the extension's state: runs started or ended, and the KPI counts. The
 * timeline is fetched again when this changes (not on every state change: it can hold 100,000 runs).
 */
export function runsSignature(crons: readonly Cron[], stats: Stats | undefined | null): string {
  const parts = crons.map((cron) => `${cron.name}:${cron.runningExecution?.id ?? ''}:${cron.lastExecution?.id ?? ''}:${cron.lastExecution?.status ?? ''}`);
  if (stats) parts.push(`${stats.executions24h}/${stats.running}/${stats.failures24h}`);
  return parts.join('|');
}
