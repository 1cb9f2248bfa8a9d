// Queries on runners: each instance's heartbeat, so a trigger of a pinned cron goes to a live runner.
import { now, type Db } from './db';
import { ago, epochMs } from './dialect';

/** A runner not seen for this long is taken as dead. */
export const RUNNER_ALIVE_SECONDS = 30;

export class RunnerStore {
  constructor(private readonly db: Db) {}

  async heartbeat(runnerId: string, host: string, version: string, starting = false): Promise<void> {
    const at = now(this.db);
    await this.db.q
      .insertInto('runners')
      .values({ runner_id: runnerId, host, version, started_at: at, last_seen_at: at })
      .onConflict((conflict) =>
        conflict.column('runner_id').doUpdateSet((eb) => ({
          host: eb.ref('excluded.host'),
          version: eb.ref('excluded.version'),
          last_seen_at: eb.ref('excluded.last_seen_at'),
          ...(starting ? { started_at: eb.ref('excluded.started_at') } : {}),
        })),
      )
      .execute();
  }

  /** Who last held a runner id: its host, when and how long ago it was seen (its last heartbeat). */
  async holder(runnerId: string): Promise<{ host: string; seenSecondsAgo: number; lastSeenAt: Date } | undefined> {
    const row = await this.db.q.selectFrom('runners').select(['host', 'last_seen_at']).where('runner_id', '=', runnerId).executeTakeFirst();
    return row ? { host: row.host, seenSecondsAgo: (Date.now() - epochMs(row.last_seen_at)) / 1000, lastSeenAt: new Date(epochMs(row.last_seen_at)) } : undefined;
  }

  /** Whether a runner other than `runnerId` is alive now. */
  async othersAlive(runnerId: string): Promise<boolean> {
    const row = await this.db.q.selectFrom('runners').select('runner_id').where('runner_id', '!=', runnerId).where('last_seen_at', '>', ago(this.db, RUNNER_ALIVE_SECONDS)).executeTakeFirst();
    return row !== undefined;
  }

  /** Of `candidates`, the runners alive now. */
  async alive(candidates: string[]): Promise<string[]> {
    if (candidates.length === 0) return [];
    const rows = await this.db.q
      .selectFrom('runners')
      .select('runner_id')
      .where('runner_id', 'in', candidates)
      .where('last_seen_at', '>', ago(this.db, RUNNER_ALIVE_SECONDS))
      .execute();
    return rows.map((row) => row.runner_id);
  }
}
