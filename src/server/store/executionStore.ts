// Queries on cron_executions: the guards, the terminal status written once, history, KPIs and timeline.
import type { Execution, ExecutionStatus, ParamValue, TimelineEntry, TriggerType } from '../../shared/api';
import { isUniqueViolation, type Db, type Queryable } from './db';

interface ExecutionRow {
  id: string;
  cron_name: string;
  status: ExecutionStatus;
  trigger_type: TriggerType;
  triggered_by: string | null;
  params: Record<string, ParamValue> | string | null;
  started_at: Date | string;
  completed_at: Date | string | null;
  duration_ms: number | null;
  exit_code: number | null;
  error_message: string | null;
  runner_id: string | null;
  log_lines_dropped: number;
}

const COLUMNS = `id, cron_name, status, trigger_type, triggered_by, params, started_at, completed_at, duration_ms,
  exit_code, error_message, runner_id, log_lines_dropped`;

export type TimeoutLookup = (cronName: string) => number | undefined;

export interface NewExecution {
  /** Chosen by the caller, so it knows the run is its own before the store's notification arrives. */
  id: string;
  cronName: string;
  triggerType: TriggerType;
  triggeredBy: string | null;
  params: Record<string, ParamValue>;
  runnerId: string | null;
}

export type StartOutcome =
  | { kind: 'started'; execution: Execution }
  | { kind: 'running'; runningExecutionId: string }
  | { kind: 'rateLimited'; retryAfterS: number; scope: 'cron' | 'global' };

export interface Finish {
  status: Exclude<ExecutionStatus, 'running'>;
  exitCode?: number | null;
  errorMessage?: string | null;
  /** When it really ended, if earlier than now (a run that ended while the store was unreachable). */
  endedAt?: Date;
}

export interface ListQuery {
  cronName?: string;
  status?: ExecutionStatus;
  since?: string;
  until?: string;
  limit: number;
  before?: string;
}

