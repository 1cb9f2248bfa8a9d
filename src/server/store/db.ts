// The store connection: one typed query builder (Kysely) over SQLite (better-sqlite3, the embedded store)
// or PostgreSQL (pg), plus what differs between them: write transactions, multi-statement scripts, and how
// changes made by anyone (this process, another instance, SQL by hand) are heard.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, sql, SqliteDialect, type RawBuilder } from 'kysely';
import pg from 'pg';
import { errorText, type Logger } from '../logger';
import type { Database } from './schema';
import { WalCheckpointer } from './walCheckpointer';

export type StoreKind = 'sqlite' | 'postgres';
export type Query = Kysely<Database>;
export type NotificationHandler = (channel: string, payload: string) => void;

export interface Db {
  readonly kind: StoreKind;
  /** The query builder; inside `transaction`, use the one it hands over. */
  readonly q: Query;
  /** Runs `work` in one write transaction (BEGIN IMMEDIATE on SQLite); rolled back if `work` throws. */
  transaction<T>(work: (tx: Query) => Promise<T>): Promise<T>;
  /** Runs the reads of `work` on one consistent snapshot of the store. */
  snapshot<T>(work: (tx: Query) => Promise<T>): Promise<T>;
  /** Runs several statements at once (migrations). */
  execScript(script: string): Promise<void>;
  /**
   * Hears the store's change notifications (PostgreSQL: LISTEN; SQLite: the change table its triggers fill,
   * read after each write of this process and when another process changed the file). `onReconnect` runs
   * when a lost PostgreSQL listening connection is back (notifications sent meanwhile are lost).
   */
  listen(channels: string[], handler: NotificationHandler, onReconnect: () => void): Promise<void>;
  close(): Promise<void>;
}

/** The current time as the store writes it: the database's clock on PostgreSQL, this process's on SQLite. */
export function now(db: Db): RawBuilder<string> {
  return db.kind === 'postgres' ? sql<string>`now()` : sql<string>`${new Date().toISOString()}`;
}

export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  // PostgreSQL's SQLSTATE 23505; better-sqlite3's extended result code.
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** Name of the embedded store's file inside the data folder. */
export const SQLITE_FILE = 'cron-ops.db';

export interface SqliteOptions {
  /** The database file; undefined for an in-memory store (tests, --memory). */
  file: string | undefined;
  log: Logger;
  /** How often another process's changes to the file are looked for (ms). */
  pollMs?: number;
  /** A reader beside the server's writer (the timeline worker): no writes, no pragmas that write. */
  readonly?: boolean;
}

const STATEMENT_CACHE_SIZE = 200;

/** The WAL file's size once it starts over (bytes): above what a checkpoint's worth of writes leaves. */
export const WAL_SIZE_LIMIT_BYTES = 32 * 1024 * 1024;

/** How long a write waits for a lock another process holds, on the main thread (see lockedOut below). */
const BUSY_TIMEOUT_MS = 1000;

