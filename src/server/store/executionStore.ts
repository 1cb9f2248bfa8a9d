// Queries on cron_executions: the guards, the terminal status written once, history, KPIs and timeline.
// Every read is bounded by what it returns: indexes for single runs, roll-ups for counts.
import { sql, type Selectable, type SelectQueryBuilder } from 'kysely';
import type { Execution, ExecutionStatus, ParamValue, TimelineBucket, TimelineEntry, TimelineReply, TriggerType } from '../../shared/api';
import { compiledOnce, type Bind } from './compiledOnce';
import { isUniqueViolation, now, type Db, type Query } from './db';
import { ago, epochMs, isoOf, msSinceStart, timeOrNow } from './dialect';
import { RollupReader, type Group, type RangeFilter } from './rollupReader';
import { p95FromClasses, type ClassCount } from './rollups';
import { bucketKey, stampOf, TimelineCache, type BucketStatus, type Revisions } from './timelineCache';
import type { CronExecutionsTable, Database } from './schema';
import { pruneScriptVersions } from './scriptVersionStore';
import { turnCommitOf, type TurnCommit } from './turnCommit';

const COLUMNS = [
  'id',
  'cron_name',
  'status',
  'trigger_type',
  'triggered_by',
  'params',
  'started_at',
  'completed_at',
  'duration_ms',
  'exit_code',
  'error_message',
  'runner_id',
  'log_lines_dropped',
  'attempt',
  'retry_of',
  'script_version',
  'git_commit',
] as const;

export type ExecutionRow = Pick<Selectable<CronExecutionsTable>, (typeof COLUMNS)[number]>;

/** The values bound into the run's insert and its end, compiled once (compiledOnce.ts). */
const INSERT_SLOTS = ['id', 'cronName', 'triggerType', 'triggeredBy', 'params', 'runnerId', 'startedAt', 'attempt', 'retryOf'] as const;
type InsertSlot = (typeof INSERT_SLOTS)[number];
const END_SLOTS = ['id', 'status', 'end', 'exitCode', 'errorMessage'] as const;
type EndSlot = (typeof END_SLOTS)[number];

export type TimeoutLookup = (cronName: string) => number | undefined;

export interface NewExecution {
  /** Chosen by the caller, so it knows the run is its own before the store's notification arrives. */
  id: string;
  cronName: string;
  triggerType: TriggerType;
  triggeredBy: string | null;
  params: Record<string, ParamValue>;
  runnerId: string | null;
  /** A retry: its attempt number and the first attempt of its chain. */
  retry?: { attempt: number; retryOf: string };
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

export interface TimelineQuery {
  /** The range ending now, in days (default 7), unless `from` is given. */
  days?: number;
  from?: string;
  to?: string;
  cronName?: string;
  status?: ExecutionStatus;
}

/** More runs than this in a range: the timeline answers with buckets. */
export const TIMELINE_MAX_RUNS = 3000;
/** At most this many buckets of (cron, status) in a summarised timeline. */
export const TIMELINE_MAX_BUCKETS = 1000;
/** Failed and cancelled runs listed one by one in a summarised timeline, newest first (and every running run). */
export const TIMELINE_MAX_NOTABLE = 1000;
const BUCKET_WIDTHS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((minutes) => minutes * 60_000);

const RETENTION_BATCH = 500;
/** The order of cron names in the timeline's buckets (localeCompare's, without its cost per call). */
const NAME_ORDER = new Intl.Collator();

/** Each cron name's rank in NAME_ORDER (names the collator holds equal share one), rebuilt when a new name shows up. */
const nameRanks = new Map<string, number>();

/**
 * Sorts buckets by cron name in NAME_ORDER, stable. The collator runs when a new name shows up (the crons
 * are a few dozen), not once per comparison: per slot of a 7-day reply that was ~0.9 ms of a read's CPU
 * (profile, 1,000,000 runs on PostgreSQL).
 */
function sortByCronName(buckets: TimelineBucket[]): void {
  if (buckets.length < 2) return;
  if (buckets.some((bucket) => !nameRanks.has(bucket.cronName))) {
    const names = [...new Set([...nameRanks.keys(), ...buckets.map((bucket) => bucket.cronName)])].sort(NAME_ORDER.compare);
    nameRanks.clear();
    names.forEach((name, index) => nameRanks.set(name, index > 0 && NAME_ORDER.compare(names[index - 1], name) === 0 ? nameRanks.get(names[index - 1])! : index));
  }
  buckets.sort((a, b) => nameRanks.get(a.cronName)! - nameRanks.get(b.cronName)!);
}

type TimelineRow = Pick<ExecutionRow, 'id' | 'cron_name' | 'status' | 'started_at' | 'duration_ms'>;

/** Two lists of runs, each newest first, as one. */
function newestFirst(a: TimelineRow[], b: TimelineRow[]): TimelineRow[] {
  if (a.length === 0) return b;
  const merged: TimelineRow[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && epochMs(a[i].started_at) >= epochMs(b[j].started_at))) merged.push(a[i++]);
    else merged.push(b[j++]);
  }
  return merged;
}
type TimelineReads = { kind: 'runs'; rows: TimelineRow[] } | { kind: 'buckets'; buckets: TimelineBucket[]; bucketMs: number; notable: TimelineRow[] };
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
/** The range's whole minutes settle its shape up to this long (past it, a minute roll-up row per cron and minute is more than the exact count reads). */
const MAX_MINUTE_SETTLED_MS = 86_400_000;
/** Stretches of uncached buckets (or hours of notable runs) read one statement each; more are read as one stretch. */
const MAX_STRETCHES = 4;
/** Buckets held at most (each ~200 bytes): a 7-day view of 100 crons holds ~25,000. */
const MAX_CACHED_BUCKETS = 40_000;
/** Notable runs held at most (each ~150 bytes): a read lists at most TIMELINE_MAX_NOTABLE, under a few filters. */
const MAX_CACHED_NOTABLE = 10_000;

