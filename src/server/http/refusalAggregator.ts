// Refusals of unauthenticated callers are counted, not written one by one: one audit row per client
// address and minute, with the count, so a flood of bad requests cannot fill the audit trail.
import type { AuditRecord } from '../store/auditStore';

interface Bucket {
  minute: number;
  clientAddress: string;
  count: number;
  status: number;
  /** The first refusal's reason and target, as an example of what was refused. */
  reason: string;
  target: string | null;
  method: string;
}

/** Distinct addresses kept per minute; past it, the rest are counted under one "(other addresses)" row. */
const MAX_BUCKETS = 1000;
const OTHERS = '(other addresses)';

export class RefusalAggregator {
  private readonly buckets = new Map<string, Bucket>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly write: (record: AuditRecord) => Promise<void>,
    private readonly now: () => number = Date.now,
    checkEveryMs = 5_000,
  ) {
    this.timer = setInterval(() => void this.flush(false), checkEveryMs);
    this.timer.unref();
  }

  count(refusal: { clientAddress: string; status: number; reason: string; target: string | null; method: string }): void {
    const minute = Math.floor(this.now() / 60_000);
    let address = refusal.clientAddress;
    if (!this.buckets.has(`${minute} ${address}`) && this.buckets.size >= MAX_BUCKETS) address = OTHERS;
    const key = `${minute} ${address}`;
    const bucket = this.buckets.get(key);
    if (bucket) bucket.count++;
    else this.buckets.set(key, { minute, clientAddress: address, count: 1, status: refusal.status, reason: refusal.reason, target: refusal.target, method: refusal.method });
  }

  /** Writes the rows of the minutes that have ended, or every row when `all` (reading the trail, stopping). */
  async flush(all: boolean): Promise<void> {
    const current = Math.floor(this.now() / 60_000);
    const due = [...this.buckets.entries()].filter(([, bucket]) => all || bucket.minute < current);
    for (const [key] of due) this.buckets.delete(key);
    for (const [, bucket] of due) {
      await this.write({
        actor: 'anonymous',
        role: null,
        action: 'auth.refused',
        target: bucket.target,
        clientAddress: bucket.clientAddress,
        details: {
          status: bucket.status,
          count: bucket.count,
          minute: new Date(bucket.minute * 60_000).toISOString(),
          reason: bucket.reason,
          method: bucket.method,
        },
      });
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush(true);
  }
}