export function openSqliteFile(file: string | undefined, options: { readonly?: boolean } = {}): BetterSqlite3.Database {
  if (file) mkdirSync(dirname(file), { recursive: true });
  const raw = new BetterSqlite3(file ?? ':memory:', { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  // A writer waits a moment for a lock held by another process (the sqlite3 shell) instead of failing at
  // once; the wait blocks the event loop, so it stays short: past it the write fails as transient (the
  // API answers 503 "retry", the runner keeps log lines to retry, /health says degraded).
  raw.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  if (!options.readonly) {
    // WAL: readers never block the writer; NORMAL: a commit is durable once the WAL is written, and the
    // WAL is synced at each checkpoint. A process crash (kill -9) loses nothing committed; only a power
    // loss or OS crash may lose the last commits (see README, Data safety).
    raw.pragma('journal_mode = WAL');
    // The WAL starts over from its beginning once checkpointed, but its file keeps the size it grew to (a
    // backlog after the sqlite3 shell held the lock grew it past 100 MB): past this size it is cut back
    // when it starts over.
    raw.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    raw.pragma('synchronous = NORMAL');
    raw.pragma('foreign_keys = ON');
  }
  return raw;
}

export async function openSqlite(options: SqliteOptions): Promise<Db> {
  const raw = openSqliteFile(options.file, { readonly: options.readonly });
  let onWrite = () => {};
  // The WAL is copied back into the file by a worker thread, not inside a commit on this one (walCheckpointer.ts).
  const checkpointer = options.file && !options.readonly ? new WalCheckpointer(options.file, options.log, () => raw.pragma('wal_autocheckpoint = 1000')) : undefined;
  if (checkpointer) raw.pragma('wal_autocheckpoint = 0');
  // Kysely prepares every query anew; better-sqlite3 statements are reusable, so keep the recent ones.
  const statements = new Map<string, BetterSqlite3.Statement>();
  const prepare = (text: string): BetterSqlite3.Statement => {
    let statement = statements.get(text);
    if (statement) {
      statements.delete(text);
    } else {
      statement = raw.prepare(text);
      if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
    }
    statements.set(text, statement);
    return statement;
  };
  // SQLite binds numbers, text, blobs and null: booleans become 0/1.
  const bind = (parameters: ReadonlyArray<unknown>) => parameters.map((value) => (typeof value === 'boolean' ? Number(value) : value));
  // Another process holding the write lock (the sqlite3 shell inside a transaction): each write would wait
  // BUSY_TIMEOUT_MS on the main thread before failing, and a run's log lines, its end and /health's probe,
  // one after the other, would hold the event loop for as long as the lock is held (seconds of no answer
  // to anything). So after one write found the file locked, the next fail at once (as transient: the API
  // answers 503 "retry", log lines and ends are kept and written later) until one gets the lock.
  let lockedOut = false;
  const lockedBy = (error: unknown) => {
    if (lockedOut || !String((error as { code?: unknown } | null)?.code ?? '').startsWith('SQLITE_BUSY')) return;
    lockedOut = true;
    raw.pragma('busy_timeout = 0');
    options.log.warn(`The store file is locked by another process (a transaction left open in the sqlite3 shell?): writes fail at once, and are kept to retry, until it is released`);
  };
  const unlocked = () => {
    if (!lockedOut) return;
    lockedOut = false;
    raw.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    options.log.info('The store file is writable again');
  };
  const database = {
    close: () => raw.close(),
    prepare(text: string) {
      const statement = prepare(text);
      // BEGIN IMMEDIATE takes the write lock, yet SQLite counts it read-only (it changes no row).
      const takesLock = !statement.readonly || text.startsWith('BEGIN IMMEDIATE');
      const wrote = <T>(run: () => T): T => {
        let result: T;
        try {
          result = run();
        } catch (error) {
          lockedBy(error);
          throw error;
        }
        if (takesLock) unlocked();
        if (!statement.readonly) {
          onWrite();
          checkpointer?.wrote();
        }
        return result;
      };
      return {
        reader: statement.reader,
        all: (parameters: ReadonlyArray<unknown>) => wrote(() => statement.all(bind(parameters))),
        run: (parameters: ReadonlyArray<unknown>) => wrote(() => statement.run(bind(parameters))),
        iterate: (parameters: ReadonlyArray<unknown>) => statement.iterate(bind(parameters)),
      };
    },
  };
  const q = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  let timer: NodeJS.Timeout | undefined;

  return {
    kind: 'sqlite',
    q,
    transaction<T>(work: (tx: Query) => Promise<T>): Promise<T> {
      // IMMEDIATE takes the write lock at BEGIN: a transaction that reads then writes never fails midway
      // because another process wrote in between.
      return q.connection().execute(async (connection) => {
        await sql`BEGIN IMMEDIATE`.execute(connection);
        try {
          const result = await work(connection);
          await sql`COMMIT`.execute(connection);
          return result;
        } catch (error) {
          if (raw.inTransaction) await sql`ROLLBACK`.execute(connection);
          throw error;
        }
      });
    },
    snapshot<T>(work: (tx: Query) => Promise<T>): Promise<T> {
      // The one connection is held throughout: no write of this process comes in between.
      return q.connection().execute(async (connection) => {
        await sql`BEGIN`.execute(connection);
        try {
          return await work(connection);
        } finally {
          if (raw.inTransaction) await sql`COMMIT`.execute(connection);
        }
      });
    },
    async execScript(script) {
      // Straight on the one connection: inside a transaction (migrations) it is part of it.
      raw.exec(script);
    },
    async listen(channels, handler) {
      const wanted = new Set(channels);
      const lastSeq = raw.prepare('SELECT COALESCE(max(seq), 0) AS seq FROM cron_changes').get() as { seq: number };
      let seen = lastSeq.seq;
      raw.prepare('DELETE FROM cron_changes WHERE seq <= ?').run(seen);
      const read = raw.prepare('SELECT seq, channel, payload FROM cron_changes WHERE seq > ? ORDER BY seq LIMIT 1000');
      const prune = raw.prepare('DELETE FROM cron_changes WHERE seq <= ?');
      const dataVersion = raw.prepare('PRAGMA data_version').pluck();
      let version = dataVersion.get();
      let scheduled = false;
      const drain = () => {
        scheduled = false;
        if (!raw.open) return;
        // Mid-transaction the rows may still be rolled back: come back when it is over.
        if (raw.inTransaction) return schedule();
        for (;;) {
          const rows = read.all(seen) as Array<{ seq: number; channel: string; payload: string }>;
          if (rows.length === 0) break;
          seen = rows[rows.length - 1].seq;
          prune.run(seen);
          for (const row of rows) if (wanted.has(row.channel)) handler(row.channel, row.payload);
        }
      };
      const schedule = () => {
        if (scheduled) return;
        scheduled = true;
        setImmediate(drain);
      };
      onWrite = schedule;
      // Another process (the sqlite3 shell running the guide's UPDATE) changed the file: data_version moves.
      if (options.file) {
        timer = setInterval(() => {
          if (!raw.open) return;
          try {
            const current = dataVersion.get();
            if (current !== version) {
              version = current;
              schedule();
            }
          } catch (error) {
            options.log.warn('Could not check the store file for changes', { error: errorText(error) });
          }
        }, options.pollMs ?? 500);
        timer.unref();
      }
      schedule();
    },
    async close() {
      if (timer) clearInterval(timer);
      onWrite = () => {};
      await checkpointer?.close();
      await q.destroy();
    },
  };
}

export interface PostgresOptions {
  url: string;
  log: Logger;
  poolSize?: number;
  /** How long one statement may run (default 30 s); 0: no bound (bulk loads: the benchmarks' seed). */
  statementTimeoutMs?: number;
}

/**
 * A statement that timed out on this side (query_timeout: the database stopped answering, a partition) is
 * still in flight on its connection, and what was queued behind it (its transaction's ROLLBACK) was dropped
 * unsent: released to the pool, the connection would come back to its next user inside a transaction that
 * is open or aborted ("current transaction is aborted", "SET TRANSACTION ISOLATION LEVEL must be called
 * before any query"), for as long as the pool keeps it. So the connection is ended at once: the pool never
 * hands out a client that is ending, and opens a new one.
 */
function closeAfterReadTimeout(client: pg.PoolClient, log: Logger): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const check = (error: unknown) => {
    if (!(error instanceof Error) || error.message !== 'Query read timeout') return;
    log.warn('A PostgreSQL statement got no answer in time: its connection is closed, not reused');
    void client.end().catch(() => undefined);
  };
  // pg's query has promise and call-back forms (pg-pool's own pool.query uses the call-back one).
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      args[args.length - 1] = (error: unknown, ...rest: unknown[]) => {
        check(error);
        return (last as (...callbackArgs: unknown[]) => unknown)(error, ...rest);
      };
      return query(...args);
    }
    const result = query(...args);
    if (result instanceof Promise) result.catch(check);
    return result;
  };
}

