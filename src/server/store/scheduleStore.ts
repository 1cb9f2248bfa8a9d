// Queries on cron_state (paused schedules) and schedule_ticks (each tick claimed once across instances).
import type { Db } from './db';

export class ScheduleStore {
  constructor(private readonly db: Db) {}

  async pausedCrons(): Promise<Set<string>> {
    const rows = await this.db.query<{ cron_name: string }>('SELECT cron_name FROM cron_state WHERE paused');
    return new Set(rows.map((row) => row.cron_name));
  }

  async setPaused(cronName: string, paused: boolean, by: string): Promise<void> {
    await this.db.query(
      `INSERT INTO cron_state (cron_name, paused, changed_at, changed_by) VALUES ($1, $2, now(), $3)
       ON CONFLICT (cron_name) DO UPDATE SET paused = EXCLUDED.paused, changed_at = now(), changed_by = EXCLUDED.changed_by`,
      [cronName, paused, by],
    );
    await this.db.query('SELECT pg_notify($1, $2)', ['cron_ops_crons', JSON.stringify({ cronNames: [cronName] })]);
  }

  /** True for the one caller (of any instance) that claims this tick. */
  async claimTick(cronName: string, tickAt: Date, runnerId: string): Promise<boolean> {
    const rows = await this.db.query(
      'INSERT INTO schedule_ticks (cron_name, tick_at, claimed_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING cron_name',
      [cronName, tickAt.toISOString(), runnerId],
    );
    return rows.length > 0;
  }
}
