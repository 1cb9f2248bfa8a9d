// The few expressions whose SQL differs between SQLite and PostgreSQL, as Kysely fragments.
import { sql, type RawBuilder } from 'kysely';
import type { Db } from './db';

/** A time `seconds` before now, on the store's clock. */
export function ago(db: Db, seconds: number): RawBuilder<string> {
  return db.kind === 'postgres'
    ? sql<string>`now() - make_interval(secs => ${seconds})`
    : sql<string>`${new Date(Date.now() - seconds * 1000).toISOString()}`;
}

/** `at` (ISO text, or now when undefined) as a timestamp expression. */
export function timeOrNow(db: Db, at: string | undefined): RawBuilder<string> {
  if (db.kind === 'postgres') return at === undefined ? sql<string>`now()` : sql<string>`${at}::timestamptz`;
  return sql<string>`${at ?? new Date().toISOString()}`;
}

/** Whole milliseconds from started_at to `end`, never negative. */
export function msSinceStart(db: Db, end: RawBuilder<string>): RawBuilder<number> {
  return db.kind === 'postgres'
    ? sql<number>`GREATEST(0, (EXTRACT(EPOCH FROM (${end} - started_at)) * 1000)::int)`
    : sql<number>`max(0, CAST(round((julianday(${end}) - julianday(started_at)) * 86400000) AS integer))`;
}

/** A timestamp read from either driver, as epoch milliseconds. */
export function epochMs(value: Date | string): number {
  return value instanceof Date ? value.getTime() : Date.parse(value);
}

/** What toISOString() writes, as the SQLite store keeps its timestamps. */
const CANONICAL_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A timestamp read from either driver, as ISO-8601 UTC text. */
export function isoOf(value: Date | string): string {
  // Already in that form (SQLite's own writes): as is, without a parse and a format per row (a timeline
  // reply has a thousand of them).
  if (typeof value === 'string' && CANONICAL_ISO.test(value)) return value;
  return (value instanceof Date ? value : new Date(value)).toISOString();
}
