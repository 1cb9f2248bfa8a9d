// The timeline's datasets, built from the columns the extension sends. No DOM: unit-tested in plain Node.
// One mark per run (x = start, y = duration on a log axis) while runs are few; past `exactLimit` the runs of
// each status that fall in the same cell of `cellPx` pixels become one mark (the latest run, with a count),
// so 100,000 runs draw as at most (width/cellPx) x (height/cellPx) marks per status and look the same.
import { EXECUTION_STATUSES, type ExecutionStatus, type TimelineBucket } from '../shared/api';
import type { TimelineColumns } from '../shared/messages';

/** One mark on the chart: `i` is the run it stands for (an index into the columns), `n` the runs it covers. */
export interface TimelinePoint {
  x: number;
  y: number;
  i: number;
  n: number;
}

export interface TimelineSeries {
  status: ExecutionStatus;
  points: TimelinePoint[];
  /** Runs of this status (marks may be fewer). */
  runs: number;
}

export interface TimelineData {
  /** One series per status, in EXECUTION_STATUSES order. */
  series: TimelineSeries[];
  runs: number;
  marks: number;
  merged: boolean;
  /** Bounds of the log duration axis: round durations around the data. */
  yMin: number;
  yMax: number;
}

export interface PlotArea {
  fromMs: number;
  toMs: number;
  /** The plot's size in CSS pixels (an estimate is fine: it only sizes the merge cells). */
  width: number;
  height: number;
}

export interface BuildOptions {
  /** Up to this many runs (running ones aside), every run gets its own mark. */
  exactLimit: number;
  cellPx: number;
}

export const DEFAULT_BUILD_OPTIONS: BuildOptions = { exactLimit: 3000, cellPx: 5 };

/** The shortest duration plotted: a log axis has no zero, and a run just started has lasted ~0 ms. */
export const MIN_PLOTTED_MS = 10;

const RUNNING = EXECUTION_STATUSES.indexOf('running');

/** Round durations for the log axis: its bounds and its ticks. */
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
export const DURATION_TICKS = [
  10, 20, 50, 100, 200, 500,
  SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 20 * SECOND, 30 * SECOND,
  MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 20 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, 24 * HOUR, 48 * HOUR, 7 * 24 * HOUR,
];

/** Round durations bracketing the data (at least two ticks apart), for the log duration axis. */
export function durationRange(durations: readonly number[]): { yMin: number; yMax: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const duration of durations) {
    const value = Math.max(MIN_PLOTTED_MS, duration);
    if (value < min) min = value;
    if (value > max) max = value;
  }
  if (min === Infinity) return { yMin: 100, yMax: MINUTE };
  const last = DURATION_TICKS.length - 1;
  let low = 0;
  while (low < last && DURATION_TICKS[low + 1] <= min) low++;
  let high = DURATION_TICKS.findIndex((tick) => tick >= max);
  if (high < 0) high = last;
  if (high - low < 2) {
    low = Math.max(0, low - 1);
    high = Math.min(last, Math.max(high, low + 2));
  }
  return { yMin: DURATION_TICKS[low], yMax: DURATION_TICKS[high] };
}

/** The axis ticks between the bounds. */
export function durationTicks(yMin: number, yMax: number): number[] {
  return DURATION_TICKS.filter((tick) => tick >= yMin && tick <= yMax);
}

/** The chart's marks for these runs. */
export function buildTimeline(columns: TimelineColumns, area: PlotArea, options: BuildOptions = DEFAULT_BUILD_OPTIONS): TimelineData {
  const count = columns.ids.length;
  const { yMin, yMax } = durationRange(columns.durationMs);
  const series: TimelineSeries[] = EXECUTION_STATUSES.map((status) => ({ status, points: [], runs: 0 }));
  let settled = 0;
  for (let i = 0; i < count; i++) {
    const status = columns.status[i];
    if (series[status]) series[status].runs++;
    if (status !== RUNNING) settled++;
  }
  const merged = settled > options.exactLimit;
  const cols = Math.max(1, Math.floor(area.width / options.cellPx));
  const rows = Math.max(1, Math.floor(area.height / options.cellPx));
  const span = Math.max(1, area.toMs - area.fromMs);
  const logMin = Math.log10(yMin);
  const logSpan = Math.log10(yMax) - logMin;
  const cells = merged ? EXECUTION_STATUSES.map(() => new Int32Array(cols * rows).fill(-1)) : [];

  for (let i = 0; i < count; i++) {
    const status = columns.status[i];
    const target = series[status];
    if (!target) continue;
    const x = columns.startMs[i];
    const y = Math.max(MIN_PLOTTED_MS, columns.durationMs[i]);
    if (!merged || status === RUNNING) {
      target.points.push({ x, y, i, n: 1 });
      continue;
    }
    const col = Math.min(cols - 1, Math.max(0, Math.floor(((x - area.fromMs) / span) * cols)));
    const row = Math.min(rows - 1, Math.max(0, Math.floor(((Math.log10(y) - logMin) / logSpan) * rows)));
    const cell = row * cols + col;
    const at = cells[status][cell];
    if (at < 0) {
      cells[status][cell] = target.points.length;
      target.points.push({ x, y, i, n: 1 });
    } else {
      const point = target.points[at];
      point.n++;
      // The latest run of the cell stands for it: it is the one an operator most likely wants to open.
      if (x >= point.x) {
        point.x = x;
        point.y = y;
        point.i = i;
      }
    }
  }
  // The chart reads x in order along the axis (binary searches for hover).
  if (merged) for (const { points } of series) points.sort((a, b) => a.x - b.x);
  const marks = series.reduce((sum, { points }) => sum + points.length, 0);
  return { series, runs: count, marks, merged, yMin, yMax };
}