/**
 * The notable runs of one whole hour, newest first: all of them (`complete`), or its newest ones when a read
 * stopped inside it at the runs it wanted (then they serve a read that needs no more than that many).
 */
interface NotableHour {
  rows: TimelineRow[];
  complete: boolean;
}

/**
 * started_at as the timeline sends it (ISO-8601 UTC, milliseconds), written by the database: on PostgreSQL
 * the driver would parse every run's timestamp into a Date for the reply to format it again (a thousand
 * runs a read). Both truncate to the millisecond, so the text is the one toISOString() wrote. SQLite keeps
 * that text already. Named as the column: an ORDER BY must name the column itself (cron_executions.started_at),
 * or PostgreSQL sorts by this text without the index.
 */
function startedAtIso(db: Db) {
  return db.kind === 'postgres' ? sql<string>`to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`.as('started_at') : sql<string>`started_at`.as('started_at');
}

/** Lets timers, sockets and the scheduler run between two slices of a long read. */
function yieldToLoop(): Promise<void> {
  return new Promise((resolveLater) => setImmediate(resolveLater));
}

/** Groups shaped between two turns of the event loop: a read with an empty cache has ~10,000 (a 7-day range at 1,000,000 runs). */
const SHAPE_SLICE = 2000;

/**
 * Groups of one status (per bucket, cron and duration class) as the chart's buckets, per bucket start, each
 * list by cron name; in slices (on PostgreSQL this runs on the server's main thread: a 7-day read with an
 * empty cache held it for 137 ms in one turn).
 */
async function shapeBuckets(groups: Group[], bucketMs: number, fromMs: number, toMs: number): Promise<Map<number, TimelineBucket[]>> {
  const byBucket = new Map<string, { bucket: TimelineBucket; slotMs: number; classes: ClassCount[] }>();
  let shaped = 0;
  for (const group of groups) {
    if (++shaped % SHAPE_SLICE === 0) await yieldToLoop();
    const key = `${group.bucketStartMs}|${group.cronName}`;
    let known = byBucket.get(key);
    if (!known) {
      const start = Math.max(group.bucketStartMs, fromMs);
      const end = Math.min(group.bucketStartMs + bucketMs, toMs);
      known = {
        bucket: { cronName: group.cronName, status: group.status, start: new Date(start).toISOString(), end: new Date(end).toISOString(), count: 0, maxDurationMs: 0, p95DurationMs: 0 },
        slotMs: group.bucketStartMs,
        classes: [],
      };
      byBucket.set(key, known);
    }
    known.bucket.count += group.runs;
    known.bucket.maxDurationMs = Math.max(known.bucket.maxDurationMs, group.maxDurationMs);
    known.classes.push({ durationClass: group.durationClass, runs: group.runs });
  }
  const bySlot = new Map<number, TimelineBucket[]>();
  for (const { bucket, slotMs, classes } of byBucket.values()) {
    if (++shaped % SHAPE_SLICE === 0) await yieldToLoop();
    bucket.p95DurationMs = p95FromClasses(classes, bucket.maxDurationMs);
    const inSlot = bySlot.get(slotMs);
    if (inSlot) inSlot.push(bucket);
    else bySlot.set(slotMs, [bucket]);
  }
  for (const inSlot of bySlot.values()) sortByCronName(inSlot);
  return bySlot;
}

export class ExecutionStore {
  private readonly rollups: RollupReader;
  /** The timeline's buckets shaped by earlier reads, reused while their hours are unchanged. */
  private readonly timelineCache = new TimelineCache<TimelineBucket[]>(MAX_CACHED_BUCKETS, (buckets) => buckets.length);
  /** The failed and cancelled runs of each whole hour earlier reads listed, reused while the hour is unchanged. */
  private readonly notableCache = new TimelineCache<NotableHour>(MAX_CACHED_NOTABLE, (hour) => hour.rows.length);

  constructor(
    private readonly db: Db,
    private readonly timeoutOf: TimeoutLookup,
    /** The crons the server runs: the crons list shows the last run of these. */
    private readonly cronNames: () => string[] = () => [],
  ) {
    this.rollups = new RollupReader(db);
    this.turn = turnCommitOf(db);
  }

  toExecution(row: ExecutionRow): Execution {
    const startedAt = isoOf(row.started_at);
    const timeout = this.timeoutOf(row.cron_name);
    return {
      id: row.id,
      cronName: row.cron_name,
      status: row.status,
      triggerType: row.trigger_type,
      triggeredBy: row.triggered_by,
      params: (typeof row.params === 'string' ? JSON.parse(row.params) : (row.params ?? {})) as Record<string, ParamValue>,
      startedAt,
      completedAt: row.completed_at === null ? null : isoOf(row.completed_at),
      durationMs: row.duration_ms,
      exitCode: row.exit_code,
      errorMessage: row.error_message,
      runnerId: row.runner_id,
      stuck: row.status === 'running' && timeout !== undefined && Date.now() - Date.parse(startedAt) > timeout,
      logLinesDropped: row.log_lines_dropped,
      // The change feed's row may predate the retry columns (a payload built by an older trigger).
      attempt: row.attempt ?? 1,
      retryOf: row.retry_of ?? null,
      scriptVersion: row.script_version ?? null,
      gitCommit: row.git_commit ?? null,
    };
  }

  /** The run path's statements, compiled once each (compiledOnce.ts). */
  private readonly statements: { insert?: Bind<InsertSlot>; insertRetry?: Bind<InsertSlot>; endAt?: Bind<EndSlot>; endNow?: Bind<EndSlot> } = {};
  /** Pids of started runs waiting for the end of this turn of the event loop (recordPid). */
  private readonly pidsToWrite = new Map<string, number>();
  private pidsWritten: Promise<void> | undefined;
  /** The run path's starts, ends and pids of one turn of the loop, committed together on SQLite. */
  private readonly turn: TurnCommit;

