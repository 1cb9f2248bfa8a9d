// Reads run counts over any time range from the roll-ups: the range is cut into whole days, hours and
// minutes (each read from its own roll-up) and the partial minutes at its edges (read from the runs
// themselves), so the cost follows the range's length, never the number of runs in it.
import { sql, type RawBuilder } from 'kysely';
import type { ExecutionStatus } from '../../shared/api';
import type { Db, Query } from './db';
import { DURATION_CLASS_BOUNDS, durationClassSql, LAST_DURATION_CLASS, ROLLUP_LEVELS } from './rollups';

export interface RangeFilter {
  cronName?: string;
  status?: ExecutionStatus;
  /** Runs of any of these statuses (each keeps its own groups). */
  statuses?: readonly ExecutionStatus[];
}

/** Runs of one cron, status and duration class in one bucket of the caller's width. */
export interface Group {
  bucketStartMs: number;
  cronName: string;
  status: ExecutionStatus;
  durationClass: number;
  runs: number;
  maxDurationMs: number;
}

interface Segment {
  /** Index in ROLLUP_LEVELS, or -1: the runs themselves. */
  level: number;
  startMs: number;
  endMs: number;
}

/** The class of the groups of a whole-range count, which keeps none. */
export const NO_CLASS = -2;

const floorTo = (ms: number, unit: number) => Math.floor(ms / unit) * unit;
const ceilTo = (ms: number, unit: number) => Math.ceil(ms / unit) * unit;

/** Cuts [from, to) into aligned segments, no coarser than ROLLUP_LEVELS[maxLevel]. */
export function segmentsOf(fromMs: number, toMs: number, maxLevel: number): Segment[] {
  const segments: Segment[] = [];
  let start = fromMs;
  let level = -1;
  while (level < maxLevel) {
    const boundary = ceilTo(start, ROLLUP_LEVELS[level + 1] * 1000);
    if (boundary > toMs) break;
    if (boundary > start) segments.push({ level, startMs: start, endMs: boundary });
    start = boundary;
    level++;
  }
  for (; level >= 0; level--) {
    const end = floorTo(toMs, ROLLUP_LEVELS[level] * 1000);
    if (end > start) {
      segments.push({ level, startMs: start, endMs: end });
      start = end;
    }
  }
  if (toMs > start) segments.push({ level: -1, startMs: start, endMs: toMs });
  return segments;
}

/**
 * A run's duration class on PostgreSQL, for the partial minutes read from the runs themselves: the number of
 * class bounds below its duration (width_bucket's binary search over the bounds as an array constant), which
 * is the first class whose bound holds it, as rollups.ts's lookup in cron_duration_classes says. That lookup
 * is an index scan per run: at 10,000,000 runs (~1,000 runs a minute) the edges of a zoomed hour cost 11–20 ms
 * of the statement's 12–21 ms; 4,395 runs took 40 ms with it and 2.4 ms with this (EXPLAIN ANALYZE, same
 * classes for 602,073 durations from -5 ms to a week, the bounds and their neighbours included).
 */
const POSTGRES_DURATION_CLASS = `CASE WHEN duration_ms IS NULL THEN -1 ELSE width_bucket(duration_ms::bigint - 1, ARRAY[${DURATION_CLASS_BOUNDS.join(',')}]::bigint[]) END`;

/** The duration class of a run's `duration_ms`, as the timeline reads it from the runs themselves in each dialect. */
export function runDurationClassSql(kind: Db['kind']): string {
  return kind === 'postgres' ? POSTGRES_DURATION_CLASS : durationClassSql('duration_ms');
}

export function durationClassOf(durationMs: number | null): number {
  if (durationMs === null) return -1;
  let low = 0;
  let high = DURATION_CLASS_BOUNDS.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (DURATION_CLASS_BOUNDS[middle] >= durationMs) high = middle;
    else low = middle + 1;
  }
  return low < DURATION_CLASS_BOUNDS.length ? low : LAST_DURATION_CLASS;
}

export class RollupReader {
  constructor(private readonly db: Db) {}

  /**
   * Runs started in [from, to) grouped by bucket of `widthMs` (aligned on the epoch; 0: one bucket for the
   * whole range, without duration classes), cron, status and duration class. One statement (a UNION ALL
   * of the range's segments, grouped again): one round trip, one snapshot.
   */
  async groups(q: Query, fromMs: number, toMs: number, widthMs: number, filter: RangeFilter): Promise<Group[]> {
    return (await this.groupsOfRanges(q, [{ fromMs, toMs, filter }], widthMs))[0];
  }

  /** `groups` of several ranges at once (buckets of the same width), in one statement: one list per range. */
  async groupsOfRanges(q: Query, ranges: ReadonlyArray<{ fromMs: number; toMs: number; filter: RangeFilter }>, widthMs: number): Promise<Group[][]> {
    const results: Group[][] = ranges.map(() => []);
    const statements = ranges.flatMap((range, index) => {
      const statement = this.rangeStatement(range.fromMs, range.toMs, widthMs, range.filter, index);
      return statement ? [statement] : [];
    });
    if (statements.length === 0) return results;
    const { rows } = await sql<{ range_index: number | string; bucket: number | string; cron_name: string; status: ExecutionStatus; duration_class: number; runs: number | string; max_ms: number | string }>`${sql.join(
      statements,
      sql` UNION ALL `,
    )}`.execute(q);
    for (const row of rows) {
      const index = Number(row.range_index);
      results[index].push({
        bucketStartMs: widthMs > 0 ? Number(row.bucket) : ranges[index].fromMs,
        cronName: row.cron_name,
        status: row.status,
        durationClass: Number(row.duration_class),
        runs: Number(row.runs),
        maxDurationMs: Number(row.max_ms),
      });
    }
    return results;
  }

