// Where deliveries wait and what became of them: an interface the store implements (PostgreSQL or SQLite,
// shared by every instance) and an in-memory version for one process and for tests.
import type { AlertDelivery, AlertMessage } from '../../shared/alerts';

export interface NewDelivery {
  id: string;
  destination: string;
  message: AlertMessage;
  createdAt: Date;
}

/** A claimed delivery: `attempts` already counts the attempt about to be made. */
export interface ClaimedDelivery {
  delivery: AlertDelivery;
  message: AlertMessage;
}

export type AttemptResult =
  | { status: 'sent'; at: Date }
  | { status: 'pending'; at: Date; error: string; nextAttemptAt: Date }
  | { status: 'failed'; at: Date; error: string };

export interface DeliveryStorage {
  /** Adds deliveries due now. */
  add(deliveries: NewDelivery[]): Promise<AlertDelivery[]>;
  /**
   * Takes up to `limit` pending deliveries due at `now` and moves their next attempt to `leaseUntil`, all at
   * once: another instance does not take them, and if this one dies they come due again after the lease.
   */
  claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]>;
  record(id: string, result: AttemptResult): Promise<void>;
  /** When the soonest pending delivery is due, if any. */
  nextDueAt(): Promise<Date | undefined>;
  /** Newest first. */
  recent(limit: number): Promise<AlertDelivery[]>;
  /** The latest delivery of each destination. */
  latestPerDestination(): Promise<Map<string, AlertDelivery>>;
  get(id: string): Promise<AlertDelivery | undefined>;
  /**
   * Records that the alert named `key` was raised; false when it already was (by any instance): a stuck run
   * or a missed tick that several instances notice is announced once.
   */
  claimAlert(key: string, at: Date): Promise<boolean>;
}

interface Row {
  delivery: AlertDelivery;
  message: AlertMessage;
  order: number;
}

/** Deliveries kept in this process: they do not survive a restart (the store's version does). */
export class MemoryDeliveryStorage implements DeliveryStorage {
  private readonly rows = new Map<string, Row>();
  private readonly raised = new Set<string>();
  private order = 0;

  constructor(private readonly keep = 1000) {}

  async add(deliveries: NewDelivery[]): Promise<AlertDelivery[]> {
    const added = deliveries.map((input) => {
      const delivery: AlertDelivery = {
        id: input.id,
        alertId: input.message.id,
        destination: input.destination,
        event: input.message.event,
        cronName: input.message.cronName,
        executionId: input.message.executionId,
        status: 'pending',
        attempts: 0,
        lastError: null,
        createdAt: input.createdAt.toISOString(),
        lastAttemptAt: null,
        nextAttemptAt: input.createdAt.toISOString(),
        sentAt: null,
      };
      this.rows.set(delivery.id, { delivery, message: input.message, order: this.order++ });
      return { ...delivery };
    });
    this.prune();
    return added;
  }

  async claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]> {
    const due = [...this.rows.values()]
      .filter((row) => row.delivery.status === 'pending' && Date.parse(row.delivery.nextAttemptAt!) <= now.getTime())
      .sort((a, b) => Date.parse(a.delivery.nextAttemptAt!) - Date.parse(b.delivery.nextAttemptAt!) || a.order - b.order)
      .slice(0, limit);
    return due.map((row) => {
      row.delivery.attempts++;
      row.delivery.lastAttemptAt = now.toISOString();
      row.delivery.nextAttemptAt = leaseUntil.toISOString();
      return { delivery: { ...row.delivery }, message: row.message };
    });
  }

  async record(id: string, result: AttemptResult): Promise<void> {
    const row = this.rows.get(id);
    if (!row) return;
    const delivery = row.delivery;
    delivery.status = result.status;
    delivery.lastAttemptAt = result.at.toISOString();
    delivery.lastError = result.status === 'sent' ? null : result.error;
    delivery.nextAttemptAt = result.status === 'pending' ? result.nextAttemptAt.toISOString() : null;
    if (result.status === 'sent') delivery.sentAt = result.at.toISOString();
  }

  async nextDueAt(): Promise<Date | undefined> {
    let soonest: number | undefined;
    for (const { delivery } of this.rows.values()) {
      if (delivery.status !== 'pending') continue;
      const at = Date.parse(delivery.nextAttemptAt!);
      if (soonest === undefined || at < soonest) soonest = at;
    }
    return soonest === undefined ? undefined : new Date(soonest);
  }

  async recent(limit: number): Promise<AlertDelivery[]> {
    return [...this.rows.values()].sort((a, b) => b.order - a.order).slice(0, limit).map((row) => ({ ...row.delivery }));
  }

  async latestPerDestination(): Promise<Map<string, AlertDelivery>> {
    const latest = new Map<string, AlertDelivery>();
    for (const row of [...this.rows.values()].sort((a, b) => a.order - b.order)) latest.set(row.delivery.destination, { ...row.delivery });
    return latest;
  }

  async get(id: string): Promise<AlertDelivery | undefined> {
    const row = this.rows.get(id);
    return row ? { ...row.delivery } : undefined;
  }

  async claimAlert(key: string): Promise<boolean> {
    if (this.raised.has(key)) return false;
    this.raised.add(key);
    return true;
  }

  /** Forgets the oldest finished deliveries past `keep`. */
  private prune(): void {
    if (this.rows.size <= this.keep) return;
    for (const row of [...this.rows.values()].sort((a, b) => a.order - b.order)) {
      if (this.rows.size <= this.keep) break;
      if (row.delivery.status !== 'pending') this.rows.delete(row.delivery.id);
    }
  }
}