  private async insert(q: Query, input: NewExecution): Promise<Execution> {
    const values = {
      id: input.id,
      cronName: input.cronName,
      triggerType: input.triggerType,
      triggeredBy: input.triggeredBy,
      params: JSON.stringify(input.params),
      runnerId: input.runnerId,
      // Ignored on PostgreSQL, whose statement says now().
      startedAt: new Date().toISOString(),
      attempt: input.retry?.attempt,
      retryOf: input.retry?.retryOf,
    };
    const statement = input.retry ? (this.statements.insertRetry ??= this.insertStatement(true)) : (this.statements.insert ??= this.insertStatement(false));
    const { rows } = await q.executeQuery(statement(values));
    return this.toExecution(rows[0] as ExecutionRow);
  }

  private insertStatement(retry: boolean): Bind<InsertSlot> {
    return compiledOnce(INSERT_SLOTS, (slot) =>
      this.db.q
        .insertInto('cron_executions')
        .values({
          id: slot.id,
          cron_name: slot.cronName,
          status: 'running',
          trigger_type: slot.triggerType as TriggerType,
          triggered_by: slot.triggeredBy,
          params: slot.params,
          runner_id: slot.runnerId,
          started_at: this.db.kind === 'postgres' ? sql<string>`now()` : sql<string>`${slot.startedAt}`,
          ...(retry ? { attempt: sql<number>`${slot.attempt}`, retry_of: slot.retryOf } : {}),
        })
        .returning(COLUMNS),
    );
  }

  private async runningId(q: Query, cronName: string): Promise<string | undefined> {
    const row = await q.selectFrom('cron_executions').select('id').where('cron_name', '=', cronName).where('status', '=', 'running').executeTakeFirst();
    return row?.id;
  }

  /**
   * Starts a manual run if the cron is idle and the rate limits allow it, all in one transaction (under an
   * advisory lock on PostgreSQL; SQLite has one writer), so the limits hold across concurrent requests
   * and server instances.
   */
  async startManual(input: NewExecution, limits: { perCronSeconds: number; globalPerMinute: number }): Promise<StartOutcome> {
    // No limit to check: the partial unique index on running runs is the only guard, as for a scheduled run
    // (one statement instead of a transaction of four, and no lock every manual trigger waits behind).
    if (limits.perCronSeconds <= 0 && limits.globalPerMinute <= 0) return this.startUnguarded(input);
    try {
      return await this.db.transaction(async (tx) => {
        if (this.db.kind === 'postgres') await sql`SELECT pg_advisory_xact_lock(7460201)`.execute(tx);
        const running = await this.runningId(tx, input.cronName);
        if (running) return { kind: 'running', runningExecutionId: running };
        if (limits.perCronSeconds > 0) {
          const row = await tx
            .selectFrom('cron_executions')
            .select((eb) => [eb.fn.max('started_at').as('last'), now(this.db).as('now')])
            .where('cron_name', '=', input.cronName)
            .where('trigger_type', '=', 'manual')
            .executeTakeFirstOrThrow();
          if (row.last !== null) {
            const waitMs = epochMs(row.last) + limits.perCronSeconds * 1000 - epochMs(row.now);
            if (waitMs > 0) return { kind: 'rateLimited', retryAfterS: Math.ceil(waitMs / 1000), scope: 'cron' };
          }
        }
        if (limits.globalPerMinute > 0) {
          const recent = await tx
            .selectFrom('cron_executions')
            .select((eb) => [eb.ref('started_at').as('started_at'), now(this.db).as('now')])
            .where('trigger_type', '=', 'manual')
            .where('started_at', '>', ago(this.db, 60))
            .orderBy('started_at', 'desc')
            .limit(limits.globalPerMinute)
            .execute();
          if (recent.length >= limits.globalPerMinute) {
            const oldest = recent[recent.length - 1];
            const waitS = (epochMs(oldest.started_at) + 60_000 - epochMs(oldest.now)) / 1000;
            return { kind: 'rateLimited', retryAfterS: Math.max(1, Math.ceil(waitS)), scope: 'global' };
          }
        }
        return { kind: 'started', execution: await this.insert(tx, input) };
      });
    } catch (error) {
      return this.explainConflict(error, input.cronName);
    }
  }

  /** Starts a scheduled or external run; the partial unique index is the only guard needed. */
  async startUnguarded(input: NewExecution, alsoWrite?: (tx: Query) => Promise<void>): Promise<StartOutcome> {
    try {
      if (!alsoWrite) return { kind: 'started', execution: await this.turn.run((q) => this.insert(q, input)) };
      // With what the start settles (the waiting retry it takes the place of), in one transaction.
      const execution = await this.db.transaction(async (tx) => {
        const inserted = await this.insert(tx, input);
        await alsoWrite(tx);
        return inserted;
      });
      return { kind: 'started', execution };
    } catch (error) {
      return this.explainConflict(error, input.cronName);
    }
  }

  /**
   * The scheduled starts of one instant in one transaction, one commit for them all: each tick's claim
   * (`claim`, written in the same transaction), then its run unless the cron has one running (startIn).
   * 'notClaimed': another
   * instance has the tick. Throws if the transaction fails (nothing of it is written): the caller starts the
   * ticks one by one.
   */
  async startClaimed(
    starts: Array<{ input: NewExecution; claim(tx: Query): Promise<boolean>; skipped(tx: Query, runningExecutionId: string): Promise<unknown> }>,
  ): Promise<Array<StartOutcome | 'notClaimed'>> {
    return this.db.transaction(async (tx) => {
      const outcomes: Array<StartOutcome | 'notClaimed'> = [];
      for (const { input, claim, skipped } of starts) {
        if (!(await claim(tx))) {
          outcomes.push('notClaimed');
          continue;
        }
        const outcome = await this.startIn(tx, input);
        // A claimed tick that starts nothing is a skipped tick, committed with its claim: a crash between
        // the two would leave the tick claimed (so not missed either) and nowhere.
        if (outcome.kind === 'running') await skipped(tx, outcome.runningExecutionId);
        outcomes.push(outcome);
      }
      return outcomes;
    });
  }

