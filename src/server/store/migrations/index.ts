// Applies the store's missing migrations in order at start, each in its own transaction with its record.
import { sql } from 'kysely';
import type { Db } from '../db';
import type { Migration } from './migration';
import { POSTGRES_MIGRATIONS } from './postgres';
import { SQLITE_MIGRATIONS } from './sqlite';

/** Instances starting together on one PostgreSQL database take turns under this advisory lock. */
const MIGRATION_LOCK = 7460200;

export function migrationsOf(db: Db): Migration[] {
  return db.kind === 'postgres' ? POSTGRES_MIGRATIONS : SQLITE_MIGRATIONS;
}

/** Applies the missing migrations; resolves with the schema's version. */
export async function migrate(db: Db): Promise<number> {
  const timestamp = db.kind === 'postgres' ? 'timestamptz' : 'text';
  await db.transaction(async (tx) => {
    if (db.kind === 'postgres') await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(tx);
    await sql
      .raw(`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at ${timestamp} NOT NULL DEFAULT ${db.kind === 'postgres' ? 'now()' : `(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`})`)
      .execute(tx);
  });
  const migrations = migrationsOf(db);
  for (const migration of migrations) {
    await db.transaction(async (tx) => {
      if (db.kind === 'postgres') await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(tx);
      const done = await sql`SELECT 1 FROM schema_migrations WHERE version = ${migration.version}`.execute(tx);
      if (done.rows.length > 0) return;
      if (db.kind === 'postgres') await sql.raw(migration.sql).execute(tx);
      else await db.execScript(migration.sql);
      await sql`INSERT INTO schema_migrations (version, name) VALUES (${migration.version}, ${migration.name})`.execute(tx);
    });
  }
  return migrations[migrations.length - 1].version;
}
