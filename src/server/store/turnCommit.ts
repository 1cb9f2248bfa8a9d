// The run path's writes of one turn of the event loop (starts, ends, pids, audit rows) committed together on
// SQLite (group commit). Each
// commit writes the pages its statements touched to the WAL, one system call a page: a run's start and end
// touch ~26 pages, most of them shared with the other runs of the moment (the roll-ups' buckets, the change
// feed, the hour's revision, the indexes' last pages). Under 50 concurrent triggers several starts and ends
// arrive in one turn; one transaction for them writes each shared page once, and the change feed is read
// once after it. A caller's promise settles only after the COMMIT, so nothing is acknowledged before it is
// durable (a kill -9 loses nothing acknowledged), and the change feed still announces the writes in the
// order they were made. PostgreSQL runs each write on its own (a failed statement there aborts the whole
// transaction, and its connections commit in parallel anyway).
import type { Db, Query } from './db';
import { isUniqueViolation } from './db';

interface Pending {
  work(q: Query): Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

const perStore = new WeakMap<Db, TurnCommit>();

/** The store's one TurnCommit: every writer that joins the turn's transaction shares it. */
export function turnCommitOf(db: Db): TurnCommit {
  let turn = perStore.get(db);
  if (!turn) {
    turn = new TurnCommit(db);
    perStore.set(db, turn);
  }
  return turn;
}

export class TurnCommit {
  private pending: Pending[] = [];

  constructor(private readonly db: Db) {}

  /** Runs `work` (its statements only: no awaiting anything but them) in the turn's transaction. */
  run<T>(work: (q: Query) => Promise<T>): Promise<T> {
    if (this.db.kind !== 'sqlite') return work(this.db.q);
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.pending.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 1) return this.alone(batch[0]);
    let outcomes: Outcome[];
    try {
      outcomes = await this.db.transaction(async (tx) => {
        const done: Outcome[] = [];
        for (const item of batch) {
          try {
            done.push({ ok: true, value: await item.work(tx) });
          } catch (error) {
            // SQLite undoes only the statement that broke a unique index (a cron already running): that
            // write's caller hears it, the others go on. Any other error may have ended the transaction.
            if (!isUniqueViolation(error)) throw error;
            done.push({ ok: false, error });
          }
        }
        return done;
      });
    } catch {
      // Nothing of the batch was committed: each write is made again on its own, and hears its own error.
      for (const item of batch) await this.alone(item);
      return;
    }
    batch.forEach((item, index) => {
      const outcome = outcomes[index];
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }

  private async alone(item: Pending): Promise<void> {
    try {
      item.resolve(await item.work(this.db.q));
    } catch (error) {
      item.reject(error);
    }
  }
}