  /** A start inside a transaction of several: a cron that has a run going gives 'running', not an error. */
  private async startIn(tx: Query, input: NewExecution): Promise<StartOutcome> {
    // PostgreSQL aborts the whole transaction on a unique violation: look first. SQLite undoes only the
    // failed statement, so there the insert is tried straight away (one statement a tick instead of two).
    if (this.db.kind === 'postgres') {
      const running = await this.runningId(tx, input.cronName);
      if (running) return { kind: 'running', runningExecutionId: running };
      return { kind: 'started', execution: await this.insert(tx, input) };
    }
    try {
      return { kind: 'started', execution: await this.insert(tx, input) };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      return { kind: 'running', runningExecutionId: (await this.runningId(tx, input.cronName)) ?? 'unknown' };
    }
  }

  private async explainConflict(error: unknown, cronName: string): Promise<StartOutcome> {
    if (!isUniqueViolation(error)) throw error;
    const running = await this.runningId(this.db.q, cronName);
    // The other run may have ended between the insert and this look-up: it still was running.
    return { kind: 'running', runningExecutionId: running ?? 'unknown' };
  }

  /**
   * Writes the terminal status if the run is still running (the first outcome wins). `alsoWrite` runs in the
   * same transaction once the end is written (the retry it calls for), so no reader sees one without the other.
   */
  async finish(id: string, finish: Finish, alsoWrite?: (tx: Query, ended: Execution) => Promise<void>): Promise<Execution | undefined> {
    if (!alsoWrite) {
      this.pidsToWrite.delete(id);
      return this.turn.run((q) => this.writeEnd(q, id, finish));
    }
    return this.db.transaction(async (tx) => {
      const ended = await this.writeEnd(tx, id, finish);
      if (ended) await alsoWrite(tx, ended);
      return ended;
    });
  }

  private async writeEnd(q: Query, id: string, finish: Finish): Promise<Execution | undefined> {
    // Its pid, if not written yet, is no longer needed.
    this.pidsToWrite.delete(id);
    const at = finish.endedAt?.toISOString();
    // On PostgreSQL an end without its time is the database's now(); on SQLite the time is always given.
    const statement = at !== undefined || this.db.kind === 'sqlite' ? (this.statements.endAt ??= this.endStatement(true)) : (this.statements.endNow ??= this.endStatement(false));
    const { rows } = await q.executeQuery(
      statement({ id, status: finish.status, end: at ?? new Date().toISOString(), exitCode: finish.exitCode ?? null, errorMessage: finish.errorMessage ?? null }),
    );
    const row = rows[0] as ExecutionRow | undefined;
    return row ? this.toExecution(row) : undefined;
  }

  private endStatement(timeGiven: boolean): Bind<EndSlot> {
    return compiledOnce(END_SLOTS, (slot) => {
      const end = timeOrNow(this.db, timeGiven ? slot.end : undefined);
      return this.db.q
        .updateTable('cron_executions')
        .set({
          status: slot.status as Finish['status'],
          completed_at: end,
          exit_code: sql<number | null>`${slot.exitCode}`,
          error_message: slot.errorMessage,
          duration_ms: msSinceStart(this.db, end),
        })
        .where('id', '=', slot.id)
        .where('status', '=', 'running')
        .returning(COLUMNS);
    });
  }

  /**
   * The process group leader, so a restarted runner can end what a crash left behind. The pids of one turn
   * of the event loop are written in one statement at its end (one write instead of one per run under a
   * burst), and not at all for a run whose end came first: the pid only serves while the run is running.
   */
  recordPid(id: string, pid: number): Promise<void> {
    this.pidsToWrite.set(id, pid);
    this.pidsWritten ??= new Promise<void>((resolveLater) => setImmediate(resolveLater)).then(() => this.writePids());
    return this.pidsWritten;
  }

  private async writePids(): Promise<void> {
    const batch = [...this.pidsToWrite].filter(([, pid]) => Number.isSafeInteger(pid));
    this.pidsToWrite.clear();
    this.pidsWritten = undefined;
    if (batch.length === 0) return;
    // Cast: PostgreSQL would type a CASE of bare parameters as text.
    const pidOf = sql<number>`CASE id ${sql.join(batch.map(([id, pid]) => sql`WHEN ${id} THEN CAST(${pid} AS integer)`), sql` `)} END`;
    await this.turn.run((q) =>
      q
        .updateTable('cron_executions')
        .set({ pid: pidOf })
        .where('id', 'in', batch.map(([id]) => id))
        .where('status', '=', 'running')
        .execute(),
    );
  }

  async recordDroppedLines(id: string, dropped: number): Promise<void> {
    await this.db.q.updateTable('cron_executions').set({ log_lines_dropped: dropped }).where('id', '=', id).execute();
  }

