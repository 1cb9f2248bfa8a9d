// The timeline's filters: the choices offered and what a saved or selected value means. No DOM.
import { EXECUTION_STATUSES, type ExecutionStatus } from '../shared/api';
import { NO_FILTER, type TimelineColumns, type TimelineFilter } from '../shared/messages';

/** What the webview keeps across hide/show through vscode.setState. */
export interface WebviewState {
  filter: TimelineFilter;
  latestOpen: boolean;
}

function isStatus(value: unknown): value is ExecutionStatus {
  return typeof value === 'string' && (EXECUTION_STATUSES as readonly string[]).includes(value);
}

/** The state vscode.getState() returned, checked: anything unexpected falls back to "show everything". */
export function restoreState(saved: unknown): WebviewState {
  const record = typeof saved === 'object' && saved !== null ? (saved as Record<string, unknown>) : {};
  const filter = typeof record.filter === 'object' && record.filter !== null ? (record.filter as Record<string, unknown>) : {};
  return {
    filter: {
      cronName: typeof filter.cronName === 'string' && filter.cronName ? filter.cronName : null,
      status: isStatus(filter.status) ? filter.status : null,
    },
    latestOpen: record.latestOpen === true,
  };
}

/** A filter from the selects' values ('' means all). */
export function filterFromSelects(cronValue: string, statusValue: string): TimelineFilter {
  return { cronName: cronValue || null, status: isStatus(statusValue) ? statusValue : null };
}

/**
 * The cron choices: the server's crons, plus names only seen in the timeline (a cron removed from the config
 * still has runs) and the selected one, sorted.
 */
export function cronChoices(cronNames: readonly string[], timeline: TimelineColumns | null, selected: string | null): string[] {
  const names = new Set(cronNames);
  for (const name of timeline?.cronNames ?? []) names.add(name);
  if (selected) names.add(selected);
  return [...names].sort((a, b) => a.localeCompare(b));
}

/** The run indexes of the columns that pass the filter (for a timeline fetched with a wider one). */
export function applyFilter(columns: TimelineColumns, filter: TimelineFilter): number[] {
  const cron = filter.cronName === null ? -1 : columns.cronNames.indexOf(filter.cronName);
  const status = filter.status === null ? -1 : EXECUTION_STATUSES.indexOf(filter.status);
  const kept: number[] = [];
  if (filter.cronName !== null && cron < 0) return kept;
  for (let i = 0; i < columns.ids.length; i++) {
    if ((cron < 0 || columns.cron[i] === cron) && (status < 0 || columns.status[i] === status)) kept.push(i);
  }
  return kept;
}

/** The columns restricted to some runs, in the same order. */
export function selectRuns(columns: TimelineColumns, indexes: readonly number[]): TimelineColumns {
  return {
    cronNames: columns.cronNames,
    ids: indexes.map((i) => columns.ids[i]),
    cron: indexes.map((i) => columns.cron[i]),
    status: indexes.map((i) => columns.status[i]),
    startMs: indexes.map((i) => columns.startMs[i]),
    durationMs: indexes.map((i) => columns.durationMs[i]),
  };
}

export { NO_FILTER };
