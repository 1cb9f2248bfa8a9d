// Direct SQL on the store a stopped server used with `--data DIR`: the embedded PGlite folder, or, in the
// suite's PostgreSQL pass, the database startServer() maps that folder to. For setting up old rows and
// for running the operator guide's own queries.
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { databaseFor, TEST_DATABASE_ENV } from './postgres';

// any: rows are whatever the query selects.
export type Query = (sql: string, params?: unknown[]) => Promise<any[]>;

/** Opens the store of `dataDir` (the server must be stopped when it is PGlite), runs `work`, closes it. */
export async function withStoreSql<T>(dataDir: string, work: (query: Query) => Promise<T>): Promise<T> {
  const base = process.env[TEST_DATABASE_ENV];
  if (base) {
    const client = new pg.Client({ connectionString: await databaseFor(base, dataDir) });
    await client.connect();
    try {
      return await work(async (sql, params) => (await client.query(sql, params)).rows);
    } finally {
      await client.end();
    }
  }
  const db = await PGlite.create({ dataDir });
  try {
    return await work(async (sql, params) => (await db.query(sql, params)).rows);
  } finally {
    await db.close();
  }
}