  async get(id: string): Promise<Execution | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await this.db.q.selectFrom('cron_executions').select(COLUMNS).where('id', '=', id).executeTakeFirst();
    return row ? this.toExecution(row) : undefined;
  }

  async list(query: ListQuery): Promise<{ executions: Execution[]; nextCursor: string | null }> {
    let select = this.db.q.selectFrom('cron_executions').select(COLUMNS);
    if (query.cronName) select = select.where('cron_name', '=', query.cronName);
    if (query.status) select = select.where('status', '=', query.status);
    if (query.since) select = select.where('started_at', '>=', isoOf(query.since));
    if (query.until) select = select.where('started_at', '<', isoOf(query.until));
    if (query.before) select = select.where(sql<boolean>`(started_at, id) < (SELECT started_at, id FROM cron_executions WHERE id = ${query.before})`);
    const rows = await select.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(query.limit + 1).execute();
    const page = rows.slice(0, query.limit).map((row) => this.toExecution(row));
    return { executions: page, nextCursor: rows.length > query.limit ? page[page.length - 1].id : null };
  }

  async running(): Promise<Execution[]> {
    const rows = await this.db.q.selectFrom('cron_executions').select(COLUMNS).where('status', '=', 'running').orderBy('started_at').execute();
    return rows.map((row) => this.toExecution(row));
  }

  /** The latest execution of each cron: one look-up per cron in the (cron_name, started_at) index. */
  async latestPerCron(cronNames: string[] = this.cronNames()): Promise<Map<string, Execution>> {
    if (cronNames.length === 0) return new Map();
    const columns = sql.raw(COLUMNS.join(', '));
    const eColumns = sql.raw(COLUMNS.map((column) => `e.${column}`).join(', '));
    const query =
      this.db.kind === 'postgres'
        ? sql<ExecutionRow>`SELECT ${eColumns} FROM unnest(${cronNames}::text[]) AS c(name)
            CROSS JOIN LATERAL (SELECT ${columns} FROM cron_executions WHERE cron_name = c.name ORDER BY started_at DESC, id DESC LIMIT 1) e`
        : sql<ExecutionRow>`SELECT ${columns} FROM cron_executions WHERE id IN (
            SELECT (SELECT id FROM cron_executions x WHERE x.cron_name = c.value ORDER BY started_at DESC, id DESC LIMIT 1) FROM json_each(${JSON.stringify(cronNames)}) c)`;
    const { rows } = await query.execute(this.db.q);
    return new Map(rows.map((row) => [row.cron_name, this.toExecution(row)]));
  }

  /** The KPIs of the last 24 hours, from the roll-ups (and the runs of the window's first partial minute). */
  async counts24h(): Promise<{ executions24h: number; running: number; failures24h: number }> {
    const to = Date.now() + 1;
    // One snapshot: a run starting meanwhile is in both counts or in neither.
    const { groups, running } = await this.db.snapshot(async (q) => ({
      groups: await this.rollups.groups(q, to - 86_400_000, to, 0, {}),
      running: await q
        .selectFrom('cron_executions')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('status', '=', 'running')
        .executeTakeFirstOrThrow(),
    }));
    let executions24h = 0;
    let failures24h = 0;
    for (const group of groups) {
      executions24h += group.runs;
      if (group.status === 'failed') failures24h += group.runs;
    }
    return { executions24h, running: Number(running.n), failures24h };
  }

  /**
   * Runs of a range for the chart. Up to TIMELINE_MAX_RUNS runs come one by one (oldest first); past
   * that, completed runs come as buckets (per cron, of a width that keeps them under
   * TIMELINE_MAX_BUCKETS), every running run one by one, and failed and cancelled runs one by one, newest
   * first, bounded; those older than that bound come as buckets too. Buckets whose hours did not
   * change since a previous read are taken from the cache (timelineCache.ts), not read again; so are the
   * single runs of the hours that did not change.
   */
  async timeline(query: TimelineQuery): Promise<TimelineReply> {
    const nowMs = Date.now();
    const toMs = query.to ? Math.min(Date.parse(query.to), nowMs + 1) : nowMs + 1;
    const fromMs = query.from ? Date.parse(query.from) : toMs - (query.days ?? 7) * 86_400_000;
    const reply = { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() };
    if (toMs <= fromMs) return { ...reply, executions: [] };
    const entry = (row: TimelineRow): TimelineEntry => ({
      id: row.id,
      cronName: row.cron_name,
      status: row.status,
      startedAt: isoOf(row.started_at),
      durationMs: row.duration_ms ?? Math.max(0, nowMs - epochMs(row.started_at)),
    });
    // No request may hold the event loop for more than ~20 ms: the reads (synchronous on SQLite) give it
    // back between statements, and the shaping runs after the snapshot.
    const read = await this.db.snapshot((q) => this.timelineReads(q, query, fromMs, toMs, reply));
    await yieldToLoop();
    if (read.kind === 'runs') return { ...reply, executions: read.rows.map(entry) };
    return { ...reply, executions: read.notable.map(entry), buckets: read.buckets, bucketMs: read.bucketMs };
  }

  /** The timeline's statements on one snapshot: the range's runs, or its buckets and notable runs. */
  private async timelineReads(q: Query, query: TimelineQuery, fromMs: number, toMs: number, reply: { from: string; to: string }): Promise<TimelineReads> {
    const filter: RangeFilter = { cronName: query.cronName, status: query.status };
    const { total, crons } = await this.rangeTotals(q, fromMs, toMs, filter);
    // One pair of bounds on started_at per statement: SQLite takes the first pair for the index range and
    // checks any other as a filter (the current hour's notable runs under the week's bounds scanned the week's index).
    const ofCron = () => {
      const runs = q.selectFrom('cron_executions').select(['id', 'cron_name', 'status', startedAtIso(this.db), 'duration_ms']);
      return query.cronName ? runs.where('cron_name', '=', query.cronName) : runs;
    };
    const runsIn = (from: string, to: string) => {
      const runs = ofCron().where('started_at', '>=', from).where('started_at', '<', to);
      return query.status ? runs.where('status', '=', query.status) : runs;
    };
    await yieldToLoop();
    if (total <= TIMELINE_MAX_RUNS) return { kind: 'runs', rows: await runsIn(reply.from, reply.to).orderBy('cron_executions.started_at').limit(TIMELINE_MAX_RUNS * 2).execute() };

    const bucketMs = BUCKET_WIDTHS_MS.find((width) => Math.ceil((toMs - fromMs) / width) * crons <= TIMELINE_MAX_BUCKETS) ?? BUCKET_WIDTHS_MS[BUCKET_WIDTHS_MS.length - 1];
    const revisions = await this.revisionsOf(q, fromMs, toMs);
    // Every running run is listed, wherever the bound on the others falls (a stuck run is what an operator
    // looks for). There are few, one per cron at most: read through the one-running index alone, the range
    // kept here (with bounds on started_at SQLite chose that index instead: a scan of the week, 640 ms at 1,000,000 runs).
    let running: TimelineRow[] = [];
    if (!query.status || query.status === 'running') {
      running = (await ofCron().where('status', '=', 'running').execute())
        .filter((row) => epochMs(row.started_at) >= fromMs && epochMs(row.started_at) < toMs)
        .sort((a, b) => epochMs(b.started_at) - epochMs(a.started_at));
    }
    // The failed and cancelled ones, newest first, one more than can be listed: whether the bound cuts between
    // runs started in the same millisecond. (Both terms: SQLite uses the partial index only for its own term.)
    let ended =
      query.status === 'completed' || query.status === 'running'
        ? []
        : await this.notableOf((from, to) => runsIn(from, to).where('status', '<>', 'completed').where('status', '<>', 'running'), { fromMs, toMs, filter, revisions }, TIMELINE_MAX_NOTABLE + 1);
    // Completed runs in buckets over the whole range; when more failed and cancelled runs than can be
    // listed, the older ones come as buckets too, so the chart never shows a week without failures that had them.
    const summarised: Array<{ status: BucketStatus; endMs: number }> = [];
    if (!query.status || query.status === 'completed') summarised.push({ status: 'completed', endMs: toMs });
    if (ended.length > TIMELINE_MAX_NOTABLE) {
      const lastMs = epochMs(ended[TIMELINE_MAX_NOTABLE - 1].started_at);
      const tied = epochMs(ended[TIMELINE_MAX_NOTABLE].started_at) === lastMs;
      ended = ended.slice(0, TIMELINE_MAX_NOTABLE);
      // When it does (a tick's runs share one on SQLite), that millisecond's runs all go to the buckets, or
      // those past the bound would be neither listed nor counted.
      if (tied) ended = ended.filter((row) => epochMs(row.started_at) > lastMs);
      const endMs = tied ? lastMs + 1 : lastMs;
      for (const status of ['failed', 'cancelled'] as const) if (!query.status || query.status === status) summarised.push({ status, endMs });
    }
    const notable = newestFirst(running, ended);
    await yieldToLoop();
    const perStatus = await this.bucketsOf(q, { fromMs, toMs, bucketMs, cronName: query.cronName, revisions }, summarised);
    // Ordered by start, then cron name, then status (completed, failed, cancelled), as the chart stacks them.
    const buckets: TimelineBucket[] = [];
    const slots = Math.max(0, ...perStatus.map((slotsOf) => slotsOf.length));
    for (let slot = 0; slot < slots; slot++) {
      const inSlot = perStatus.flatMap((slotsOf) => slotsOf[slot] ?? []);
      // Stable: the statuses keep their order for one cron.
      if (perStatus.length > 1) sortByCronName(inSlot);
      buckets.push(...inSlot);
    }
    return { kind: 'buckets', buckets, bucketMs, notable };
  }

  /**
   * What the timeline's shape depends on: whether [from, to) holds more than TIMELINE_MAX_RUNS runs, and how
   * many crons ran in it. On PostgreSQL, from the range's whole hours alone (the hour and day roll-ups, a few
   * hundred rows) when they settle it, else from its whole minutes (the minute roll-ups of a range shorter
   * than a day): more runs than that inside them, and no cron in the partial hour or minute at each edge that
   * is not in them too (then the range's crons are theirs, and the reply is the one the exact count gives).
   * Otherwise (a short range, few runs) counted exactly, the partial minutes at the edges from the runs
   * themselves: on PostgreSQL at 1,000,000 runs that exact count was 6.5 ms of the database's time per 7-day
   * read (p50), mostly minute roll-ups at the edges; at 10,000,000 runs (~1,000 runs a minute) a zoomed
   * hour off the minute counted ~2,000 runs at its edges, 4–6 ms.
   */
  private async rangeTotals(q: Query, fromMs: number, toMs: number, filter: RangeFilter): Promise<{ total: number; crons: number }> {
    // On PostgreSQL only: SQLite reads the exact count faster (10,000,000 runs: 7.2 ms against 12.6 ms).
    if (this.db.kind === 'postgres') {
      for (const unitMs of [HOUR_MS, MINUTE_MS]) {
        const innerFrom = Math.ceil(fromMs / unitMs) * unitMs;
        const innerTo = Math.floor(toMs / unitMs) * unitMs;
        if (innerTo <= innerFrom || (unitMs === MINUTE_MS && innerTo - innerFrom > MAX_MINUTE_SETTLED_MS)) continue;
        const [inner, before, after] = await this.rollups.groupsOfRanges(
          q,
          [
            { fromMs: innerFrom, toMs: innerTo, filter },
            { fromMs: innerFrom - unitMs, toMs: innerFrom, filter },
            { fromMs: innerTo, toMs: innerTo + unitMs, filter },
          ],
          0,
        );
        const innerTotal = inner.reduce((sum, group) => sum + group.runs, 0);
        const innerCrons = new Set(inner.map((group) => group.cronName));
        const edgeCronsKnown = [...before, ...after].every((group) => innerCrons.has(group.cronName));
        if (innerTotal > TIMELINE_MAX_RUNS && edgeCronsKnown) return { total: innerTotal, crons: innerCrons.size };
      }
    }
    const totals = await this.rollups.groups(q, fromMs, toMs, 0, filter);
    return { total: totals.reduce((sum, group) => sum + group.runs, 0), crons: new Set(totals.map((group) => group.cronName)).size };
  }

  /**
   * The failed and cancelled runs of [from, to) under the filter, newest first, at most `wanted`
   * (`notableIn`: the runs of those statuses between two times). Walks the range's hours from the
   * newest: a whole hour whose revision is unchanged since a read listed it comes from the cache; each
   * stretch of the others (the current hour, the partial ones at the edges, the hours that changed) is one
   * statement, newest first, bounded by what is still missing. On PostgreSQL at 1,000,000 runs the single
   * statement this replaces cost ~4 ms of the database and ~2 ms of parsing its thousand rows a 7-day read.
   */
  private async notableOf(
    notableIn: (from: string, to: string) => SelectQueryBuilder<Database, 'cron_executions', TimelineRow>,
    range: { fromMs: number; toMs: number; filter: RangeFilter; revisions: Revisions },
    wanted: number,
  ): Promise<TimelineRow[]> {
    const { fromMs, toMs, filter, revisions } = range;
    const firstHour = Math.floor(fromMs / HOUR_MS) * HOUR_MS;
    const keyOf = (hour: number) => `${hour}|${filter.cronName ?? ''}|${filter.status ?? ''}`;
    const rows: TimelineRow[] = [];
    // A kept hour that serves what is still missing: only a whole hour is kept (a partial one changes with the range).
    const kept = (hour: number): NotableHour | undefined => {
      if (hour < fromMs || hour + HOUR_MS > toMs) return undefined;
      const entry = this.notableCache.get(keyOf(hour), stampOf(revisions, hour, HOUR_MS));
      return entry && (entry.complete || entry.rows.length >= wanted - rows.length) ? entry : undefined;
    };
    let stretches = 0;
    let hour = Math.floor((toMs - 1) / HOUR_MS) * HOUR_MS;
    while (hour >= firstHour && rows.length < wanted) {
      const entry = kept(hour);
      if (entry) {
        for (const row of entry.rows) rows.push(row);
        hour -= HOUR_MS;
        continue;
      }
      // The hours not kept, down to the next kept one; past a few stretches, down to the range's start.
      let lowest = hour;
      if (++stretches > MAX_STRETCHES) lowest = firstHour;
      else while (lowest - HOUR_MS >= firstHour && !kept(lowest - HOUR_MS)) lowest -= HOUR_MS;
      const limit = wanted - rows.length;
      const read = await notableIn(new Date(Math.max(lowest, fromMs)).toISOString(), new Date(Math.min(hour + HOUR_MS, toMs)).toISOString())
        .orderBy('cron_executions.started_at', 'desc')
        .limit(limit)
        .execute();
      for (const row of read) rows.push(row);
      // The hours the read holds whole: all of them, unless the limit cut it inside its oldest run's hour.
      const cutAt = read.length === limit && read.length > 0 ? Math.floor(epochMs(read[read.length - 1].started_at) / HOUR_MS) * HOUR_MS : undefined;
      const byHour = new Map<number, TimelineRow[]>();
      for (const row of read) {
        const rowHour = Math.floor(epochMs(row.started_at) / HOUR_MS) * HOUR_MS;
        const inHour = byHour.get(rowHour);
        if (inHour) inHour.push(row);
        else byHour.set(rowHour, [row]);
      }
      for (let readHour = hour; readHour >= lowest && (cutAt === undefined || readHour >= cutAt); readHour -= HOUR_MS) {
        if (readHour < fromMs || readHour + HOUR_MS > toMs) continue;
        this.notableCache.set(keyOf(readHour), stampOf(revisions, readHour, HOUR_MS), { rows: byHour.get(readHour) ?? [], complete: readHour !== cutAt });
      }
      hour = lowest - HOUR_MS;
    }
    return rows.length > wanted ? rows.slice(0, wanted) : rows;
  }

  /** The revision of each hour of [from, to) and of the whole history (at 0): what the cached buckets were shaped from. */
  private async revisionsOf(q: Query, fromMs: number, toMs: number): Promise<Revisions> {
    const from = new Date(Math.floor(fromMs / HOUR_MS) * HOUR_MS).toISOString();
    const { rows } = await sql<{ hour_start: Date | string; revision: number | string }>`
      SELECT hour_start, revision FROM cron_rollup_revisions WHERE hour_start >= ${from} AND hour_start < ${new Date(toMs).toISOString()}
      UNION ALL SELECT hour_start, revision FROM cron_rollup_revisions WHERE hour_start = ${new Date(0).toISOString()}`.execute(q);
    return new Map(rows.map((row) => [epochMs(row.hour_start), Number(row.revision)]));
  }

  /**
   * The buckets of each status over [from, its end), one list per slot of the grid (buckets of
   * `bucketMs` aligned on the epoch, from the one holding `from`), each sorted by cron name. A whole slot
   * comes from the cache while its hours' revisions are unchanged; the others (the edges of the range, the
   * hours that changed) are read from the roll-ups, every stretch of neighbouring slots of every status in
   * one statement (one round trip on PostgreSQL).
   */
  private async bucketsOf(
    q: Query,
    grid: { fromMs: number; toMs: number; bucketMs: number; cronName?: string; revisions: Revisions },
    summarised: ReadonlyArray<{ status: BucketStatus; endMs: number }>,
  ): Promise<TimelineBucket[][][]> {
    const { fromMs, toMs, bucketMs, cronName, revisions } = grid;
    const firstMs = Math.floor(fromMs / bucketMs) * bucketMs;
    type Slot = { startMs: number; key?: string; stamp?: string; buckets?: TimelineBucket[] };
    const reads: Array<{ slots: Slot[]; first: number; last: number; status: BucketStatus; fromMs: number; toMs: number }> = [];
    const perStatus = summarised.map(({ status, endMs }) => {
      const slots: Slot[] = [];
      for (let startMs = firstMs; startMs < endMs; startMs += bucketMs) {
        // Only a whole slot is kept: a partial one (the range's edges) changes with the range.
        if (startMs < fromMs || startMs + bucketMs > endMs) {
          slots.push({ startMs });
          continue;
        }
        const key = bucketKey(bucketMs, startMs, status, cronName);
        const stamp = stampOf(revisions, startMs, bucketMs);
        slots.push({ startMs, key, stamp, buckets: this.timelineCache.get(key, stamp) });
      }
      // Stretches of slots to read; past a few, one stretch from the first to the last.
      let stretches: Array<{ first: number; last: number }> = [];
      slots.forEach((slot, index) => {
        if (slot.buckets) return;
        const previous = stretches[stretches.length - 1];
        if (previous && previous.last === index - 1) previous.last = index;
        else stretches.push({ first: index, last: index });
      });
      if (stretches.length > MAX_STRETCHES) stretches = [{ first: stretches[0].first, last: stretches[stretches.length - 1].last }];
      for (const { first, last } of stretches) {
        reads.push({ slots, first, last, status, fromMs: Math.max(slots[first].startMs, fromMs), toMs: Math.min(slots[last].startMs + bucketMs, endMs) });
      }
      return slots;
    });
    // Reads of the same stretch for several statuses (the range's first slots, and the failed and cancelled
    // runs' last ones) are one range of the statement: its roll-ups and runs are scanned once, not once per status.
    const ranges = new Map<string, { fromMs: number; toMs: number; statuses: BucketStatus[] }>();
    for (const read of reads) {
      const key = `${read.fromMs}|${read.toMs}`;
      const known = ranges.get(key);
      if (known) known.statuses.push(read.status);
      else ranges.set(key, { fromMs: read.fromMs, toMs: read.toMs, statuses: [read.status] });
    }
    const merged = [...ranges.values()];
    const groupsOfRanges = await this.rollups.groupsOfRanges(
      q,
      merged.map((range) => ({ fromMs: range.fromMs, toMs: range.toMs, filter: { cronName, statuses: range.statuses } })),
      bucketMs,
    );
    const groupsOf = new Map(merged.map((range, index) => [`${range.fromMs}|${range.toMs}`, groupsOfRanges[index]]));
    for (const read of reads) {
      await yieldToLoop();
      const inRange = groupsOf.get(`${read.fromMs}|${read.toMs}`) ?? [];
      const shaped = await shapeBuckets(inRange.filter((group) => group.status === read.status), bucketMs, fromMs, toMs);
      for (let slotIndex = read.first; slotIndex <= read.last; slotIndex++) {
        const slot = read.slots[slotIndex];
        slot.buckets = shaped.get(slot.startMs) ?? [];
        if (slot.key && slot.stamp) this.timelineCache.set(slot.key, slot.stamp, slot.buckets);
      }
    }
    return perStatus.map((slots) => slots.map((slot) => slot.buckets ?? []));
  }

  /** At start: what this runner left running when it died can never finish now. */
  async failInterrupted(runnerId: string): Promise<Array<{ execution: Execution; pid: number | null }>> {
    const end = timeOrNow(this.db, undefined);
    const rows = await this.db.q
      .updateTable('cron_executions')
      .set({ status: 'failed', completed_at: end, error_message: 'Interrupted: server restarted', duration_ms: msSinceStart(this.db, end) })
      .where('status', '=', 'running')
      .where('runner_id', '=', runnerId)
      .returning([...COLUMNS, 'pid'])
      .execute();
    return rows.map((row) => ({ execution: this.toExecution(row), pid: row.pid }));
  }

  /**
   * Deletes executions that ended more than `days` days ago (their logs go with them), a batch at a time
   * so that no request waits behind one long delete.
   */
  async applyRetention(days: number): Promise<number> {
    const cutoff = new Date(Date.now() - days * 86_400_000).toISOString();
    let deleted = 0;
    // A batch's cost grows with its runs' log lines: the batch shrinks when one took longer than 10 ms.
    let batchSize = RETENTION_BATCH;
    for (;;) {
      const batch = this.db.q
        .selectFrom('cron_executions')
        .select('id')
        .where('started_at', '<', cutoff)
        .where('status', '<>', 'running')
        .where(sql<boolean>`COALESCE(completed_at, started_at) < ${cutoff}`)
        .orderBy('started_at')
        .limit(batchSize);
      const started = performance.now();
      const result = await this.db.q.deleteFrom('cron_executions').where('id', 'in', batch).executeTakeFirst();
      const count = Number(result.numDeletedRows);
      deleted += count;
      if (count < batchSize) break;
      const tookMs = performance.now() - started;
      batchSize = tookMs > 10 ? Math.max(1, Math.floor(batchSize / 2)) : Math.min(RETENTION_BATCH, batchSize * 2);
      await new Promise((resolveLater) => setImmediate(resolveLater));
    }
    // Claimed and skipped ticks (skippedTickStore.ts) go with the runs of their time.
    for (const table of ['schedule_ticks', 'skipped_ticks']) {
      for (;;) {
        const result = await sql`DELETE FROM ${sql.table(table)} WHERE (cron_name, tick_at) IN (
            SELECT cron_name, tick_at FROM ${sql.table(table)} WHERE tick_at < ${cutoff} LIMIT ${RETENTION_BATCH})`.execute(this.db.q);
        if (Number(result.numAffectedRows ?? 0) < RETENTION_BATCH) break;
        await new Promise((resolveLater) => setImmediate(resolveLater));
      }
    }
    // The script versions and file contents no kept execution names go with them.
    await pruneScriptVersions(this.db);
    return deleted;
  }
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
