// PostgreSQL's migrations. Versions 1 and 2 are as first shipped (databases in use have them); later
// versions change what they need. The guide's SQL runs unchanged on the resulting schema.
import { durationClassSql, durationClassValues, ROLLUP_LEVELS } from '../rollups';
import type { Migration } from './migration';
import { ALERTS_POSTGRES_SQL } from '../../alerts/alertMigrations';

const PG_UNITS: Record<(typeof ROLLUP_LEVELS)[number], string> = { 60: 'minute', 3600: 'hour', 86400: 'day' };
const LEVELS_VALUES = ROLLUP_LEVELS.map((seconds) => `(${seconds}, '${PG_UNITS[seconds]}')`).join(', ');

/** Roll-ups per cron, status, bucket and duration class grouped from `source` rows, times `sign`. */
function rollupUpsert(source: string, sign: 1 | -1): string {
  return `
    INSERT INTO cron_execution_rollups AS r (bucket_s, bucket_start, cron_name, status, duration_class, runs, max_duration_ms)
    SELECT l.s, date_trunc(l.unit, x.started_at, 'UTC'), x.cron_name, x.status, x.duration_class, ${sign} * count(*)::int,
      ${sign > 0 ? 'COALESCE(max(x.duration_ms), 0)' : '0'}
    FROM (SELECT started_at, cron_name, status, duration_ms, ${durationClassSql('duration_ms')} AS duration_class FROM ${source}) x
      CROSS JOIN (VALUES ${LEVELS_VALUES}) AS l(s, unit)
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (bucket_s, bucket_start, cron_name, status, duration_class)
    DO UPDATE SET runs = r.runs + EXCLUDED.runs, max_duration_ms = GREATEST(r.max_duration_ms, EXCLUDED.max_duration_ms)`;
}

/** Moves the revisions of the hours (UTC) of the `started_at` values `source` selects (timeline revisions). */
function reviseHours(source: string): string {
  return `
    INSERT INTO cron_rollup_revisions AS r (hour_start, revision)
    SELECT DISTINCT date_trunc('hour', started_at, 'UTC'), 1 FROM (${source}) AS changed(started_at) ORDER BY 1
    ON CONFLICT (hour_start) DO UPDATE SET revision = r.revision + 1`;
}