export async function openPostgres(options: PostgresOptions): Promise<Db> {
  const { url, log } = options;
  const clientConfig = {
    connectionString: url,
    connectionTimeoutMillis: 5_000,
    // A query that hangs (a lock, a dead network) fails instead of holding a request forever.
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    query_timeout: options.statementTimeoutMs === 0 ? undefined : (options.statementTimeoutMs ?? 30_000) + 5_000,
    application_name: 'cron-ops-server',
    // No parallel workers for the server's statements: each is bounded by an index or the roll-ups, and
    // starting workers cost more than they saved (the timeline's range count: 63 ms with two workers for
    // 7 ms of work, 1,000,000 runs, load 10). The operator's own SQL sessions keep the server's setting.
    options: '-c max_parallel_workers_per_gather=0',
  };
  const pool = new pg.Pool({ ...clientConfig, max: options.poolSize ?? 10, idleTimeoutMillis: 30_000 });
  pool.on('error', (error) => log.warn('PostgreSQL connection lost (the pool will reconnect)', { error: errorText(error) }));
  // The pool listens for errors of idle clients only: a connection that dies while checked out between two
  // statements (a transaction's JS work) would emit 'error' with no listener and end the process. The pool
  // drops such a client when it is released (it is no longer queryable).
  pool.on('connect', (client) => {
    client.on('error', (error) => log.warn('PostgreSQL connection lost while in use (its statement fails; the pool will reconnect)', { error: errorText(error) }));
    closeAfterReadTimeout(client, log);
  });
  // Fail the start clearly when the database cannot be reached at all.
  await pool.query('SELECT 1');
  const q = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });

  let listener: pg.Client | undefined;
  let closed = false;
  const connectListener = async (channels: string[], handler: NotificationHandler, onReconnect: () => void, attempt: number): Promise<void> => {
    if (closed) return;
    const client = new pg.Client(clientConfig);
    const retry = () => {
      if (closed || listener !== client) return;
      listener = undefined;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));
      log.warn(`PostgreSQL listening connection lost: reconnecting in ${delay} ms`);
      setTimeout(() => void connectListener(channels, handler, onReconnect, attempt + 1), delay).unref();
    };
    listener = client;
    client.on('error', retry);
    client.on('end', retry);
    client.on('notification', (message) => handler(message.channel, message.payload ?? ''));
    try {
      await client.connect();
      for (const channel of channels) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      if (attempt > 0) {
        log.info('PostgreSQL listening connection back');
        onReconnect();
      }
      attempt = 0;
    } catch (error) {
      log.warn('PostgreSQL listening connection failed', { error: errorText(error) });
      client.removeAllListeners('end');
      retry();
      await client.end().catch(() => undefined);
    }
  };

  return {
    kind: 'postgres',
    q,
    transaction: (work) => q.transaction().execute(work),
    snapshot: (work) => q.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(work),
    async execScript(script) {
      await pool.query(script);
    },
    async listen(channels, handler, onReconnect) {
      await connectListener(channels, handler, onReconnect, 0);
    },
    async close() {
      closed = true;
      const client = listener;
      listener = undefined;
      await client?.end().catch(() => undefined);
      await q.destroy();
    },
  };
}
