// What the roll-up triggers key on, shared by both dialects' migrations and the readers: the bucket widths
// kept, and the duration classes from which a p95 is read without the runs themselves.

/** Bucket widths kept (seconds): a minute, an hour, a day. */
export const ROLLUP_LEVELS = [60, 3600, 86_400] as const;

/**
 * Upper bounds (ms, inclusive) of the duration classes: a geometric series of ratio 1.25 from 1 ms to a
 * week, so a p95 read from the classes is at most 25 % above the true one (and never above the max).
 */
export const DURATION_CLASS_BOUNDS: readonly number[] = (() => {
  const bounds: number[] = [];
  for (let bound = 1; bound < 7 * 86_400_000; bound *= 1.25) {
    const rounded = Math.round(bound);
    if (bounds[bounds.length - 1] !== rounded) bounds.push(rounded);
  }
  return bounds;
})();

/** The class above every bound. */
export const LAST_DURATION_CLASS = DURATION_CLASS_BOUNDS.length;

/** Rows of the classes table, as SQL VALUES. */
export function durationClassValues(): string {
  return DURATION_CLASS_BOUNDS.map((bound, index) => `(${index}, ${bound})`).join(', ');
}

/** The class of a duration expression, in SQL both dialects read (-1 while running, i.e. no duration). */
export function durationClassSql(duration: string): string {
  return `CASE WHEN ${duration} IS NULL THEN -1 ELSE COALESCE((SELECT min(duration_class) FROM cron_duration_classes WHERE upper_ms >= ${duration}), ${LAST_DURATION_CLASS}) END`;
}

/** Runs per duration class of one group. */
export interface ClassCount {
  durationClass: number;
  runs: number;
}

/** The p95 of a group from its class counts: the upper bound of the class holding the 95th percentile. */
export function p95FromClasses(classes: ClassCount[], maxDurationMs: number): number {
  const total = classes.reduce((sum, entry) => sum + entry.runs, 0);
  if (total === 0) return 0;
  const rank = Math.ceil(total * 0.95);
  let seen = 0;
  for (const entry of [...classes].sort((a, b) => a.durationClass - b.durationClass)) {
    seen += entry.runs;
    if (seen >= rank) {
      const bound = entry.durationClass < 0 ? 0 : (DURATION_CLASS_BOUNDS[entry.durationClass] ?? maxDurationMs);
      return Math.min(bound, maxDurationMs);
    }
  }
  return maxDurationMs;
}
