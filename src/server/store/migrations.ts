// Versioned schema migrations, applied in order at start; the same SQL runs on PGlite and PostgreSQL.
import type { Db } from './db';

const MIGRATIONS: { version: number; name: string; sql: string }[] = [
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
];

/** Applies the missing migrations, each in its own transaction; instances starting together take turns. */
export async function migrate(db: Db): Promise<number> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(7460200)');
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  });
  for (const migration of MIGRATIONS) {
    await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(7460200)');
      const done = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
      if (done.length > 0) return;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
    });
  }
  return MIGRATIONS[MIGRATIONS.length - 1].version;
}