function toIso(value: Date | string | null): string | null {
  if (value === null) return null;
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

export class ExecutionStore {
  constructor(
    private readonly db: Db,
    private readonly timeoutOf: TimeoutLookup,
  ) {}

  toExecution(row: ExecutionRow): Execution {
    const startedAt = toIso(row.started_at)!;
    const timeout = this.timeoutOf(row.cron_name);
    return {
      id: row.id,
      cronName: row.cron_name,
      status: row.status,
      triggerType: row.trigger_type,
      triggeredBy: row.triggered_by,
      params: typeof row.params === 'string' ? JSON.parse(row.params) : (row.params ?? {}),
      startedAt,
      completedAt: toIso(row.completed_at),
      durationMs: row.duration_ms,
      exitCode: row.exit_code,
      errorMessage: row.error_message,
      runnerId: row.runner_id,
      stuck: row.status === 'running' && timeout !== undefined && Date.now() - Date.parse(startedAt) > timeout,
      logLinesDropped: row.log_lines_dropped,
    };
  }

  private async insert(tx: Queryable, input: NewExecution): Promise<Execution> {
    const rows = await tx.query<ExecutionRow>(
      `INSERT INTO cron_executions (id, cron_name, status, trigger_type, triggered_by, params, runner_id)
       VALUES ($1, $2, 'running', $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [input.id, input.cronName, input.triggerType, input.triggeredBy, JSON.stringify(input.params), input.runnerId],
    );
    return this.toExecution(rows[0]);
  }

  private async runningId(tx: Queryable, cronName: string): Promise<string | undefined> {
    const rows = await tx.query<{ id: string }>(`SELECT id FROM cron_executions WHERE cron_name = $1 AND status = 'running'`, [cronName]);
    return rows[0]?.id;
  }

  /**
   * Starts a manual run if the cron is idle and the rate limits allow it, all in one transaction under an
   * advisory lock, so the limits hold across concurrent requests and server instances.
   */
  async startManual(input: NewExecution, limits: { perCronSeconds: number; globalPerMinute: number }): Promise<StartOutcome> {
    try {
      return await this.db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(7460201)');
        const running = await this.runningId(tx, input.cronName);
        if (running) return { kind: 'running', runningExecutionId: running };
        if (limits.perCronSeconds > 0) {
          const [row] = await tx.query<{ wait_s: number | null }>(
            `SELECT EXTRACT(EPOCH FROM (max(started_at) + make_interval(secs => $2) - now()))::float8 AS wait_s
             FROM cron_executions WHERE cron_name = $1 AND trigger_type = 'manual'`,
            [input.cronName, limits.perCronSeconds],
          );
          if (row.wait_s !== null && row.wait_s > 0) return { kind: 'rateLimited', retryAfterS: Math.ceil(row.wait_s), scope: 'cron' };
        }
        if (limits.globalPerMinute > 0) {
          const [row] = await tx.query<{ n: number; wait_s: number | null }>(
            `SELECT count(*)::int AS n, EXTRACT(EPOCH FROM (min(started_at) + interval '60 seconds' - now()))::float8 AS wait_s
             FROM (SELECT started_at FROM cron_executions WHERE trigger_type = 'manual' AND started_at > now() - interval '60 seconds'
                   ORDER BY started_at DESC LIMIT $1) recent`,
            [limits.globalPerMinute],
          );
          if (row.n >= limits.globalPerMinute) return { kind: 'rateLimited', retryAfterS: Math.max(1, Math.ceil(row.wait_s ?? 1)), scope: 'global' };
        }
        return { kind: 'started', execution: await this.insert(tx, input) };
      });
    } catch (error) {
      return this.explainConflict(error, input.cronName);
    }
  }

  /** Starts a scheduled or external run; the partial unique index is the only guard needed. */
  async startUnguarded(input: NewExecution): Promise<StartOutcome> {
    try {
      return { kind: 'started', execution: await this.insert(this.db, input) };
    } catch (error) {
      return this.explainConflict(error, input.cronName);
    }
  }

  private async explainConflict(error: unknown, cronName: string): Promise<StartOutcome> {
    if (!isUniqueViolation(error)) throw error;
    const running = await this.runningId(this.db, cronName);
    // The other run may have ended between the insert and this look-up: it still was running.
    return { kind: 'running', runningExecutionId: running ?? 'unknown' };
  }

  /** Writes a terminal status if the execution is still running; undefined when another outcome won. */
  async finish(id: string, finish: Finish): Promise<Execution | undefined> {
    const rows = await this.db.query<ExecutionRow>(
      `UPDATE cron_executions
       SET status = $2, completed_at = COALESCE($5::timestamptz, now()), exit_code = $3, error_message = $4,
           duration_ms = GREATEST(0, (EXTRACT(EPOCH FROM (COALESCE($5::timestamptz, now()) - started_at)) * 1000)::int)
       WHERE id = $1 AND status = 'running' RETURNING ${COLUMNS}`,
      [id, finish.status, finish.exitCode ?? null, finish.errorMessage ?? null, finish.endedAt?.toISOString() ?? null],
    );
    return rows[0] ? this.toExecution(rows[0]) : undefined;
  }

  /** The process group leader, so a restarted runner can end what a crash left behind. */
  async recordPid(id: string, pid: number): Promise<void> {
    await this.db.query('UPDATE cron_executions SET pid = $2 WHERE id = $1', [id, pid]);
  }

  async recordDroppedLines(id: string, dropped: number): Promise<void> {
    await this.db.query('UPDATE cron_executions SET log_lines_dropped = $2 WHERE id = $1', [id, dropped]);
  }

  async get(id: string): Promise<Execution | undefined> {
    if (!isUuid(id)) return undefined;
    const rows = await this.db.query<ExecutionRow>(`SELECT ${COLUMNS} FROM cron_executions WHERE id = $1`, [id]);
    return rows[0] ? this.toExecution(rows[0]) : undefined;
  }

  async list(query: ListQuery): Promise<{ executions: Execution[]; nextCursor: string | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      params.push(value);
      where.push(clause.replace('?', `$${params.length}`));
    };
    if (query.cronName) add('cron_name = ?', query.cronName);
    if (query.status) add('status = ?', query.status);
    if (query.since) add('started_at >= ?', query.since);
    if (query.until) add('started_at < ?', query.until);
    if (query.before) add('(started_at, id) < (SELECT started_at, id FROM cron_executions WHERE id = ?)', query.before);
    params.push(query.limit + 1);
    const rows = await this.db.query<ExecutionRow>(
      `SELECT ${COLUMNS} FROM cron_executions ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
       ORDER BY started_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, query.limit).map((row) => this.toExecution(row));
    return { executions: page, nextCursor: rows.length > query.limit ? page[page.length - 1].id : null };
  }

  async running(): Promise<Execution[]> {
    const rows = await this.db.query<ExecutionRow>(`SELECT ${COLUMNS} FROM cron_executions WHERE status = 'running' ORDER BY started_at`);
    return rows.map((row) => this.toExecution(row));
  }

  /** The latest execution of each cron (one query for the crons list). */
  async latestPerCron(): Promise<Map<string, Execution>> {
    const rows = await this.db.query<ExecutionRow>(
      `SELECT DISTINCT ON (cron_name) ${COLUMNS} FROM cron_executions ORDER BY cron_name, started_at DESC, id DESC`,
    );
    return new Map(rows.map((row) => [row.cron_name, this.toExecution(row)]));
  }

  async counts24h(): Promise<{ executions24h: number; running: number; failures24h: number }> {
    // The whole minutes of the window from the per-minute counts, the partial first minute from the rows:
    // exactly the rows started in the last 24 hours, whatever their number.
    const [row] = await this.db.query<{ executions24h: number; running: number; failures24h: number }>(
      `WITH bounds AS (
         SELECT now() - interval '24 hours' AS since, cron_minute(now() - interval '24 hours') + interval '1 minute' AS whole_from
       ), whole AS (
         SELECT COALESCE(sum(executions), 0) AS executions, COALESCE(sum(failures), 0) AS failures
         FROM cron_execution_minutes, bounds WHERE minute >= whole_from
       ), edge AS (
         SELECT count(*) AS executions, count(*) FILTER (WHERE status = 'failed') AS failures
         FROM cron_executions, bounds WHERE started_at > since AND started_at < whole_from
       )
       SELECT (whole.executions + edge.executions)::int AS executions24h,
         (SELECT count(*)::int FROM cron_executions WHERE status = 'running') AS running,
         (whole.failures + edge.failures)::int AS failures24h
       FROM whole, edge`,
    );
    return row;
  }

  async timeline(days: number, cronName?: string, status?: ExecutionStatus): Promise<{ from: string; to: string; executions: TimelineEntry[] }> {
    const params: unknown[] = [days];
    let filter = '';
    if (cronName) {
      params.push(cronName);
      filter += ` AND cron_name = $${params.length}`;
    }
    if (status) {
      params.push(status);
      filter += ` AND status = $${params.length}`;
    }
    // One JSON value built in the database: handing 100,000 rows one by one to JavaScript cost more than
    // the query itself (PGlite especially).
    const [row] = await this.db.query<{ entries: TimelineEntry[] | string | null; to_at: Date | string }>(
      `SELECT now() AS to_at, json_agg(json_build_object(
           'id', id, 'cronName', cron_name, 'status', status,
           'startedAt', to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'durationMs', COALESCE(duration_ms, GREATEST(0, (EXTRACT(EPOCH FROM (now() - started_at)) * 1000)::int)))
         ORDER BY started_at) AS entries
       FROM cron_executions WHERE started_at >= now() - make_interval(days => $1)${filter}`,
      params,
    );
    const to = new Date(row.to_at);
    const entries = typeof row.entries === 'string' ? (JSON.parse(row.entries) as TimelineEntry[]) : (row.entries ?? []);
    return { from: new Date(to.getTime() - days * 86_400_000).toISOString(), to: to.toISOString(), executions: entries };
  }

  /** At start: what this runner left running when it died can never finish now. */
  async failInterrupted(runnerId: string): Promise<Array<{ execution: Execution; pid: number | null }>> {
    const rows = await this.db.query<ExecutionRow & { pid: number | null }>(
      `UPDATE cron_executions SET status = 'failed', completed_at = now(), error_message = 'Interrupted: server restarted',
         duration_ms = GREATEST(0, (EXTRACT(EPOCH FROM (now() - started_at)) * 1000)::int)
       WHERE status = 'running' AND runner_id = $1 RETURNING ${COLUMNS}, pid`,
      [runnerId],
    );
    return rows.map((row) => ({ execution: this.toExecution(row), pid: row.pid }));
  }

  /** Deletes executions that ended more than `days` days ago (their logs go with them). */
  async applyRetention(days: number): Promise<number> {
    const rows = await this.db.query<{ n: number }>(
      `WITH gone AS (DELETE FROM cron_executions WHERE status <> 'running' AND COALESCE(completed_at, started_at) < now() - make_interval(days => $1) RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [days],
    );
    await this.db.query(`DELETE FROM schedule_ticks WHERE tick_at < now() - make_interval(days => $1)`, [days]);
    return rows[0].n;
  }
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
