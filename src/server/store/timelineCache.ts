// What the timeline shaped or read, kept between reads. A 7-day view is ~80 buckets of 2 hours per cron and
// status, and all but the one at each edge hold the same runs from one read to the next; the failed,
// cancelled and running runs it lists one by one are the same too, but for the current hour. Each is kept
// with the revisions of its hours (cron_rollup_revisions, moved by the triggers with every change to a run
// of that hour, whoever writes it) and reused while they are unchanged. So a read costs the edges, the
// hours that changed and the current one, not the whole range again.
/** The statuses a timeline summarises in buckets (running runs are always listed one by one). */
export type BucketStatus = 'completed' | 'failed' | 'cancelled';

const HOUR_MS = 3_600_000;

/** The revision of each hour (epoch ms → revision); the epoch itself is the whole history's revision. */
export type Revisions = Map<number, number>;

/** What the entries of [startMs, startMs + widthMs) were read from: the revisions of its hours. */
export function stampOf(revisions: Revisions, startMs: number, widthMs: number): string {
  const parts = [revisions.get(0) ?? 0];
  for (let hour = Math.floor(startMs / HOUR_MS) * HOUR_MS; hour < startMs + widthMs; hour += HOUR_MS) parts.push(revisions.get(hour) ?? 0);
  return parts.join(',');
}

/** The cache's key of one grid bucket of one status under one filter. */
export function bucketKey(widthMs: number, startMs: number, status: BucketStatus, cronName: string | undefined): string {
  return `${widthMs}|${startMs}|${status}|${cronName ?? ''}`;
}

interface Entry<Value> {
  stamp: string;
  value: Value;
  size: number;
}

/**
 * Least recently used first out, bounded by the items its values hold (`sizeOf`: buckets, runs). The values
 * it hands out are shared: never changed.
 */
export class TimelineCache<Value> {
  private readonly entries = new Map<string, Entry<Value>>();
  private held = 0;

  constructor(
    private readonly maxItems: number,
    private readonly sizeOf: (value: Value) => number,
  ) {}

  get(key: string, stamp: string): Value | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.stamp !== stamp) {
      this.remove(key, entry);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, stamp: string, value: Value): void {
    const known = this.entries.get(key);
    if (known) this.remove(key, known);
    const size = this.sizeOf(value) + 1;
    this.entries.set(key, { stamp, value, size });
    this.held += size;
    for (const [oldKey, oldEntry] of this.entries) {
      if (this.held <= this.maxItems) break;
      this.remove(oldKey, oldEntry);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private remove(key: string, entry: Entry<Value>): void {
    this.entries.delete(key);
    this.held -= entry.size;
  }
}
