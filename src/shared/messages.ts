// Messages between the dashboard webview and the extension. The webview never holds the token: it asks,
// the extension calls the API and the commands.
import { EXECUTION_STATUSES, type Cron, type ExecutionStatus, type Stats, type TimelineBucket, type TimelineEntry, type TimelineSkip } from './api';

/** What the timeline shows: null means "all". */
export interface TimelineFilter {
  cronName: string | null;
  status: ExecutionStatus | null;
}

/** A zoomed time range of the timeline (ISO times). */
export interface TimelineRange {
  from: string;
  to: string;
}

/** The extension's link to the server, as the dashboard banner shows it. */
export type DashboardConnection = 'connected' | 'connecting' | 'disconnected' | 'signedOut';

/**
 * A timeline in columns: run i is (ids[i], cronNames[cron[i]], EXECUTION_STATUSES[status[i]], startMs[i],
 * durationMs[i]). Half the size of TimelineEntry objects and ready to plot, for 100,000 runs.
 */
export interface TimelineColumns {
  cronNames: string[];
  ids: string[];
  cron: number[];
  status: number[];
  startMs: number[];
  durationMs: number[];
}

/** Extension -> webview. */
export type ToWebview =
  /** Once per load, before anything else: the display language and, later, translated strings by key. */
  | { type: 'config'; locale: string; strings: Record<string, string> }
  /** The crons, KPIs and connection, on every change of the extension's state and every refresh interval. */
  /**
   * The crons, KPIs and connection, on every change of the extension's state. `now` is the extension's clock
   * (the page ticks from it, so both show the same times); `canAct` is false for a viewer (no Execute buttons).
   */
  | { type: 'state'; crons: Cron[]; stats: Stats | null; connection: DashboardConnection; error: string | null; now: number; canAct: boolean }
  /**
   * The timeline for `filter`; from/to are ISO times bounding the chart (the zoomed range when `range` is set).
   * `buckets` summarise completed runs when the range holds too many to draw one by one.
   */
  | { type: 'timeline'; filter: TimelineFilter; range: TimelineRange | null; from: string; to: string; columns: TimelineColumns; buckets?: TimelineBucket[]; bucketMs?: number; skipped?: TimelineSkip[]; skippedTotal?: number }
  /** Nothing to show (signed out): the page empties its timeline. */
  | { type: 'timelineCleared' }
  /** The timeline for `filter` could not be fetched; `message` says what to do next. */
  | { type: 'timelineError'; filter: TimelineFilter; message: string };

/** Webview -> extension. */
export type FromWebview =
  /** The page has loaded (also after being hidden and shown again) with the filter it restored. */
  | { type: 'ready'; filter: TimelineFilter }
  /** Reload the state and the timeline now. */
  | { type: 'refresh' }
  /** The operator changed the timeline's filters. */
  | { type: 'filter'; filter: TimelineFilter }
  /** The operator zoomed or panned the timeline to `range` (null: back to the last 7 days). */
  | { type: 'zoom'; range: TimelineRange | null }
  /** Run the Trigger Cron command for this cron (it confirms and reports). */
  | { type: 'trigger'; cronName: string }
  /** Open the Show Logs command for this execution. */
  | { type: 'showLogs'; executionId: string }
  /** Run the Sign In command (from the signed-out banner). */
  | { type: 'signIn' }
  /** What the page now shows, after each render: tests and benchmarks read it. */
  | { type: 'rendered'; view: RenderedView }
  /** Something went wrong inside the page (an exception, a CSP violation): the extension logs it. */
  | { type: 'problem'; message: string };

/** The dashboard as painted: the KPIs it shows, its table rows and its timeline. */
export interface RenderedView {
  kpis: Stats | null;
  connection: DashboardConnection;
  cronRows: number;
  filter: TimelineFilter;
  /** Runs in the displayed timeline; null until one has arrived. */
  executions: number | null;
  /** Marks drawn on the chart: fewer than `executions` when dense runs share a pixel cell. */
  marks: number;
  /** Time the last timeline render took (build + chart update), in ms. */
  renderMs: number;
  /** The cron table's rows as shown: duration and next-run cells, and whether an Execute button is offered. */
  table: Array<{ cronName: string; duration: string; nextRun: string; execute: boolean; overlap: string; skipped24h: number }>;
  /** Latest runs as shown: run id and its duration cell. */
  latest: Array<{ id: string; duration: string }>;
  /** The timeline's x range as drawn (ms). */
  xRange: { min: number; max: number } | null;
  /** Summary buckets drawn. */
  buckets: number;
  /** Skipped-tick marks drawn. */
  skipped: number;
}

/** The filter that shows everything. */
export const NO_FILTER: TimelineFilter = { cronName: null, status: null };

/** Turns the API's timeline entries into columns (entries keep their order). */
export function toTimelineColumns(entries: readonly TimelineEntry[]): TimelineColumns {
  const cronIndex = new Map<string, number>();
  const columns: TimelineColumns = { cronNames: [], ids: [], cron: [], status: [], startMs: [], durationMs: [] };
  const statusIndex = new Map<ExecutionStatus, number>(EXECUTION_STATUSES.map((status, index) => [status, index]));
  for (const entry of entries) {
    let cron = cronIndex.get(entry.cronName);
    if (cron === undefined) {
      cron = columns.cronNames.length;
      cronIndex.set(entry.cronName, cron);
      columns.cronNames.push(entry.cronName);
    }
    columns.ids.push(entry.id);
    columns.cron.push(cron);
    columns.status.push(statusIndex.get(entry.status) ?? 0);
    columns.startMs.push(Date.parse(entry.startedAt));
    columns.durationMs.push(entry.durationMs);
  }
  return columns;
}

/** True when two filters select the same runs. */
export function sameFilter(a: TimelineFilter, b: TimelineFilter): boolean {
  return a.cronName === b.cronName && a.status === b.status;
}
