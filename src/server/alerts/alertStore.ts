// The store's side of alerting, on SQLite and PostgreSQL: deliveries waiting or done, alerts raised once
// across instances, and retries waiting for their time (cron_retries), so both survive a restart.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { AlertDelivery, AlertEvent, AlertMessage, DeliveryStatus } from '../../shared/alerts';
import type { ParamValue } from '../../shared/api';
import type { Db, Query } from '../store/db';
import { isUniqueViolation } from '../store/db';
import { isoOf } from '../store/dialect';
import type { Database, Json, Timestamp } from '../store/schema';
import type { PastRun } from './alertRules';
import type { AttemptResult, ClaimedDelivery, DeliveryStorage, NewDelivery } from './deliveryStorage';
import type { RetryStorage, ScheduledRetry } from './retryScheduler';

interface AlertDeliveriesTable {
  id: string;
  alert_id: string;
  destination: string;
  event: AlertEvent;
  cron_name: string;
  execution_id: string | null;
  message: Json;
  status: DeliveryStatus;
  attempts: number;
  last_error: string | null;
  created_at: Timestamp;
  last_attempt_at: Timestamp | null;
  next_attempt_at: Timestamp | null;
  sent_at: Timestamp | null;
}

interface AlertsRaisedTable {
  alert_key: string;
  raised_at: Timestamp;
}

interface CronRetriesTable {
  retry_of: string;
  attempt: number;
  cron_name: string;
  params: Json;
  due_at: Timestamp;
}

// A type alias, not an interface: Kysely's withTables wants an index signature.
export type AlertTables = {
  alert_deliveries: AlertDeliveriesTable;
  alerts_raised: AlertsRaisedTable;
  cron_retries: CronRetriesTable;
};

type AlertQuery = Kysely<Database & AlertTables>;

type DeliveryRow = Selectable<AlertDeliveriesTable>;

/** Finished deliveries and raised-alert keys are kept this long. */
const KEEP_DAYS = 30;
const PRUNE_EVERY_MS = 3_600_000;

function parseJson<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

function toDelivery(row: DeliveryRow): AlertDelivery {
  return {
    id: row.id,
    alertId: row.alert_id,
    destination: row.destination,
    event: row.event,
    cronName: row.cron_name,
    executionId: row.execution_id,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    createdAt: isoOf(row.created_at),
    lastAttemptAt: row.last_attempt_at === null ? null : isoOf(row.last_attempt_at),
    nextAttemptAt: row.next_attempt_at === null ? null : isoOf(row.next_attempt_at),
    sentAt: row.sent_at === null ? null : isoOf(row.sent_at),
  };
}

export class StoreDeliveryStorage implements DeliveryStorage {
  private readonly q: AlertQuery;
  private prunedAt = 0;

  constructor(private readonly db: Db) {
    this.q = db.q.withTables<AlertTables>();
  }

