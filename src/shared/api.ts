// The HTTP API's shapes, shared by the server, the extension and the webview (no runtime dependencies).

export const EXECUTION_STATUSES = ['completed', 'running', 'failed', 'cancelled'] as const;
/** The four statuses of the operator guide. */
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const TRIGGER_TYPES = ['scheduled', 'manual', 'external'] as const;
/** How an execution was started. */
export type TriggerType = (typeof TRIGGER_TYPES)[number];

export const ROLES = ['viewer', 'admin', 'super-admin'] as const;
/** A token's role: viewer reads, admin and super-admin act, super-admin alone reads the audit trail. */
export type Role = (typeof ROLES)[number];

export type ParamValue = string | number | boolean;

/** A parameter a cron declares; values reach the process as CRON_PARAM_<NAME>. */
export interface ParamSpec {
  type: 'integer' | 'string' | 'boolean';
  description?: string;
  min?: number;
  max?: number;
  pattern?: string;
  default?: ParamValue;
}

/** One run of a cron, as the API returns it. Times are ISO 8601 strings. */
export interface Execution {
  id: string;
  cronName: string;
  status: ExecutionStatus;
  triggerType: TriggerType;
  triggeredBy: string | null;
  params: Record<string, ParamValue>;
  startedAt: string;
  completedAt: string | null;
  durationMs: number | null;
  exitCode: number | null;
  errorMessage: string | null;
  runnerId: string | null;
  /** Running past the cron's timeoutMs: Mark as Failed is the way out. */
  stuck: boolean;
  /** Lines dropped because the per-execution log cap was reached (0 when none). */
  logLinesDropped: number;
  /** Retries (see ExecutionRetryFields in alerts.ts): 1 for a first run; always set by the server. */
  attempt?: number;
  /** The first attempt's id when this run is a retry; null otherwise. */
  retryOf?: string | null;
  /**
   * On a failed (or timed-out) attempt whose retry is waiting for its time: which attempt comes next, of how
   * many, and when. null otherwise: a last attempt, a success, or once the retry ran or a manual trigger
   * cancelled it. Set by the executions routes, /crons and the `execution.*` events; in `execution.finished`,
   * also when the retry already started (a short delay beat the event): `at` is then when it started.
   */
  retry?: NextRetry | null;
  /**
   * Which version of its scripts the run launched: a sha-256 over the files its command names inside the
   * config's folder (GET …/script lists them); null when it names none or the run was not started here.
   */
  scriptVersion?: string | null;
  /** The git commit checked out in the config's folder at launch; null outside a repository. */
  gitCommit?: string | null;
}

/** A retry waiting for its time: attempt `attempt` of `of` (the cron's retries.count + 1), due `at` (ISO 8601). */
export interface NextRetry {
  attempt: number;
  of: number;
  at: string;
}

/** A cron's waiting retry, with the chain it continues (the first attempt's id). */
export interface PendingRetryInfo extends NextRetry {
  retryOf: string;
}

/** One file of the script version a run launched, relative to the config's folder. */
export interface ScriptFileInfo {
  path: string;
  size: number;
  /** sha-256 of its content; null when it was not read (`skipped`): only its size counts in the version. */
  sha256: string | null;
  skipped: 'too-large' | 'too-many-files' | null;
}

/** GET /api/admin/cron-executions/:id/script: the version of the scripts a run launched. */
export interface ScriptVersionReply {
  executionId: string;
  cronName: string;
  scriptVersion: string | null;
  gitCommit: string | null;
  files: ScriptFileInfo[];
}

/** GET /api/admin/cron-executions/:id/script/file?path=…: one file as the run launched it (admin and up). */
export interface ScriptFileReply {
  executionId: string;
  path: string;
  sha256: string;
  size: number;
  /** utf8 for text; base64 when the content is not valid UTF-8. */
  encoding: 'utf8' | 'base64';
  content: string;
}

/** GET /api/admin/cron-executions/:id/last-successful: the run to compare a failure with. */
export interface LastSuccessfulRunReply {
  /** The latest completed run of the same cron started before this one with a recorded script version; null when none. */
  execution: Execution | null;
}

export const SKIP_REASONS = ['already-running', 'paused', 'server-down'] as const;
/** Why a scheduled tick started no run: the cron's previous run was still going, it was paused, or no server was up. */
export type SkipReason = (typeof SKIP_REASONS)[number];

export const CATCH_UP_MODES = ['none', 'last'] as const;
/** After downtime: nothing (`none`), or one run at start when a tick was missed (`last`). */
export type CatchUp = (typeof CATCH_UP_MODES)[number];
/** triggeredBy of the run `catchUp: "last"` starts. */
export const CATCH_UP_TRIGGERED_BY = 'catch-up';

