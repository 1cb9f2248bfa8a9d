// One query interface over the embedded store (PGlite) and PostgreSQL, so the same SQL runs on both.
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { errorText, type Logger } from '../logger';

export interface Queryable {
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs several statements at once (migrations). */
  exec(sql: string): Promise<void>;
}

export type NotificationHandler = (channel: string, payload: string) => void;

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `work` in one transaction; it is rolled back if `work` throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Listens on channels; `onReconnect` runs when a lost listening connection is back (notifications sent
   * meanwhile are lost, so the caller resynchronises).
   */
  listen(channels: string[], handler: NotificationHandler, onReconnect: () => void): Promise<void>;
  close(): Promise<void>;
}

/** PostgreSQL's SQLSTATE for a unique violation: how the "already running" guard reports itself. */
export const UNIQUE_VIOLATION = '23505';

export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === UNIQUE_VIOLATION;
}

export async function openPglite(dataDir: string | undefined): Promise<Db> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  // PGlite's default 128 MB of shared buffers would triple the idle server's memory; 16 MB serves one
  // machine's crons (PGlite writes the setting into the folder's postgresql.conf).
  const pglite = await PGlite.create({ ...(dataDir ? { dataDir } : {}), postgresqlconf: 'shared_buffers = 16MB' });
  // PGlite is one connection: its transaction() holds it, so nothing interleaves inside a transaction.
  return {
    kind: 'pglite',
    async query<T>(sql: string, params: unknown[] = []) {
      return (await pglite.query<T>(sql, params)).rows;
    },
    transaction<T>(work: (tx: Queryable) => Promise<T>) {
      return pglite.transaction(async (tx) =>
        work({
          async query<R>(sql: string, params: unknown[] = []) {
            return (await tx.query<R>(sql, params)).rows;
          },
          async exec(sql: string) {
            await tx.exec(sql);
          },
        }),
      );
    },
    async exec(sql) {
      await pglite.exec(sql);
    },
    async listen(channels, handler) {
      for (const channel of channels) await pglite.listen(channel, (payload) => handler(channel, payload));
    },
    close: () => pglite.close(),
  };
}

export interface PostgresOptions {
  url: string;
  log: Logger;
  poolSize?: number;
}

export async function openPostgres(options: PostgresOptions): Promise<Db> {
  const { url, log } = options;
  const clientConfig = {
    connectionString: url,
    connectionTimeoutMillis: 5_000,
    // A query that hangs (a lock, a dead network) fails instead of holding a request forever.
    statement_timeout: 30_000,
    query_timeout: 35_000,
    application_name: 'cron-ops-server',
  };
  const pool = new pg.Pool({ ...clientConfig, max: options.poolSize ?? 10, idleTimeoutMillis: 30_000 });
  pool.on('error', (error) => log.warn('PostgreSQL connection lost (the pool will reconnect)', { error: errorText(error) }));
  // Fail the start clearly when the database cannot be reached at all.
  await pool.query('SELECT 1');

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
    async query<T>(sql: string, params: unknown[] = []) {
      return (await pool.query(sql, params)).rows as T[];
    },
    async transaction<T>(work: (tx: Queryable) => Promise<T>) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work({
          async query<R>(sql: string, params: unknown[] = []) {
            return (await client.query(sql, params)).rows as R[];
          },
          async exec(sql: string) {
            await client.query(sql);
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async exec(sql) {
      await pool.query(sql);
    },
    async listen(channels, handler, onReconnect) {
      await connectListener(channels, handler, onReconnect, 0);
    },
    async close() {
      closed = true;
      const client = listener;
      listener = undefined;
      await client?.end().catch(() => undefined);
      await pool.end();
    },
  };
}