/** Version 3: roll-ups replace the per-minute counts; indexes for the bounded reads. */
const POSTGRES_ROLLUPS: Migration = {
  version: 3,
  name: 'roll-ups per cron, status, bucket and duration class',
  // KPIs and the timeline read these instead of the executions: their cost follows what they show, not
  // the history's size. Triggers keep them exact whoever writes (any instance, the retention, SQL by hand).
  sql: `
    DROP TRIGGER cron_executions_count_insert ON cron_executions;
    DROP TRIGGER cron_executions_count_delete ON cron_executions;
    DROP TRIGGER cron_executions_count_truncate ON cron_executions;
    DROP TRIGGER cron_executions_recount ON cron_executions;
    DROP FUNCTION cron_executions_count();
    DROP FUNCTION cron_executions_recount();
    DROP TABLE cron_execution_minutes;

    CREATE TABLE cron_duration_classes (duration_class integer PRIMARY KEY, upper_ms bigint NOT NULL UNIQUE);
    INSERT INTO cron_duration_classes (duration_class, upper_ms) VALUES ${durationClassValues()};

    CREATE TABLE cron_execution_rollups (
      bucket_s integer NOT NULL,
      bucket_start timestamptz NOT NULL,
      cron_name text NOT NULL,
      status text NOT NULL,
      duration_class integer NOT NULL,
      runs integer NOT NULL,
      max_duration_ms integer NOT NULL,
      PRIMARY KEY (bucket_s, bucket_start, cron_name, status, duration_class)
    );
    -- Groups emptied by a move or a delete, found without scanning the others.
    CREATE INDEX cron_execution_rollups_empty ON cron_execution_rollups (bucket_s) WHERE runs = 0;

    -- Inserts and deletes per statement (a bulk insert or the retention's delete is one grouped write);
    -- an update moves one row between groups. A group whose runs fall to 0 goes.
    CREATE FUNCTION cron_executions_rollup() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        ${rollupUpsert('new_rows', 1)};
      ELSIF TG_OP = 'DELETE' THEN
        ${rollupUpsert('old_rows', -1)};
        DELETE FROM cron_execution_rollups WHERE runs = 0;
      ELSIF TG_OP = 'TRUNCATE' THEN
        DELETE FROM cron_execution_rollups;
      END IF;
      RETURN NULL;
    END $$ LANGUAGE plpgsql;
    CREATE TRIGGER cron_executions_rollup_insert AFTER INSERT ON cron_executions
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cron_executions_rollup();
    CREATE TRIGGER cron_executions_rollup_delete AFTER DELETE ON cron_executions
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION cron_executions_rollup();
    CREATE TRIGGER cron_executions_rollup_truncate AFTER TRUNCATE ON cron_executions
      FOR EACH STATEMENT EXECUTE FUNCTION cron_executions_rollup();

    CREATE FUNCTION cron_executions_rollup_move() RETURNS trigger AS $$
    BEGIN
      ${rollupUpsert('(SELECT OLD.*) o', -1)};
      ${rollupUpsert('(SELECT NEW.*) n', 1)};
      DELETE FROM cron_execution_rollups WHERE runs = 0;
      RETURN NULL;
    END $$ LANGUAGE plpgsql;
    CREATE TRIGGER cron_executions_rollup_move AFTER UPDATE OF status, started_at, duration_ms, cron_name ON cron_executions FOR EACH ROW
      WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.started_at IS DISTINCT FROM NEW.started_at
        OR OLD.duration_ms IS DISTINCT FROM NEW.duration_ms OR OLD.cron_name IS DISTINCT FROM NEW.cron_name)
      EXECUTE FUNCTION cron_executions_rollup_move();

    ${rollupUpsert('cron_executions', 1)};

    -- The rate limits' look-ups, and the timeline's failed, cancelled and running runs, newest first.
    CREATE INDEX cron_executions_manual_cron ON cron_executions (cron_name, started_at) WHERE trigger_type = 'manual';
    CREATE INDEX cron_executions_unfinished ON cron_executions (started_at) WHERE status <> 'completed';
    CREATE INDEX schedule_ticks_at ON schedule_ticks (tick_at);
  `,
};

