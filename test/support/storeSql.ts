// Direct SQL on the store a server used with `--data DIR`: the embedded SQLite file, or, in the suite's
// PostgreSQL pass, the database startServer() maps that folder to. For setting up old rows and for running
// the operator guide's own queries (on PostgreSQL unchanged; on SQLite in its dialect).
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { databaseFor, TEST_DATABASE_ENV } from './postgres';

// any: rows are whatever the query selects.
export type Query = (sql: string, params?: unknown[]) => Promise<any[]>;
export type StoreDialect = 'sqlite' | 'postgres';

/** The store's file inside a --data folder. */
export function sqliteFileOf(dataDir: string): string {
  return join(dataDir, 'cron-ops.db');
}

/**
 * Opens the store of `dataDir`, runs `work` with a query function and the store's dialect, closes it.
 * SQLite takes `?` parameters (arrays are bound as JSON text); PostgreSQL `$1`.
 */
export async function withStoreSql<T>(dataDir: string, work: (query: Query, dialect: StoreDialect) => Promise<T>): Promise<T> {
  const base = process.env[TEST_DATABASE_ENV];
  if (base) {
    const client = new pg.Client({ connectionString: await databaseFor(base, dataDir) });
    await client.connect();
    try {
      return await work(async (sql, params) => (await client.query(sql, params)).rows, 'postgres');
    } finally {
      await client.end();
    }
  }
  const db = new BetterSqlite3(sqliteFileOf(dataDir), { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  try {
    const bind = (params: unknown[] = []) => params.map((value) => (Array.isArray(value) ? JSON.stringify(value) : value));
    return await work(async (sql, params) => {
      const statement = db.prepare(sql);
      return statement.reader ? statement.all(...bind(params)) : (statement.run(...bind(params)), []);
    }, 'sqlite');
  } finally {
    db.close();
  }
}
