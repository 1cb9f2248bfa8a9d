// Small builders for the dashboard's unit tests.
import type { ExecutionStatus, TimelineEntry } from '../../../src/shared/api';
import { toTimelineColumns, type TimelineColumns } from '../../../src/shared/messages';

export const DAY_MS = 86_400_000;
export const T0 = Date.UTC(2026, 1, 14, 12, 0, 0);

let nextId = 0;

/** A timeline entry; start is ms since T0. */
export function run(cronName: string, status: ExecutionStatus, startOffsetMs: number, durationMs: number): TimelineEntry {
  return { id: `run-${++nextId}`, cronName, status, startedAt: new Date(T0 + startOffsetMs).toISOString(), durationMs };
}

export function columns(...entries: TimelineEntry[]): TimelineColumns {
  return toTimelineColumns(entries);
}