/** Local midnights between from and to: the day ticks of the x axis. */
export function dayTicks(fromMs: number, toMs: number): number[] {
  const ticks: number[] = [];
  const day = new Date(fromMs);
  day.setHours(0, 0, 0, 0);
  if (day.getTime() < fromMs) day.setDate(day.getDate() + 1);
  for (let guard = 0; day.getTime() <= toMs && guard < 400; guard++) {
    ticks.push(day.getTime());
    day.setDate(day.getDate() + 1);
  }
  return ticks;
}

/** Indexes of the `limit` latest runs, newest first. */
export function latestRuns(columns: TimelineColumns, limit: number): number[] {
  const picked: number[] = [];
  const { startMs } = columns;
  for (let i = 0; i < startMs.length; i++) {
    if (picked.length === limit && startMs[i] <= startMs[picked[limit - 1]]) continue;
    let at = picked.length < limit ? picked.length : limit - 1;
    picked[at] = i;
    while (at > 0 && startMs[picked[at - 1]] < startMs[i]) {
      picked[at] = picked[at - 1];
      picked[--at] = i;
    }
  }
  return picked;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/**
 * The x range the default (7-day) timeline opens on: from a little before the first run (or bucket) to the
 * reply's end, so that a first day's runs spread across the chart instead of one pixel column at the right
 * edge; the whole reply when runs cover most of it or there are none.
 */
export function openingRange(startMs: readonly number[], buckets: readonly TimelineBucket[], fromMs: number, toMs: number): { min: number; max: number } {
  let first = Infinity;
  for (const start of startMs) if (start < first) first = start;
  for (const bucket of buckets) first = Math.min(first, Date.parse(bucket.start));
  if (!Number.isFinite(first) || first <= fromMs) return { min: fromMs, max: toMs };
  const span = Math.max(toMs - first, 0);
  const margin = Math.max(span * 0.1, MINUTE_MS);
  const min = Math.max(fromMs, first - margin);
  // Runs over most of the range: show all of it, as before.
  return min - fromMs < (toMs - fromMs) * 0.2 ? { min: fromMs, max: toMs } : { min, max: toMs };
}

const TICK_STEPS = [15_000, 30_000, MINUTE_MS, 2 * MINUTE_MS, 5 * MINUTE_MS, 10 * MINUTE_MS, 15 * MINUTE_MS, 30 * MINUTE_MS, HOUR_MS, 3 * HOUR_MS, 6 * HOUR_MS, 12 * HOUR_MS];

/** Round local times between min and max for the x axis: midnights over two days and more, else hours or minutes. */
export function timeTicks(minMs: number, maxMs: number): number[] {
  const span = maxMs - minMs;
  if (!(span > 0)) return [];
  if (span >= 2 * DAY_MS) return dayTicks(minMs, maxMs);
  const step = TICK_STEPS.find((candidate) => span / candidate <= 8) ?? DAY_MS;
  const ticks: number[] = [];
  // Aligned on the local clock: from local midnight, in steps.
  const midnight = new Date(minMs);
  midnight.setHours(0, 0, 0, 0);
  let at = midnight.getTime() + Math.ceil((minMs - midnight.getTime()) / step) * step;
  for (let guard = 0; at <= maxMs && guard < 100; guard++, at += step) ticks.push(at);
  return ticks;
}

/** One mark per summary bucket: x its middle, y its p95 duration, `i` the bucket's index, `n` its run count. */
export function bucketPoints(buckets: readonly TimelineBucket[]): TimelinePoint[] {
  return buckets
    .map((bucket, i) => ({ x: (Date.parse(bucket.start) + Date.parse(bucket.end)) / 2, y: Math.max(MIN_PLOTTED_MS, bucket.p95DurationMs), i, n: bucket.count }))
    .sort((a, b) => a.x - b.x);
}

/** The duration axis' bounds for runs and buckets together. */
export function durationRangeWith(data: TimelineData, buckets: readonly TimelineBucket[]): { yMin: number; yMax: number } {
  if (buckets.length === 0) return { yMin: data.yMin, yMax: data.yMax };
  const durations: number[] = [];
  for (const series of data.series) for (const point of series.points) durations.push(point.y);
  for (const bucket of buckets) durations.push(bucket.p95DurationMs, bucket.maxDurationMs);
  return durationRange(durations);
}
