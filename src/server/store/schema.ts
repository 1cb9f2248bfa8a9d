// The tables as the query layer sees them: one typed description for SQLite and PostgreSQL. Columns keep
// the guide's names. Timestamps are read back as Date (PostgreSQL) or ISO-8601 text (SQLite); JSON columns
// as objects (PostgreSQL) or text (SQLite); booleans as boolean or 0/1.
import type { ColumnType, Generated } from 'kysely';
import type { ExecutionStatus, Role, SkipReason, TriggerType } from '../../shared/api';

/** Written as ISO-8601 text; read as whatever the driver gives. */
export type Timestamp = ColumnType<Date | string, string, string>;
export type Json = ColumnType<unknown, string, string>;
export type Flag = ColumnType<boolean | number, boolean | number, boolean | number>;

export interface CronExecutionsTable {
  id: string;
  cron_name: string;
  status: ExecutionStatus;
  trigger_type: TriggerType;
  triggered_by: string | null;
  params: Json;
  started_at: ColumnType<Date | string, string | undefined, string>;
  completed_at: Timestamp | null;
  duration_ms: number | null;
  exit_code: number | null;
  error_message: string | null;
  runner_id: string | null;
  pid: number | null;
  log_lines_dropped: Generated<number>;
  /** Retries (src/server/alerts): 1 for a first run; later attempts point at the first with retry_of. */
  attempt: Generated<number>;
  retry_of: string | null;
  /** The script version the run launched (scriptVersionStore.ts); null when none was recorded. */
  script_version: ColumnType<string | null, string | null | undefined, string | null>;
  git_commit: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Each distinct file content a run launched, once (content-addressed). */
export interface ScriptFilesTable {
  sha256: string;
  content: Buffer;
  size: number;
  first_seen: ColumnType<Date | string, string | undefined, never>;
}

/** Each distinct script version, by its hash over the files' paths and contents. */
export interface ScriptVersionsTable {
  hash: string;
  first_seen: ColumnType<Date | string, string | undefined, never>;
}

/** The files of a version: a content, or a file left unread (its size alone counts). */
export interface ScriptVersionFilesTable {
  version_hash: string;
  path: string;
  /** bigint on PostgreSQL (read as text). */
  size: ColumnType<number | string, number, number>;
  sha256: string | null;
  skipped: 'too-large' | 'too-many-files' | null;
}

export interface CronExecutionLogsTable {
  execution_id: string;
  seq: number;
  at: Timestamp;
  stream: 'stdout' | 'stderr';
  line: string;
}

export interface AuditLogTable {
  id: Generated<number | string>;
  at: ColumnType<Date | string, string | undefined, never>;
  actor: string;
  role: string | null;
  action: string;
  target: string | null;
  details: Json;
  client_address: string | null;
}

export interface ApiTokensTable {
  name: string;
  role: Role;
  token_sha256: string;
  created_at: ColumnType<Date | string, string | undefined, never>;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface CronStateTable {
  cron_name: string;
  paused: Flag;
  changed_at: Timestamp;
  changed_by: string | null;
}

export interface ScheduleTicksTable {
  cron_name: string;
  tick_at: Timestamp;
  claimed_by: string;
  claimed_at: ColumnType<Date | string, string | undefined, never>;
}

/** Ticks that started no run (skippedTicks.ts): the cron was running or paused, or no server was up. */
export interface SkippedTicksTable {
  cron_name: string;
  tick_at: Timestamp;
  reason: SkipReason;
  /** The instance that saw (or, for server-down, found) the skip. */
  runner_id: string;
  /** For already-running: the run still going. */
  running_execution_id: string | null;
  recorded_at: ColumnType<Date | string, string | undefined, never>;
}

export interface RunnersTable {
  runner_id: string;
  host: string;
  version: string;
  started_at: Timestamp;
  last_seen_at: Timestamp;
}

/**
 * Roll-ups of cron_executions kept by triggers on both stores: per cron, status, time bucket and
 * duration class, the number of runs and their longest duration. `bucket_s` is the bucket's width
 * (60 s, 1 h or 1 day); `duration_class` is the index in DURATION_CLASS_BOUNDS of the smallest bound the
 * duration fits under (-1 while running).
 */
export interface CronExecutionRollupsTable {
  bucket_s: number;
  bucket_start: Timestamp;
  cron_name: string;
  status: ExecutionStatus;
  duration_class: number;
  runs: number;
  max_duration_ms: number;
}

/**
 * A counter per hour (UTC) of started_at, moved by the triggers with every change to a run of that hour;
 * the row at the epoch moves when the whole history changes at once. The timeline's cache of shaped
 * buckets keys on them (timelineCache.ts).
 */
export interface CronRollupRevisionsTable {
  hour_start: Timestamp;
  revision: number | string;
}

/** SQLite only: what the triggers saw change, read by the server when the file changed (changeFeed). */
export interface CronChangesTable {
  seq: Generated<number>;
  channel: string;
  payload: string;
}

export interface Database {
  cron_executions: CronExecutionsTable;
  cron_execution_logs: CronExecutionLogsTable;
  audit_log: AuditLogTable;
  api_tokens: ApiTokensTable;
  cron_state: CronStateTable;
  schedule_ticks: ScheduleTicksTable;
  skipped_ticks: SkippedTicksTable;
  runners: RunnersTable;
  cron_execution_rollups: CronExecutionRollupsTable;
  cron_rollup_revisions: CronRollupRevisionsTable;
  cron_changes: CronChangesTable;
  script_files: ScriptFilesTable;
  script_versions: ScriptVersionsTable;
  script_version_files: ScriptVersionFilesTable;
}