  /** The grouped SELECT of one range, its rows tagged with `tag`; undefined for an empty range. */
  private rangeStatement(fromMs: number, toMs: number, widthMs: number, filter: RangeFilter, tag: number) {
    // A roll-up bucket must fall inside one of the caller's buckets.
    let maxLevel = ROLLUP_LEVELS.length - 1;
    if (widthMs > 0) while (maxLevel >= 0 && widthMs % (ROLLUP_LEVELS[maxLevel] * 1000) !== 0) maxLevel--;
    const bucketOf = (column: string) => {
      if (widthMs <= 0) return sql<number>`0`;
      const width = sql.lit(widthMs);
      return this.db.kind === 'postgres'
        ? sql<number>`(floor(extract(epoch from ${sql.ref(column)}) * 1000 / ${width}) * ${width})::float8`
        : sql<number>`(unixepoch(${sql.ref(column)}) * 1000 / ${width}) * ${width}`;
    };
    const statuses = filter.statuses ?? (filter.status ? [filter.status] : []);
    const statusFilter = statuses.length === 0 ? sql`TRUE` : statuses.length === 1 ? sql`status = ${statuses[0]}` : sql`status IN (${sql.join(statuses)})`;
    const filters = sql.join([filter.cronName ? sql`cron_name = ${filter.cronName}` : sql`TRUE`, statusFilter], sql` AND `);
    const segments = segmentsOf(fromMs, toMs, maxLevel);
    const iso = (ms: number) => new Date(ms).toISOString();
    const rollupPart = (within: RawBuilder<unknown>) => {
      const durationClass = widthMs > 0 ? sql.ref('duration_class') : sql.lit(NO_CLASS);
      return sql`SELECT ${bucketOf('bucket_start')} AS bucket, cron_name, status, ${durationClass} AS duration_class, sum(runs) AS runs, max(max_duration_ms) AS max_ms
        FROM cron_execution_rollups
        WHERE (${within}) AND ${filters}
        GROUP BY 1, 2, 3, 4`;
    };
    const runsPart = (within: RawBuilder<unknown>) => {
      const durationClass = widthMs > 0 ? sql.raw(runDurationClassSql(this.db.kind)) : sql.lit(NO_CLASS);
      return sql`SELECT bucket, cron_name, status, duration_class, count(*) AS runs, max(COALESCE(duration_ms, 0)) AS max_ms
          FROM (SELECT ${bucketOf('started_at')} AS bucket, cron_name, status, ${durationClass} AS duration_class, duration_ms
                FROM cron_executions WHERE (${within}) AND ${filters}) x
          GROUP BY 1, 2, 3, 4`;
    };
    const rollupWithin = (segment: Segment) => sql`bucket_s = ${sql.lit(ROLLUP_LEVELS[segment.level])} AND bucket_start >= ${iso(segment.startMs)} AND bucket_start < ${iso(segment.endMs)}`;
    const runsWithin = (segment: Segment) => sql`started_at >= ${iso(segment.startMs)} AND started_at < ${iso(segment.endMs)}`;
    let parts: Array<RawBuilder<unknown>>;
    if (this.db.kind === 'postgres') {
      // One scan of the roll-ups for all the range's whole minutes, hours and days, and one of the runs for
      // its partial minutes (each an OR of its segments): PostgreSQL plans every statement again (its
      // parameters change with the clock), and planning a subquery per segment cost more than reading them
      // (7-day timeline at 1,000,000 runs: 9–16 ms of planning for 9–18 ms of execution, under load).
      // Neighbouring segments of one level are one term. Not on SQLite: it plans in microseconds, and took
      // a term shared by every side of an OR (two minute segments: bucket_s = 60) for the whole condition,
      // scanning every minute roll-up of the history (a zoomed hour at 10,000,000 runs: 178 ms instead of 30).
      const merged: Segment[] = [];
      for (const segment of segments) {
        const previous = merged[merged.length - 1];
        if (previous && previous.level === segment.level && previous.endMs === segment.startMs) previous.endMs = segment.endMs;
        else merged.push({ ...segment });
      }
      const rollups = merged.filter((segment) => segment.level >= 0);
      const runs = merged.filter((segment) => segment.level < 0);
      parts = [];
      if (rollups.length > 0) parts.push(rollupPart(sql.join(rollups.map((segment) => sql`(${rollupWithin(segment)})`), sql` OR `)));
      if (runs.length > 0) parts.push(runsPart(sql.join(runs.map((segment) => sql`(${runsWithin(segment)})`), sql` OR `)));
    } else {
      parts = segments.map((segment) => (segment.level < 0 ? runsPart(runsWithin(segment)) : rollupPart(rollupWithin(segment))));
    }
    if (parts.length === 0) return undefined;
    // The segments' rows are merged in SQL (a bucket may take rows from several segments): fewer rows to
    // carry and shape.
    return sql`SELECT * FROM (SELECT ${sql.lit(tag)} AS range_index, bucket, cron_name, status, duration_class, sum(runs) AS runs, max(max_ms) AS max_ms
      FROM (${sql.join(parts, sql` UNION ALL `)}) segments
      GROUP BY 2, 3, 4, 5
      HAVING sum(runs) > 0) ${sql.raw(`range_${tag}`)}`;
  }
}
