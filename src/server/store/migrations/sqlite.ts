// SQLite's migrations: the same tables and columns as PostgreSQL's, in SQLite's types. Timestamps are
// ISO-8601 text in UTC with milliseconds ('2026-11-29T22:00:00.000Z'), so they sort as text and read by
// hand; JSON is text. Triggers do what PostgreSQL's do: fill the end of a run ended by hand, keep the
// roll-ups, and record every change in cron_changes, which the server reads (there is no NOTIFY).
import { durationClassSql, durationClassValues } from '../rollups';
import type { Migration } from './migration';
import { ALERTS_SQLITE_SQL } from '../../alerts/alertMigrations';

const NOW = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;

const BUCKET_FORMATS = [
  [60, '%Y-%m-%dT%H:%M:00.000Z'],
  [3600, '%Y-%m-%dT%H:00:00.000Z'],
  [86400, '%Y-%m-%dT00:00:00.000Z'],
] as const;

/** Adds `sign` runs of row `r` (NEW or OLD) to its groups at every bucket width; drops emptied groups. */
function rollupDelta(r: 'NEW' | 'OLD', sign: 1 | -1): string {
  const values = BUCKET_FORMATS.map(
    ([seconds, format]) =>
      `(${seconds}, strftime('${format}', ${r}.started_at), ${r}.cron_name, ${r}.status, ${durationClassSql(`${r}.duration_ms`)}, ${sign}, ${sign > 0 ? `COALESCE(${r}.duration_ms, 0)` : '0'})`,
  );
  return `INSERT INTO cron_execution_rollups (bucket_s, bucket_start, cron_name, status, duration_class, runs, max_duration_ms)
    VALUES ${values.join(',\n      ')}
    ON CONFLICT (bucket_s, bucket_start, cron_name, status, duration_class)
    DO UPDATE SET runs = runs + excluded.runs, max_duration_ms = max(max_duration_ms, excluded.max_duration_ms);
    ${sign < 0 ? 'DELETE FROM cron_execution_rollups WHERE runs = 0;' : ''}`;
}

/** Moves the revision of the hour of row `r`'s start (timeline revisions, version 5). */
function reviseHour(r: 'NEW' | 'OLD'): string {
  return `INSERT INTO cron_rollup_revisions (hour_start, revision) VALUES (strftime('%Y-%m-%dT%H:00:00.000Z', ${r}.started_at), 1)
    ON CONFLICT (hour_start) DO UPDATE SET revision = revision + 1;`;
}

/** The row as PostgreSQL's row_to_json gives it, for the change feed (`extra`: columns added since version 1). */
function rowJson(r: string, extra: string[] = []): string {
  const columns = ['id', 'cron_name', 'status', 'trigger_type', 'triggered_by', 'started_at', 'completed_at', 'duration_ms', 'exit_code', 'error_message', 'runner_id', 'log_lines_dropped', ...extra];
  return `json_object(${columns.map((column) => `'${column}', ${r}.${column}`).join(', ')}, 'params', json(${r}.params))`;
}

/** The triggers that tell the change feed about starts and ends, with the row's columns as of `extra`. */
function executionChangeTriggers(extra: string[] = []): string {
  return `
      CREATE TRIGGER cron_executions_changes_insert AFTER INSERT ON cron_executions BEGIN
        INSERT INTO cron_changes (channel, payload) VALUES ('cron_ops_executions', json_object('op', 'INSERT', 'row', ${rowJson('NEW', extra)}));
      END;
      -- A status change that comes complete (the server's own, or a full UPDATE by hand).
      CREATE TRIGGER cron_executions_changes_update AFTER UPDATE OF status ON cron_executions
        WHEN OLD.status IS NOT NEW.status AND (NEW.status = 'running' OR (NEW.completed_at IS NOT NULL AND NEW.duration_ms IS NOT NULL))
      BEGIN
        INSERT INTO cron_changes (channel, payload) VALUES ('cron_ops_executions', json_object('op', 'UPDATE', 'row', ${rowJson('NEW', extra)}));
      END;
      -- A run ended by hand (the guide's UPDATE ... SET status = 'failed') still gets its end and duration,
      -- then is announced complete.
      CREATE TRIGGER cron_executions_fill_end AFTER UPDATE OF status ON cron_executions
        WHEN OLD.status = 'running' AND NEW.status <> 'running' AND (NEW.completed_at IS NULL OR NEW.duration_ms IS NULL)
      BEGIN
        UPDATE cron_executions SET
          completed_at = COALESCE(completed_at, ${NOW}),
          duration_ms = COALESCE(duration_ms, max(0, CAST(round((julianday(COALESCE(completed_at, 'now')) - julianday(started_at)) * 86400000) AS integer)))
        WHERE id = NEW.id;
        INSERT INTO cron_changes (channel, payload)
          SELECT 'cron_ops_executions', json_object('op', 'UPDATE', 'row', ${rowJson('e', extra)}) FROM cron_executions e WHERE e.id = NEW.id;
      END;`;
}