/** A scheduled tick that started no run. Not an execution: runs, KPIs and the guide's SQL stay runs only. */
export interface SkippedTick {
  cronName: string;
  tickAt: string;
  reason: SkipReason;
  /** The instance that recorded it. */
  runnerId: string;
  /** For already-running: the run that was still going. */
  runningExecutionId: string | null;
  recordedAt: string;
}

export interface SkippedTicksReply {
  skippedTicks: SkippedTick[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** Will the cron's runs overlap its own schedule? From the p95 of its recent runs and its next ticks. */
export interface OverlapForecast {
  /** overlap: p95 > the shortest gap; ok: it fits; unknown: too few runs, or a schedule without two next ticks. */
  status: 'overlap' | 'ok' | 'unknown';
  p95Ms: number | null;
  samples: number;
  shortestIntervalMs: number | null;
  /** The gap's first tick (ISO 8601). */
  shortestIntervalAt: string | null;
  /** Every gap among the ticks looked at is the same ("every 5 min"). */
  regular: boolean;
  ticksConsidered: number;
  /** Of those ticks, how many runs lasting p95 would skip (a tick that finds the cron running is skipped). */
  ticksSkipped: number;
  /** "p95 6 min 12 s > every 5 min"; null unless status is overlap. */
  message: string | null;
}

/** A cron with what an operator needs to see about it. */
export interface Cron {
  name: string;
  description: string;
  schedule: string;
  /** The schedule in words, e.g. "At 08:00 AM". */
  scheduleText: string;
  timezone: string;
  command: string[];
  estimatedDurationMs: number;
  timeoutMs: number;
  enabled: boolean;
  paused: boolean;
  params: Record<string, ParamSpec>;
  nextRunAt: string | null;
  lastExecution: Execution | null;
  runningExecution: Execution | null;
  /**
   * When the rate limits (per cron and global) will next accept a manual trigger of this cron; null when
   * one would be accepted now. Lets a client refuse before asking for a confirmation.
   */
  manualTriggerAvailableAt?: string | null;
  /** What happens after downtime (always set by the server). */
  catchUp?: CatchUp;
  /** Ticks of the last 24 hours that started no run (always set by the server). */
  skippedTicks24h?: number;
  /** Whether its runs will overlap its schedule (always set by the server). */
  overlap?: OverlapForecast;
  /** The retry the cron is waiting to run (the soonest, if several chains wait); null when none (always set by the server). */
  pendingRetry?: PendingRetryInfo | null;
}

export interface CronsReply {
  crons: Cron[];
}

export interface ExecutionsReply {
  executions: Execution[];
  /** Pass as `before` to get the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export type LogStream = 'stdout' | 'stderr';

export interface LogLine {
  seq: number;
  at: string;
  stream: LogStream;
  line: string;
}

export interface LogsReply {
  lines: LogLine[];
  /** True once the execution has ended and every line has been returned. */
  done: boolean;
}

export interface TriggerRequest {
  cronName: string;
  params?: Record<string, ParamValue>;
}

/** The guide's trigger reply, plus the id of the new execution. */
export interface TriggerReply {
  success: true;
  cronName: string;
  description: string;
  estimatedDuration: number;
  executionId: string;
  message: string;
  note: string;
}

export interface MarkFailedRequest {
  reason?: string;
}

/** Every error reply: `error` says what went wrong and what to do next. */
export interface ErrorReply {
  success: false;
  error: string;
  /** What to do next, when `error` is a fixed phrase (the guide's "Cron is already running"). */
  message?: string;
  /** Set on 409 "Cron is already running". */
  runningExecutionId?: string;
  /** Set on 429: seconds until a trigger may succeed (also in the Retry-After header). */
  retryAfterS?: number;
  /** Set on 409 for an execution that is no longer running. */
  status?: ExecutionStatus;
  cronName?: string;
}

/** The four KPIs of the dashboard. */
export interface Stats {
  executions24h: number;
  running: number;
  failures24h: number;
  nextExecution: { cronName: string; at: string } | null;
}

export interface TimelineEntry {
  id: string;
  cronName: string;
  status: ExecutionStatus;
  startedAt: string;
  /** For a running execution: the time elapsed so far. */
  durationMs: number;
}

/** Runs of one cron and status within [start, end), summarised when a range holds too many to draw. */
export interface TimelineBucket {
  cronName: string;
  status: ExecutionStatus;
  start: string;
  end: string;
  count: number;
  maxDurationMs: number;
  p95DurationMs: number;
}

export interface TimelineReply {
  from: string;
  to: string;
  /**
   * Single runs. When the range holds more runs than a chart can show, completed runs are summarised in
   * `buckets` and only failed, cancelled and running runs stay here (newest first, bounded).
   */
  executions: TimelineEntry[];
  /** Present when the reply is summarised; zoom in (`from`/`to`) for finer buckets, down to single runs. */
  buckets?: TimelineBucket[];
  bucketMs?: number;
  /** Ticks of the range that started no run, newest first, at most TIMELINE_MAX_SKIPPED (always set by the server). */
  skipped?: TimelineSkip[];
  /** How many skipped ticks the range holds in all (more than `skipped` when the bound cut it). */
  skippedTotal?: number;
}

/** One problem of the cron definitions file; line and column are 1-based, absent when no place is known. */
export interface DefinitionProblem {
  message: string;
  /** The setting, as the server names it (e.g. "crons[2].schedule"); absent for JSON syntax errors. */
  field?: string;
  line?: number;
  column?: number;
  /** Characters from line:column that the problem covers. */
  length?: number;
}

export interface TimelineSkip {
  cronName: string;
  tickAt: string;
  reason: SkipReason;
}

/** Skipped ticks a timeline reply lists at most. */
export const TIMELINE_MAX_SKIPPED = 1000;

export interface HealthReply {
  status: 'ok' | 'degraded';
  version: string;
  store: 'sqlite' | 'postgres';
  runnerId: string;
  uptimeS: number;
  /** Why the server is degraded (a store that refuses writes, for example). */
  reason?: string;
  /**
   * The cron definitions file. Invalid (an edit with mistakes) does not make the server degraded: it keeps
   * running the crons of `loadedAt`, its last good load.
   */
  definitions?: {
    path: string;
    valid: boolean;
    loadedAt: string;
    problems: DefinitionProblem[];
  };
}

/** Who the server takes the caller for: lets a client hide what the role may not do. */
export interface SessionReply {
  name: string | null;
  role: Role;
}

export interface TokenInfo {
  name: string;
  role: Role;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface TokensReply {
  tokens: TokenInfo[];
}

export interface CreateTokenRequest {
  name: string;
  role: Role;
}

/** The token itself is shown once, in this reply. */
export interface CreateTokenReply {
  name: string;
  role: Role;
  token: string;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  role: Role | 'machine' | null;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
  clientAddress: string | null;
}

export interface AuditReply {
  entries: AuditEntry[];
}

/** External scripts record their own runs (X-Cron-Secret). */
export interface ExternalStartRequest {
  cronName: string;
  params?: Record<string, ParamValue>;
}

export interface ExternalCompleteRequest {
  executionId: string;
  status: 'completed' | 'failed';
  exitCode?: number;
  errorMessage?: string;
}

export const CRON_NAME_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';
export const MANUAL_TRIGGER_MESSAGE = 'Cron execution started. Check table for results.';
export const MANUAL_TRIGGER_NOTE = 'Execution is asynchronous. Refresh page in a few seconds.';
export const ALREADY_RUNNING_ERROR = 'Cron is already running';
export const MANUAL_FAILURE_REASON = 'Timeout - manually cancelled';

/** Paths of the API, relative to the server URL. */
export const API_PATHS = {
  health: '/health',
  crons: '/api/admin/crons',
  executions: '/api/admin/cron-executions',
  trigger: '/api/admin/cron-executions/trigger',
  stats: '/api/admin/cron-executions/stats',
  timeline: '/api/admin/cron-executions/timeline',
  events: '/api/admin/events',
  audit: '/api/admin/audit',
  session: '/api/admin/session',
  tokens: '/api/admin/tokens',
  token: (name: string) => `/api/admin/tokens/${encodeURIComponent(name)}`,
  externalStart: '/api/cron/start',
  externalComplete: '/api/cron/complete',
  execution: (id: string) => `/api/admin/cron-executions/${encodeURIComponent(id)}`,
  logs: (id: string) => `/api/admin/cron-executions/${encodeURIComponent(id)}/logs`,
  markFailed: (id: string) => `/api/admin/cron-executions/${encodeURIComponent(id)}/mark-failed`,
  cancel: (id: string) => `/api/admin/cron-executions/${encodeURIComponent(id)}/cancel`,
  script: (id: string) => `/api/admin/cron-executions/${encodeURIComponent(id)}/script`,
  scriptFile: (id: string) => `/api/admin/cron-executions/${encodeURIComponent(id)}/script/file`,
  lastSuccessful: (id: string) => `/api/admin/cron-executions/${encodeURIComponent(id)}/last-successful`,
  pause: (name: string) => `/api/admin/crons/${encodeURIComponent(name)}/pause`,
  resume: (name: string) => `/api/admin/crons/${encodeURIComponent(name)}/resume`,
  skipped: (name: string) => `/api/admin/crons/${encodeURIComponent(name)}/skipped`,
} as const;
