// The timeline's shaped buckets, kept between reads. A 7-day view is ~80 buckets of 2 hours per cron and
// status, and all but the one at each edge hold the same runs from one read to the next: each is kept
// with the revisions of its hours (cron_rollup_revisions, moved by the triggers with every change to a
// run of that hour, whoever writes it) and reused while they are unchanged. So a read costs the edges,
// the hours that changed and the single runs, not the whole range again.
import type { TimelineBucket } from '../../shared/api';

/** The statuses a timeline summarises in buckets (running runs are always listed one by one). */
export type BucketStatus = 'completed' | 'failed' | 'cancelled';

const HOUR_MS = 3_600_000;

/** Buckets held at most (each ~200 bytes): a 7-day view of 100 crons holds ~25,000. */
const MAX_BUCKETS = 40_000;

/** The revision of each hour (epoch ms → revision); the epoch itself is the whole history's revision. */
export type Revisions = Map<number, number>;

/** What the buckets of [startMs, startMs + widthMs) were shaped from: the revisions of its hours. */
export function stampOf(revisions: Revisions, startMs: number, widthMs: number): string {
  const parts = [revisions.get(0) ?? 0];
  for (let hour = Math.floor(startMs / HOUR_MS) * HOUR_MS; hour < startMs + widthMs; hour += HOUR_MS) parts.push(revisions.get(hour) ?? 0);
  return parts.join(',');
}

/** The cache's key of one grid bucket of one status under one filter. */
export function bucketKey(widthMs: number, startMs: number, status: BucketStatus, cronName: string | undefined): string {
  return `${widthMs}|${startMs}|${status}|${cronName ?? ''}`;
}

interface Entry {
  stamp: string;
  buckets: TimelineBucket[];
}

/** Least recently used first out, bounded by the buckets it holds. The buckets it hands out are shared: never changed. */
export class TimelineBucketCache {
  private readonly entries = new Map<string, Entry>();
  private held = 0;

  constructor(private readonly maxBuckets = MAX_BUCKETS) {}

  get(key: string, stamp: string): TimelineBucket[] | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.stamp !== stamp) {
      this.remove(key, entry);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.buckets;
  }

  set(key: string, stamp: string, buckets: TimelineBucket[]): void {
    const known = this.entries.get(key);
    if (known) this.remove(key, known);
    this.entries.set(key, { stamp, buckets });
    this.held += buckets.length + 1;
    for (const [oldKey, oldEntry] of this.entries) {
      if (this.held <= this.maxBuckets) break;
      this.remove(oldKey, oldEntry);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.held -= entry.buckets.length + 1;
  }
}