  private tx<T>(work: (q: AlertQuery) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work(tx.withTables<AlertTables>()));
  }

  async add(deliveries: NewDelivery[]): Promise<AlertDelivery[]> {
    if (deliveries.length === 0) return [];
    const rows = await this.q
      .insertInto('alert_deliveries')
      .values(deliveries.map((input) => ({
        id: input.id,
        alert_id: input.message.id,
        destination: input.destination,
        event: input.message.event,
        cron_name: input.message.cronName,
        execution_id: input.message.executionId,
        message: JSON.stringify(input.message),
        status: 'pending' as const,
        attempts: 0,
        last_error: null,
        created_at: input.createdAt.toISOString(),
        last_attempt_at: null,
        next_attempt_at: input.createdAt.toISOString(),
        sent_at: null,
      })))
      .returningAll()
      .execute();
    await this.prune();
    return rows.map(toDelivery);
  }

  async claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]> {
    return this.tx(async (q) => {
      let due = q
        .selectFrom('alert_deliveries')
        .select('id')
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now.toISOString())
        .orderBy('next_attempt_at')
        .limit(limit);
      // Two instances claiming at once take different rows; SQLite has one writer at a time.
      if (this.db.kind === 'postgres') due = due.forUpdate().skipLocked();
      const ids = (await due.execute()).map((row) => row.id);
      if (ids.length === 0) return [];
      const rows = await q
        .updateTable('alert_deliveries')
        .set((eb) => ({ attempts: eb('attempts', '+', 1), last_attempt_at: now.toISOString(), next_attempt_at: leaseUntil.toISOString() }))
        .where('id', 'in', ids)
        .returningAll()
        .execute();
      return rows.map((row) => ({ delivery: toDelivery(row), message: parseJson<AlertMessage>(row.message) }));
    });
  }

  async record(id: string, result: AttemptResult): Promise<void> {
    const at = result.at.toISOString();
    await this.q
      .updateTable('alert_deliveries')
      .set({
        status: result.status,
        last_attempt_at: at,
        last_error: result.status === 'sent' ? null : result.error,
        next_attempt_at: result.status === 'pending' ? result.nextAttemptAt.toISOString() : null,
        ...(result.status === 'sent' ? { sent_at: at } : {}),
      })
      .where('id', '=', id)
      .execute();
  }

  async nextDueAt(): Promise<Date | undefined> {
    const row = await this.q
      .selectFrom('alert_deliveries')
      .select((eb) => eb.fn.min('next_attempt_at').as('due'))
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return row?.due ? new Date(isoOf(row.due as Date | string)) : undefined;
  }

  async recent(limit: number): Promise<AlertDelivery[]> {
    const rows = await this.q.selectFrom('alert_deliveries').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toDelivery);
  }

  async latestPerDestination(): Promise<Map<string, AlertDelivery>> {
    // One row per destination: the latest by creation (few destinations, an index on (destination, created_at)).
    const names = await this.q.selectFrom('alert_deliveries').select('destination').distinct().execute();
    const latest = new Map<string, AlertDelivery>();
    for (const { destination } of names) {
      const row = await this.q
        .selectFrom('alert_deliveries')
        .selectAll()
        .where('destination', '=', destination)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (row) latest.set(destination, toDelivery(row));
    }
    return latest;
  }

  async get(id: string): Promise<AlertDelivery | undefined> {
    const row = await this.q.selectFrom('alert_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toDelivery(row) : undefined;
  }

  async claimAlert(key: string, at: Date): Promise<boolean> {
    const rows = await this.q
      .insertInto('alerts_raised')
      .values({ alert_key: key, raised_at: at.toISOString() })
      .onConflict((conflict) => conflict.doNothing())
      .returning('alert_key')
      .execute();
    return rows.length > 0;
  }

  /** Now and then: forgets finished deliveries and raised keys older than KEEP_DAYS. */
  private async prune(): Promise<void> {
    if (Date.now() - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = Date.now();
    const before = new Date(Date.now() - KEEP_DAYS * 86_400_000).toISOString();
    await this.q.deleteFrom('alert_deliveries').where('status', '<>', 'pending').where('created_at', '<', before).execute();
    await this.q.deleteFrom('alerts_raised').where('raised_at', '<', before).execute();
  }
}

type RetryRow = Selectable<CronRetriesTable>;

function toRetry(row: RetryRow): ScheduledRetry {
  return { cronName: row.cron_name, retryOf: row.retry_of, attempt: row.attempt, params: parseJson<Record<string, ParamValue>>(row.params), dueAt: new Date(isoOf(row.due_at)) };
}

export class StoreRetryStorage implements RetryStorage {
  private readonly q: AlertQuery;

  constructor(private readonly db: Db) {
    this.q = db.q.withTables<AlertTables>();
  }

  async add(retry: ScheduledRetry, tx?: Query): Promise<boolean> {
    const q = tx ? tx.withTables<AlertTables>() : this.q;
    try {
      const rows = await q
        .insertInto('cron_retries')
        .values({ retry_of: retry.retryOf, attempt: retry.attempt, cron_name: retry.cronName, params: JSON.stringify(retry.params), due_at: retry.dueAt.toISOString() })
        .onConflict((conflict) => conflict.doNothing())
        .returning('retry_of')
        .execute();
      return rows.length > 0;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  async claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ScheduledRetry[]> {
    return this.db.transaction(async (tx) => {
      const q = tx.withTables<AlertTables>();
      let due = q.selectFrom('cron_retries').select(['retry_of', 'attempt']).where('due_at', '<=', now.toISOString()).orderBy('due_at').limit(limit);
      if (this.db.kind === 'postgres') due = due.forUpdate().skipLocked();
      const keys = await due.execute();
      const claimed: ScheduledRetry[] = [];
      for (const key of keys) {
        const row = await q
          .updateTable('cron_retries')
          .set({ due_at: leaseUntil.toISOString() })
          .where('retry_of', '=', key.retry_of)
          .where('attempt', '=', key.attempt)
          .returningAll()
          .executeTakeFirst();
        if (row) claimed.push(toRetry(row));
      }
      return claimed;
    });
  }

  async done(retryOf: string, attempt: number, tx?: Query): Promise<boolean> {
    const rows = await (tx ? tx.withTables<AlertTables>() : this.q).deleteFrom('cron_retries').where('retry_of', '=', retryOf).where('attempt', '=', attempt).returning('retry_of').execute();
    return rows.length > 0;
  }

  async cancel(cronName: string): Promise<ScheduledRetry[]> {
    const rows = await this.q.deleteFrom('cron_retries').where('cron_name', '=', cronName).returningAll().execute();
    return rows.map(toRetry);
  }

  async pending(): Promise<ScheduledRetry[]> {
    const rows = await this.q.selectFrom('cron_retries').selectAll().orderBy('due_at').execute();
    return rows.map(toRetry);
  }

  async ofChains(retryOf: readonly string[]): Promise<ScheduledRetry[]> {
    const rows = await this.q.selectFrom('cron_retries').selectAll().where('retry_of', 'in', [...retryOf]).orderBy('due_at').execute();
    return rows.map(toRetry);
  }

  async nextDueAt(): Promise<Date | undefined> {
    const row = await this.q.selectFrom('cron_retries').select((eb) => eb.fn.min('due_at').as('due')).executeTakeFirst();
    return row?.due ? new Date(isoOf(row.due as Date | string)) : undefined;
  }
}

/** Ended runs of a cron that started before `before`, newest first: what `recovered` looks back on. */
export async function endedRunsBefore(db: Db, cronName: string, before: string, limit: number): Promise<PastRun[]> {
  const rows = await db.q
    .selectFrom('cron_executions')
    .select(['id', 'status', 'error_message', 'retry_of'])
    .where('cron_name', '=', cronName)
    .where('started_at', '<', before)
    .where('status', '<>', 'running')
    .orderBy('started_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => ({ id: row.id, status: row.status, errorMessage: row.error_message, retryOf: row.retry_of }));
}

/** When attempt `attempt` of the chain `retryOf` started, if it did. */
export async function attemptStartedAt(db: Db, retryOf: string, attempt: number): Promise<string | undefined> {
  const row = await db.q.selectFrom('cron_executions').select('started_at').where('retry_of', '=', retryOf).where('attempt', '=', attempt).executeTakeFirst();
  return row ? isoOf(row.started_at) : undefined;
}

/** When attempt `attempt` of the chain started, attempt 1 (the chain's first run, `retryOf` itself) included. */
export async function chainAttemptStartedAt(db: Db, retryOf: string, attempt: number): Promise<string | undefined> {
  if (attempt > 1) return attemptStartedAt(db, retryOf, attempt);
  const row = await db.q.selectFrom('cron_executions').select('started_at').where('id', '=', retryOf).executeTakeFirst();
  return row ? isoOf(row.started_at) : undefined;
}

/** The id of attempt `attempt` of the chain `retryOf` (attempt 1 is the chain's first run itself), if it ran. */
export async function attemptId(db: Db, retryOf: string, attempt: number): Promise<string | undefined> {
  if (attempt <= 1) return retryOf;
  const row = await db.q.selectFrom('cron_executions').select('id').where('retry_of', '=', retryOf).where('attempt', '=', attempt).executeTakeFirst();
  return row?.id;
}

/**
 * Tells every instance's change feed that these crons changed (`crons.changed`): a waiting retry went away,
 * which no execution row records. SQLite's feed reads its change table; PostgreSQL's is NOTIFY.
 */
export async function announceCronsChanged(db: Db, cronNames: string[]): Promise<void> {
  const payload = JSON.stringify({ cronNames });
  if (db.kind === 'postgres') await sql`SELECT pg_notify(${'cron_ops_crons'}, ${payload})`.execute(db.q);
  else await sql`INSERT INTO cron_changes (channel, payload) VALUES (${'cron_ops_crons'}, ${payload})`.execute(db.q);
}

/** The latest tick each cron had claimed, by any instance: where the ticks missed while down begin. */
export async function lastClaimedTicks(db: Db): Promise<Map<string, Date>> {
  const rows = await db.q.selectFrom('schedule_ticks').select((eb) => ['cron_name', eb.fn.max('tick_at').as('last')]).groupBy('cron_name').execute();
  return new Map(rows.map((row) => [row.cron_name, new Date(isoOf(row.last as Date | string))]));
}