export const SQLITE_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE cron_executions (
        id text PRIMARY KEY NOT NULL,
        cron_name text NOT NULL,
        status text NOT NULL CHECK (status IN ('completed', 'running', 'failed', 'cancelled')),
        trigger_type text NOT NULL CHECK (trigger_type IN ('scheduled', 'manual', 'external')),
        triggered_by text,
        params text NOT NULL DEFAULT '{}' CHECK (json_valid(params)),
        started_at text NOT NULL DEFAULT (${NOW}),
        completed_at text,
        duration_ms integer,
        exit_code integer,
        error_message text,
        runner_id text,
        pid integer,
        log_lines_dropped integer NOT NULL DEFAULT 0
      );
      -- The "already running" guard: at most one running execution per cron, whatever the concurrency.
      CREATE UNIQUE INDEX cron_executions_one_running ON cron_executions (cron_name) WHERE status = 'running';
      CREATE INDEX cron_executions_cron_started ON cron_executions (cron_name, started_at, id);
      CREATE INDEX cron_executions_started ON cron_executions (started_at, id);
      CREATE INDEX cron_executions_manual ON cron_executions (started_at) WHERE trigger_type = 'manual';
      CREATE INDEX cron_executions_manual_cron ON cron_executions (cron_name, started_at) WHERE trigger_type = 'manual';
      CREATE INDEX cron_executions_unfinished ON cron_executions (started_at) WHERE status <> 'completed';

      CREATE TABLE cron_execution_logs (
        execution_id text NOT NULL REFERENCES cron_executions (id) ON DELETE CASCADE,
        seq integer NOT NULL,
        at text NOT NULL DEFAULT (${NOW}),
        stream text NOT NULL CHECK (stream IN ('stdout', 'stderr')),
        line text NOT NULL,
        PRIMARY KEY (execution_id, seq)
      ) WITHOUT ROWID;

      CREATE TABLE audit_log (
        id integer PRIMARY KEY,
        at text NOT NULL DEFAULT (${NOW}),
        actor text NOT NULL,
        role text,
        action text NOT NULL,
        target text,
        details text NOT NULL DEFAULT '{}',
        client_address text
      );

      CREATE TABLE api_tokens (
        name text PRIMARY KEY NOT NULL,
        role text NOT NULL CHECK (role IN ('viewer', 'admin', 'super-admin')),
        token_sha256 text NOT NULL UNIQUE,
        created_at text NOT NULL DEFAULT (${NOW}),
        last_used_at text,
        revoked_at text
      );

      CREATE TABLE cron_state (
        cron_name text PRIMARY KEY NOT NULL,
        paused integer NOT NULL DEFAULT 0,
        changed_at text NOT NULL DEFAULT (${NOW}),
        changed_by text
      );

      CREATE TABLE schedule_ticks (
        cron_name text NOT NULL,
        tick_at text NOT NULL,
        claimed_by text NOT NULL,
        claimed_at text NOT NULL DEFAULT (${NOW}),
        PRIMARY KEY (cron_name, tick_at)
      ) WITHOUT ROWID;
      CREATE INDEX schedule_ticks_at ON schedule_ticks (tick_at);

      CREATE TABLE runners (
        runner_id text PRIMARY KEY NOT NULL,
        host text NOT NULL,
        version text NOT NULL,
        started_at text NOT NULL DEFAULT (${NOW}),
        last_seen_at text NOT NULL DEFAULT (${NOW})
      );

      CREATE TABLE cron_duration_classes (duration_class integer PRIMARY KEY, upper_ms integer NOT NULL UNIQUE);
      INSERT INTO cron_duration_classes (duration_class, upper_ms) VALUES ${durationClassValues()};

      CREATE TABLE cron_execution_rollups (
        bucket_s integer NOT NULL,
        bucket_start text NOT NULL,
        cron_name text NOT NULL,
        status text NOT NULL,
        duration_class integer NOT NULL,
        runs integer NOT NULL,
        max_duration_ms integer NOT NULL,
        PRIMARY KEY (bucket_s, bucket_start, cron_name, status, duration_class)
      ) WITHOUT ROWID;
      CREATE INDEX cron_execution_rollups_empty ON cron_execution_rollups (bucket_s) WHERE runs = 0;

      -- What changed, for the server's event stream. AUTOINCREMENT: a sequence number is never reused,
      -- even after the server removed every row it read.
      CREATE TABLE cron_changes (
        seq integer PRIMARY KEY AUTOINCREMENT,
        channel text NOT NULL,
        payload text NOT NULL
      );

      CREATE TRIGGER cron_executions_rollup_insert AFTER INSERT ON cron_executions BEGIN
        ${rollupDelta('NEW', 1)}
      END;
      CREATE TRIGGER cron_executions_rollup_delete AFTER DELETE ON cron_executions BEGIN
        ${rollupDelta('OLD', -1)}
      END;
      CREATE TRIGGER cron_executions_rollup_move AFTER UPDATE OF status, started_at, duration_ms, cron_name ON cron_executions
        WHEN OLD.status IS NOT NEW.status OR OLD.started_at IS NOT NEW.started_at
          OR OLD.duration_ms IS NOT NEW.duration_ms OR OLD.cron_name IS NOT NEW.cron_name
      BEGIN
        ${rollupDelta('OLD', -1)}
        ${rollupDelta('NEW', 1)}
      END;

      ${executionChangeTriggers()}

      CREATE TRIGGER cron_state_changes_insert AFTER INSERT ON cron_state BEGIN
        INSERT INTO cron_changes (channel, payload) VALUES ('cron_ops_crons', json_object('cronNames', json_array(NEW.cron_name)));
      END;
      CREATE TRIGGER cron_state_changes_update AFTER UPDATE ON cron_state BEGIN
        INSERT INTO cron_changes (channel, payload) VALUES ('cron_ops_crons', json_object('cronNames', json_array(NEW.cron_name)));
      END;
    `,
  },
  {
    version: 2,
    name: 'alerts and retries',
    // The change feed's rows carry the retry columns: its triggers are made anew with them.
    sql: `${ALERTS_SQLITE_SQL}
      DROP TRIGGER cron_executions_changes_insert;
      DROP TRIGGER cron_executions_changes_update;
      DROP TRIGGER cron_executions_fill_end;
      ${executionChangeTriggers(['attempt', 'retry_of'])}`,
  },
  {
    version: 3,
    name: 'skipped ticks',
    // Ticks that started no run, apart from cron_executions so the guide's SQL and the KPIs count runs only.
    // One row per tick: instances that see the same paused tick record it once.
    sql: `
      CREATE TABLE skipped_ticks (
        cron_name text NOT NULL,
        tick_at text NOT NULL,
        reason text NOT NULL CHECK (reason IN ('already-running', 'paused', 'server-down')),
        runner_id text NOT NULL,
        running_execution_id text,
        recorded_at text NOT NULL DEFAULT (${NOW}),
        PRIMARY KEY (cron_name, tick_at)
      ) WITHOUT ROWID;
      CREATE INDEX skipped_ticks_at ON skipped_ticks (tick_at);`,
  },
  {
    version: 4,
    name: 'script versions',
    // Each run names the version of the scripts it launched; each version and each file content is kept
    // once (content-addressed) and pruned with the retention once no execution names it. The change feed's
    // rows carry the new columns: its triggers are made anew with them.
    sql: `
      ALTER TABLE cron_executions ADD COLUMN script_version text;
      ALTER TABLE cron_executions ADD COLUMN git_commit text;
      CREATE INDEX cron_executions_script_version ON cron_executions (script_version) WHERE script_version IS NOT NULL;

      CREATE TABLE script_files (
        sha256 text PRIMARY KEY NOT NULL,
        content blob NOT NULL,
        size integer NOT NULL,
        first_seen text NOT NULL DEFAULT (${NOW})
      );
      CREATE TABLE script_versions (
        hash text PRIMARY KEY NOT NULL,
        first_seen text NOT NULL DEFAULT (${NOW})
      );
      CREATE TABLE script_version_files (
        version_hash text NOT NULL REFERENCES script_versions (hash) ON DELETE CASCADE,
        path text NOT NULL,
        size integer NOT NULL,
        sha256 text REFERENCES script_files (sha256),
        skipped text CHECK (skipped IN ('too-large', 'too-many-files')),
        PRIMARY KEY (version_hash, path)
      ) WITHOUT ROWID;
      CREATE INDEX script_version_files_sha256 ON script_version_files (sha256) WHERE sha256 IS NOT NULL;

      DROP TRIGGER cron_executions_changes_insert;
      DROP TRIGGER cron_executions_changes_update;
      DROP TRIGGER cron_executions_fill_end;
      ${executionChangeTriggers(['attempt', 'retry_of', 'script_version', 'git_commit'])}`,
  },
  {
    version: 5,
    name: 'timeline revisions',
    // A counter per hour of started_at, moved by every change to a run of that hour (with the roll-ups):
    // the timeline keeps the buckets it shaped and reuses one while the revisions of its hours are
    // unchanged (timelineCache.ts). The row at the epoch is the whole history's revision (moved
    // when the roll-ups are rebuilt outside the triggers). And the index of the runs the timeline lists
    // one by one covers what it shows of them.
    sql: `
      -- The timeline's failed, cancelled and running runs, newest first, read from the index alone.
      DROP INDEX cron_executions_unfinished;
      CREATE INDEX cron_executions_unfinished ON cron_executions (started_at, cron_name, status, duration_ms, id) WHERE status <> 'completed';
      CREATE TABLE cron_rollup_revisions (
        hour_start text PRIMARY KEY NOT NULL,
        revision integer NOT NULL
      ) WITHOUT ROWID;
      CREATE TRIGGER cron_executions_revision_insert AFTER INSERT ON cron_executions BEGIN
        ${reviseHour('NEW')}
      END;
      CREATE TRIGGER cron_executions_revision_delete AFTER DELETE ON cron_executions BEGIN
        ${reviseHour('OLD')}
      END;
      CREATE TRIGGER cron_executions_revision_move AFTER UPDATE OF status, started_at, duration_ms, cron_name ON cron_executions
        WHEN OLD.status IS NOT NEW.status OR OLD.started_at IS NOT NEW.started_at
          OR OLD.duration_ms IS NOT NEW.duration_ms OR OLD.cron_name IS NOT NEW.cron_name
      BEGIN
        ${reviseHour('OLD')}
        ${reviseHour('NEW')}
      END;`,
  },
  {
    version: 6,
    name: 'timeline revisions follow a run id changed by hand',
    // The timeline lists a run by its id: a hand UPDATE of the id alone must move its hour too.
    sql: `
      DROP TRIGGER cron_executions_revision_move;
      CREATE TRIGGER cron_executions_revision_move AFTER UPDATE OF status, started_at, duration_ms, cron_name, id ON cron_executions
        WHEN OLD.status IS NOT NEW.status OR OLD.started_at IS NOT NEW.started_at
          OR OLD.duration_ms IS NOT NEW.duration_ms OR OLD.cron_name IS NOT NEW.cron_name OR OLD.id IS NOT NEW.id
      BEGIN
        ${reviseHour('OLD')}
        ${reviseHour('NEW')}
      END;`,
  },
];
