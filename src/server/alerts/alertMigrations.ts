// DDL of alerting and retries, appended to each dialect's migrations by the store (store/migrations/*).

/** Tables of alerting and the retry link of executions; appended to each dialect's migrations. */
export const ALERTS_SQLITE_SQL = `
  ALTER TABLE cron_executions ADD COLUMN attempt integer NOT NULL DEFAULT 1;
  ALTER TABLE cron_executions ADD COLUMN retry_of text;
  CREATE INDEX cron_executions_retry_of ON cron_executions (retry_of) WHERE retry_of IS NOT NULL;

  CREATE TABLE cron_retries (
    retry_of text NOT NULL,
    attempt integer NOT NULL,
    cron_name text NOT NULL,
    params text NOT NULL DEFAULT '{}',
    due_at text NOT NULL,
    PRIMARY KEY (retry_of, attempt)
  );
  CREATE INDEX cron_retries_due ON cron_retries (due_at);
  CREATE INDEX cron_retries_cron ON cron_retries (cron_name);

  CREATE TABLE alert_deliveries (
    id text PRIMARY KEY NOT NULL,
    alert_id text NOT NULL,
    destination text NOT NULL,
    event text NOT NULL,
    cron_name text NOT NULL,
    execution_id text,
    message text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    created_at text NOT NULL,
    last_attempt_at text,
    next_attempt_at text,
    sent_at text
  );
  CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE status = 'pending';
  CREATE INDEX alert_deliveries_destination ON alert_deliveries (destination, created_at);
  CREATE INDEX alert_deliveries_created ON alert_deliveries (created_at, id);

  CREATE TABLE alerts_raised (
    alert_key text PRIMARY KEY NOT NULL,
    raised_at text NOT NULL
  ) WITHOUT ROWID;
`;

export const ALERTS_POSTGRES_SQL = `
  ALTER TABLE cron_executions ADD COLUMN attempt integer NOT NULL DEFAULT 1;
  ALTER TABLE cron_executions ADD COLUMN retry_of uuid;
  CREATE INDEX cron_executions_retry_of ON cron_executions (retry_of) WHERE retry_of IS NOT NULL;

  CREATE TABLE cron_retries (
    retry_of uuid NOT NULL,
    attempt integer NOT NULL,
    cron_name text NOT NULL,
    params jsonb NOT NULL DEFAULT '{}'::jsonb,
    due_at timestamptz NOT NULL,
    PRIMARY KEY (retry_of, attempt)
  );
  CREATE INDEX cron_retries_due ON cron_retries (due_at);
  CREATE INDEX cron_retries_cron ON cron_retries (cron_name);

  CREATE TABLE alert_deliveries (
    id uuid PRIMARY KEY,
    alert_id uuid NOT NULL,
    destination text NOT NULL,
    event text NOT NULL,
    cron_name text NOT NULL,
    execution_id uuid,
    message jsonb NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    created_at timestamptz NOT NULL,
    last_attempt_at timestamptz,
    next_attempt_at timestamptz,
    sent_at timestamptz
  );
  CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE status = 'pending';
  CREATE INDEX alert_deliveries_destination ON alert_deliveries (destination, created_at DESC);
  CREATE INDEX alert_deliveries_created ON alert_deliveries (created_at DESC, id DESC);

  CREATE TABLE alerts_raised (
    alert_key text PRIMARY KEY,
    raised_at timestamptz NOT NULL
  );
`;
