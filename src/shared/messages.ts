// Messages between the dashboard webview and the extension. The webview never holds the token: it asks,
// the extension calls the API.
import type { Cron, ExecutionStatus, Stats, TimelineEntry } from './api';

export interface TimelineFilter {
  cronName: string | null;
  status: ExecutionStatus | null;
}

/** Extension -> webview. */
export type ToWebview =
  | { type: 'state'; crons: Cron[]; stats: Stats; connected: boolean; error: string | null }
  | { type: 'timeline'; from: string; to: string; executions: TimelineEntry[] }
  | { type: 'error'; message: string };

/** Webview -> extension. */
export type FromWebview =
  | { type: 'ready' }
  | { type: 'refresh' }
  | { type: 'trigger'; cronName: string }
  | { type: 'showLogs'; executionId: string }
  | { type: 'filter'; filter: TimelineFilter }
  /** Sent after the chart has been painted with a timeline (tests and benchmarks read it). */
  | { type: 'rendered'; executions: number; kpis: Stats };