export const POSTGRES_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE cron_executions (
        id uuid PRIMARY KEY,
        cron_name text NOT NULL,
        status text NOT NULL CHECK (status IN ('completed', 'running', 'failed', 'cancelled')),
        trigger_type text NOT NULL CHECK (trigger_type IN ('scheduled', 'manual', 'external')),
        triggered_by text,
        params jsonb NOT NULL DEFAULT '{}'::jsonb,
        started_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        duration_ms integer,
        exit_code integer,
        error_message text,
        runner_id text,
        pid integer,
        log_lines_dropped integer NOT NULL DEFAULT 0
      );
      -- The "already running" guard: at most one running execution per cron, whatever the concurrency.
      CREATE UNIQUE INDEX cron_executions_one_running ON cron_executions (cron_name) WHERE status = 'running';
      CREATE INDEX cron_executions_cron_started ON cron_executions (cron_name, started_at DESC);
      CREATE INDEX cron_executions_started ON cron_executions (started_at DESC);
      CREATE INDEX cron_executions_manual ON cron_executions (started_at) WHERE trigger_type = 'manual';

      CREATE TABLE cron_execution_logs (
        execution_id uuid NOT NULL REFERENCES cron_executions (id) ON DELETE CASCADE,
        seq integer NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        stream text NOT NULL CHECK (stream IN ('stdout', 'stderr')),
        line text NOT NULL,
        PRIMARY KEY (execution_id, seq)
      );

      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        role text,
        action text NOT NULL,
        target text,
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        client_address text
      );
      CREATE INDEX audit_log_at ON audit_log (at DESC);

      CREATE TABLE api_tokens (
        name text PRIMARY KEY,
        role text NOT NULL CHECK (role IN ('viewer', 'admin', 'super-admin')),
        token_sha256 text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      );

      CREATE TABLE cron_state (
        cron_name text PRIMARY KEY,
        paused boolean NOT NULL DEFAULT false,
        changed_at timestamptz NOT NULL DEFAULT now(),
        changed_by text
      );

      -- A scheduled tick is claimed once, by this key, whichever instance sees it first.
      CREATE TABLE schedule_ticks (
        cron_name text NOT NULL,
        tick_at timestamptz NOT NULL,
        claimed_by text NOT NULL,
        claimed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (cron_name, tick_at)
      );

      -- Runners alive (heartbeat): where a cron pinned with runOn can run.
      CREATE TABLE runners (
        runner_id text PRIMARY KEY,
        host text NOT NULL,
        version text NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now()
      );

      -- A run ended by hand (the guide's UPDATE ... SET status = 'failed') still gets its duration.
      CREATE FUNCTION cron_executions_fill_end() RETURNS trigger AS $$
      BEGIN
        IF OLD.status = 'running' AND NEW.status <> 'running' THEN
          NEW.completed_at := COALESCE(NEW.completed_at, now());
          NEW.duration_ms := COALESCE(NEW.duration_ms, GREATEST(0, (EXTRACT(EPOCH FROM (NEW.completed_at - NEW.started_at)) * 1000)::int));
        END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql;
      CREATE TRIGGER cron_executions_fill_end BEFORE UPDATE OF status ON cron_executions
        FOR EACH ROW EXECUTE FUNCTION cron_executions_fill_end();

      -- Every start and status change, whoever makes it (any instance, or SQL by hand), reaches every
      -- instance's event stream. NOTIFY payloads are limited to 8000 bytes: a large row sends its id alone.
      CREATE FUNCTION cron_executions_notify() RETURNS trigger AS $$
      DECLARE
        payload text := json_build_object('op', TG_OP, 'row', row_to_json(NEW))::text;
      BEGIN
        IF TG_OP = 'UPDATE' AND OLD.status = NEW.status THEN
          RETURN NEW;
        END IF;
        IF octet_length(payload) > 7000 THEN
          payload := json_build_object('op', TG_OP, 'id', NEW.id)::text;
        END IF;
        PERFORM pg_notify('cron_ops_executions', payload);
        RETURN NEW;
      END $$ LANGUAGE plpgsql;
      CREATE TRIGGER cron_executions_notify AFTER INSERT OR UPDATE OF status ON cron_executions
        FOR EACH ROW EXECUTE FUNCTION cron_executions_notify();
    `,
  },
  {
    version: 2,
    name: 'KPI counts per minute',
    // The KPIs (executions and failures of the last 24 h) add up these counts instead of reading every
    // execution of the day: with a million executions kept, counting a day's rows took 0.1 s on
    // PostgreSQL and 0.7 s embedded. Triggers keep them exact whoever writes: any instance, the
    // retention, SQL by hand. Completing a run changes nothing here; only inserts, failures and deletes do.
    sql: `
      CREATE TABLE cron_execution_minutes (
        minute timestamptz PRIMARY KEY,
        executions integer NOT NULL DEFAULT 0,
        failures integer NOT NULL DEFAULT 0
      );

      CREATE FUNCTION cron_minute(at timestamptz) RETURNS timestamptz AS $$
        SELECT date_trunc('minute', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
      $$ LANGUAGE sql IMMUTABLE;

      -- Per statement, so a bulk insert or the retention's delete is one grouped write.
      CREATE FUNCTION cron_executions_count() RETURNS trigger AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO cron_execution_minutes AS m (minute, executions, failures)
          SELECT cron_minute(started_at), count(*), count(*) FILTER (WHERE status = 'failed') FROM new_rows GROUP BY 1 ORDER BY 1
          ON CONFLICT (minute) DO UPDATE SET executions = m.executions + EXCLUDED.executions, failures = m.failures + EXCLUDED.failures;
        ELSIF TG_OP = 'DELETE' THEN
          UPDATE cron_execution_minutes AS m SET executions = m.executions - gone.executions, failures = m.failures - gone.failures
          FROM (SELECT cron_minute(started_at) AS minute, count(*) AS executions, count(*) FILTER (WHERE status = 'failed') AS failures
                FROM old_rows GROUP BY 1) gone
          WHERE m.minute = gone.minute;
          DELETE FROM cron_execution_minutes WHERE executions <= 0 AND minute IN (SELECT cron_minute(started_at) FROM old_rows);
        ELSIF TG_OP = 'TRUNCATE' THEN
          DELETE FROM cron_execution_minutes;
        END IF;
        RETURN NULL;
      END $$ LANGUAGE plpgsql;
      CREATE TRIGGER cron_executions_count_insert AFTER INSERT ON cron_executions
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cron_executions_count();
      CREATE TRIGGER cron_executions_count_delete AFTER DELETE ON cron_executions
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION cron_executions_count();
      CREATE TRIGGER cron_executions_count_truncate AFTER TRUNCATE ON cron_executions
        FOR EACH STATEMENT EXECUTE FUNCTION cron_executions_count();

      -- An update moves a row between counts only when it becomes (or stops being) failed, or its start moves.
      CREATE FUNCTION cron_executions_recount() RETURNS trigger AS $$
      BEGIN
        UPDATE cron_execution_minutes SET executions = executions - 1, failures = failures - (OLD.status = 'failed')::int
        WHERE minute = cron_minute(OLD.started_at);
        INSERT INTO cron_execution_minutes AS m (minute, executions, failures) VALUES (cron_minute(NEW.started_at), 1, (NEW.status = 'failed')::int)
        ON CONFLICT (minute) DO UPDATE SET executions = m.executions + 1, failures = m.failures + EXCLUDED.failures;
        RETURN NULL;
      END $$ LANGUAGE plpgsql;
      CREATE TRIGGER cron_executions_recount AFTER UPDATE OF status, started_at ON cron_executions FOR EACH ROW
        WHEN ((OLD.status = 'failed') IS DISTINCT FROM (NEW.status = 'failed') OR OLD.started_at IS DISTINCT FROM NEW.started_at)
        EXECUTE FUNCTION cron_executions_recount();

      INSERT INTO cron_execution_minutes (minute, executions, failures)
      SELECT cron_minute(started_at), count(*), count(*) FILTER (WHERE status = 'failed') FROM cron_executions GROUP BY 1;
    `,
  },
  POSTGRES_ROLLUPS,
  // row_to_json in the change feed's trigger carries the new columns by itself.
  { version: 4, name: 'alerts and retries', sql: ALERTS_POSTGRES_SQL },
  {
    version: 5,
    name: 'skipped ticks',
    // Ticks that started no run, apart from cron_executions so the guide's SQL and the KPIs count runs only.
    // One row per tick: instances that see the same paused tick record it once.
    sql: `
      CREATE TABLE skipped_ticks (
        cron_name text NOT NULL,
        tick_at timestamptz NOT NULL,
        reason text NOT NULL CHECK (reason IN ('already-running', 'paused', 'server-down')),
        runner_id text NOT NULL,
        running_execution_id text,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (cron_name, tick_at)
      );
      CREATE INDEX skipped_ticks_at ON skipped_ticks (tick_at);`,
  },
  {
    version: 6,
    name: 'script versions',
    // Each run names the version of the scripts it launched; each version and each file content is kept
    // once (content-addressed) and pruned with the retention once no execution names it. row_to_json in
    // the change feed's trigger carries the new columns by itself.
    sql: `
      ALTER TABLE cron_executions ADD COLUMN script_version text;
      ALTER TABLE cron_executions ADD COLUMN git_commit text;
      CREATE INDEX cron_executions_script_version ON cron_executions (script_version) WHERE script_version IS NOT NULL;

      CREATE TABLE script_files (
        sha256 text PRIMARY KEY,
        content bytea NOT NULL,
        size integer NOT NULL,
        first_seen timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE script_versions (
        hash text PRIMARY KEY,
        first_seen timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE script_version_files (
        version_hash text NOT NULL REFERENCES script_versions (hash) ON DELETE CASCADE,
        path text NOT NULL,
        -- A file left unread (over the size cap) may be larger than an integer holds.
        size bigint NOT NULL,
        sha256 text REFERENCES script_files (sha256),
        skipped text CHECK (skipped IN ('too-large', 'too-many-files')),
        PRIMARY KEY (version_hash, path)
      );
      CREATE INDEX script_version_files_sha256 ON script_version_files (sha256) WHERE sha256 IS NOT NULL;
    `,
  },
  {
    version: 7,
    name: 'timeline revisions',
    // A counter per hour of started_at, moved by every change to a run of that hour (with the roll-ups):
    // the timeline keeps the buckets it shaped and reuses one while the revisions of its hours are
    // unchanged (timelineCache.ts). The row at the epoch is the whole history's revision (moved by
    // a TRUNCATE). Per statement, as the roll-ups: a bulk insert or the retention's delete is one write.
    // And the index of the runs the timeline lists one by one covers what it shows of them.
    sql: `
      -- The timeline's failed, cancelled and running runs, newest first, read from the index alone.
      DROP INDEX cron_executions_unfinished;
      CREATE INDEX cron_executions_unfinished ON cron_executions (started_at) INCLUDE (cron_name, status, duration_ms, id) WHERE status <> 'completed';
      CREATE TABLE cron_rollup_revisions (
        hour_start timestamptz PRIMARY KEY,
        revision bigint NOT NULL
      );
      CREATE FUNCTION cron_executions_revise() RETURNS trigger AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          ${reviseHours('SELECT started_at FROM new_rows')};
        ELSIF TG_OP = 'DELETE' THEN
          ${reviseHours('SELECT started_at FROM old_rows')};
        ELSIF TG_OP = 'UPDATE' THEN
          ${reviseHours('SELECT OLD.started_at UNION SELECT NEW.started_at')};
        ELSE
          ${reviseHours("SELECT 'epoch'::timestamptz")};
        END IF;
        RETURN NULL;
      END $$ LANGUAGE plpgsql;
      CREATE TRIGGER cron_executions_revision_insert AFTER INSERT ON cron_executions
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cron_executions_revise();
      CREATE TRIGGER cron_executions_revision_delete AFTER DELETE ON cron_executions
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION cron_executions_revise();
      CREATE TRIGGER cron_executions_revision_truncate AFTER TRUNCATE ON cron_executions
        FOR EACH STATEMENT EXECUTE FUNCTION cron_executions_revise();
      CREATE TRIGGER cron_executions_revision_move AFTER UPDATE OF status, started_at, duration_ms, cron_name ON cron_executions FOR EACH ROW
        WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.started_at IS DISTINCT FROM NEW.started_at
          OR OLD.duration_ms IS DISTINCT FROM NEW.duration_ms OR OLD.cron_name IS DISTINCT FROM NEW.cron_name)
        EXECUTE FUNCTION cron_executions_revise();
    `,
  },
  {
    version: 8,
    name: 'timeline revisions follow a run id changed by hand',
    // The timeline lists a run by its id: a hand UPDATE of the id alone must move its hour too.
    sql: `
      DROP TRIGGER cron_executions_revision_move ON cron_executions;
      CREATE TRIGGER cron_executions_revision_move AFTER UPDATE OF status, started_at, duration_ms, cron_name, id ON cron_executions FOR EACH ROW
        WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.started_at IS DISTINCT FROM NEW.started_at
          OR OLD.duration_ms IS DISTINCT FROM NEW.duration_ms OR OLD.cron_name IS DISTINCT FROM NEW.cron_name OR OLD.id IS DISTINCT FROM NEW.id)
        EXECUTE FUNCTION cron_executions_revise();
    `,
  },
];
