// Every user-facing string of the dashboard, in English. The extension may send translations by key in its
// `config` message; `{0}`-style placeholders take positional arguments, as vscode.l10n.t does.
const ENGLISH = {
  title: 'Cron Ops Dashboard',
  refresh: 'Refresh',
  updatedAt: 'Updated {0}',
  kpisLabel: 'Key figures',
  kpiExecutions24h: 'Executions (24 h)',
  kpiRunning: 'Running',
  kpiFailures24h: 'Failures (24 h)',
  kpiNextExecution: 'Next execution',
  kpiNoneScheduled: 'none scheduled',
  kpiDueNow: 'due now',
  kpiUnknown: '–',
  kpiRunningNone: 'nothing running',
  kpiRunningSome: 'in progress',
  kpiFailuresNone: 'no failures',
  kpiFailuresSome: 'see the timeline',
  kpiExecutionsNote: 'all triggers',
  timelineTitle: 'Last 7 days',
  timelineChartLabel: 'Runs of the last 7 days: {0} completed, {1} failed, {2} cancelled, {3} running. Start time across, duration up.',
  timelineEmpty: 'No runs in the last 7 days for this filter.',
  timelineLoading: 'Loading the timeline…',
  timelineError: 'The timeline could not be loaded: {0}',
  timelineDense: '{0} runs drawn as {1} marks: runs sharing a spot are merged (hover shows how many).',
  legendLabel: 'Runs by status',
  filterCron: 'Cron',
  filterStatus: 'Status',
  filterAll: 'All',
  tooltipStarted: 'Started {0}',
  tooltipDuration: 'Duration {0}',
  tooltipRunningFor: 'Running for {0}',
  tooltipMore: '+{0} more runs at this spot',
  tooltipClick: 'Click to show its logs',
  latestRuns: 'Latest runs ({0})',
  latestRunsCaption: 'The latest runs of the timeline; Show Logs opens a run’s output.',
  colCron: 'Cron',
  colDescription: 'Description',
  colLastRun: 'Last run',
  colStatus: 'Status',
  colDuration: 'Duration',
  colNextRun: 'Next run',
  colStarted: 'Started',
  colActions: 'Actions',
  cronsTitle: 'Crons',
  cronsEmpty: 'No crons are defined on the server.',
  cronsUnavailable: 'Crons appear here once the server answers.',
  never: 'never',
  paused: 'paused',
  disabled: 'disabled',
  stuck: 'stuck',
  execute: 'Execute',
  executeLabel: 'Execute {0} now',
  executeRunning: '{0} is already running',
  executeOffline: 'Not connected to the server',
  showLogs: 'Show Logs',
  showLogsLabel: 'Show the logs of {0}, started {1}',
  signIn: 'Sign In',
  retry: 'Retry',
  bannerSignedOut: 'You are not signed in to the Cron Ops server.',
  bannerDisconnected: 'The Cron Ops server cannot be reached.',
  bannerConnecting: 'Connecting to the Cron Ops server…',
  bannerError: 'Last error: {0}',
  statusCompleted: 'completed',
  statusRunning: 'running',
  statusFailed: 'failed',
  statusCancelled: 'cancelled',
  inTime: 'in {0}',
  agoTime: '{0} ago',
  justNow: 'just now',
} as const;

export type StringKey = keyof typeof ENGLISH;

let current: Record<StringKey, string> = { ...ENGLISH };

/** The string for `key` with `{n}` replaced by the n-th argument. */
export function t(key: StringKey, ...args: Array<string | number>): string {
  return current[key].replace(/\{(\d+)\}/g, (whole, index: string) => (Number(index) < args.length ? String(args[Number(index)]) : whole));
}

/** Replaces strings by key; unknown keys and non-strings are ignored, missing keys stay English. */
export function setStrings(overrides: Record<string, unknown>): void {
  const next: Record<StringKey, string> = { ...ENGLISH };
  for (const key of Object.keys(ENGLISH) as StringKey[]) {
    const value = overrides[key];
    if (typeof value === 'string' && value) next[key] = value;
  }
  current = next;
}

/** The English strings, for the extension to translate (their keys are what `config.strings` takes). */
export const ENGLISH_STRINGS: Readonly<Record<StringKey, string>> = ENGLISH;
