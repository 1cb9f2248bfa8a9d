// Queries on runners: each instance's heartbeat, so a trigger of a pinned cron goes to a live runner.
import type { Db } from './db';

/** A runner not seen for this long is taken as dead. */
export const RUNNER_ALIVE_SECONDS = 30;

export class RunnerStore {
  constructor(private readonly db: Db) {}

  async heartbeat(runnerId: string, host: string, version: string, starting = false): Promise<void> {
    await this.db.query(
      `INSERT INTO runners (runner_id, host, version) VALUES ($1, $2, $3)
       ON CONFLICT (runner_id) DO UPDATE SET host = EXCLUDED.host, version = EXCLUDED.version, last_seen_at = now()
         ${starting ? ', started_at = now()' : ''}`,
      [runnerId, host, version],
    );
  }

  /** Who last held a runner id: its host and how long ago it was seen. */
  async holder(runnerId: string): Promise<{ host: string; seenSecondsAgo: number } | undefined> {
    const rows = await this.db.query<{ host: string; seen_s: number }>(
      `SELECT host, EXTRACT(EPOCH FROM (now() - last_seen_at))::float8 AS seen_s FROM runners WHERE runner_id = $1`,
      [runnerId],
    );
    return rows[0] ? { host: rows[0].host, seenSecondsAgo: rows[0].seen_s } : undefined;
  }

  /** Of `candidates`, the runners alive now. */
  async alive(candidates: string[]): Promise<string[]> {
    const rows = await this.db.query<{ runner_id: string }>(
      `SELECT runner_id FROM runners WHERE runner_id = ANY($1::text[]) AND last_seen_at > now() - make_interval(secs => $2)`,
      [candidates, RUNNER_ALIVE_SECONDS],
    );
    return rows.map((row) => row.runner_id);
  }
}
