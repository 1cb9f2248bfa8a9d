// Reads run counts over any time range from the roll-ups: the range is cut into whole days, hours and
// minutes (each read from its own roll-up) and the partial minutes at its edges (read from the runs
// themselves), so the cost follows the range's length, never the number of runs in it.
import { sql } from 'kysely';
import type { ExecutionStatus } from '../../shared/api';
import type { Db, Query } from './db';
import { epochMs } from './dialect';
import { DURATION_CLASS_BOUNDS, LAST_DURATION_CLASS, ROLLUP_LEVELS } from './rollups';

export interface RangeFilter {
  cronName?: string;
  status?: ExecutionStatus;
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
   * Runs started in [from, to) (read through `q`, a snapshot for several calls to agree) grouped by bucket of `widthMs` (aligned on the epoch; 0: one bucket for
   * the whole range, without duration classes), cron, status and duration class.
   */
  async groups(q: Query, fromMs: number, toMs: number, widthMs: number, filter: RangeFilter): Promise<Group[]> {
    // A roll-up bucket must fall inside one of the caller's buckets.
    let maxLevel = ROLLUP_LEVELS.length - 1;
    if (widthMs > 0) while (maxLevel >= 0 && widthMs % (ROLLUP_LEVELS[maxLevel] * 1000) !== 0) maxLevel--;
    const merged = new Map<string, Group>();
    const add = (group: Group) => {
      const key = `${group.bucketStartMs}|${group.cronName}|${group.status}|${group.durationClass}`;
      const known = merged.get(key);
      if (known) {
        known.runs += group.runs;
        known.maxDurationMs = Math.max(known.maxDurationMs, group.maxDurationMs);
      } else merged.set(key, group);
    };
    const bucketOf = (ms: number) => (widthMs > 0 ? floorTo(ms, widthMs) : fromMs);
    for (const segment of segmentsOf(fromMs, toMs, maxLevel)) {
      const from = new Date(segment.startMs).toISOString();
      const to = new Date(segment.endMs).toISOString();
      if (segment.level < 0) {
        let query = q
          .selectFrom('cron_executions')
          .select(['started_at', 'cron_name', 'status', 'duration_ms'])
          .where('started_at', '>=', from)
          .where('started_at', '<', to);
        if (filter.cronName) query = query.where('cron_name', '=', filter.cronName);
        if (filter.status) query = query.where('status', '=', filter.status);
        for (const row of await query.execute()) {
          const durationClass = widthMs > 0 ? durationClassOf(row.duration_ms) : NO_CLASS;
          add({ bucketStartMs: bucketOf(epochMs(row.started_at)), cronName: row.cron_name, status: row.status, durationClass, runs: 1, maxDurationMs: row.duration_ms ?? 0 });
        }
        continue;
      }
      // One bucket for the whole range: counts per cron and status, summed by the store (no classes).
      if (widthMs <= 0) {
        let totals = q
          .selectFrom('cron_execution_rollups')
          .select((eb) => ['cron_name', 'status', eb.fn.sum<number | string>('runs').as('runs'), eb.fn.max('max_duration_ms').as('max_ms')])
          .where('bucket_s', '=', ROLLUP_LEVELS[segment.level])
          .where('bucket_start', '>=', from)
          .where('bucket_start', '<', to);
        if (filter.cronName) totals = totals.where('cron_name', '=', filter.cronName);
        if (filter.status) totals = totals.where('status', '=', filter.status);
        for (const row of await totals.groupBy(['cron_name', 'status']).execute()) {
          add({ bucketStartMs: fromMs, cronName: row.cron_name, status: row.status, durationClass: NO_CLASS, runs: Number(row.runs), maxDurationMs: Number(row.max_ms) });
        }
        continue;
      }
      const bucket =
        this.db.kind === 'postgres'
          ? sql<number>`(floor(extract(epoch from bucket_start) * 1000 / ${sql.lit(widthMs)}) * ${sql.lit(widthMs)})::float8`
          : sql<number>`(unixepoch(bucket_start) * 1000 / ${sql.lit(widthMs)}) * ${sql.lit(widthMs)}`;
      let query = q
        .selectFrom('cron_execution_rollups')
        .select((eb) => [
          bucket.as('bucket'),
          'cron_name',
          'status',
          'duration_class',
          eb.fn.sum<number | string>('runs').as('runs'),
          eb.fn.max('max_duration_ms').as('max_ms'),
        ])
        .where('bucket_s', '=', ROLLUP_LEVELS[segment.level])
        .where('bucket_start', '>=', from)
        .where('bucket_start', '<', to);
      if (filter.cronName) query = query.where('cron_name', '=', filter.cronName);
      if (filter.status) query = query.where('status', '=', filter.status);
      const rows = await query.groupBy([sql`1`, 'cron_name', 'status', 'duration_class']).execute();
      for (const row of rows) {
        add({
          bucketStartMs: Number(row.bucket),
          cronName: row.cron_name,
          status: row.status,
          durationClass: row.duration_class,
          runs: Number(row.runs),
          maxDurationMs: Number(row.max_ms),
        });
      }
    }
    return [...merged.values()].filter((group) => group.runs > 0);
  }
}
