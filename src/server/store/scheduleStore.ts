// Queries on cron_state (paused schedules) and schedule_ticks (each tick claimed once across instances).
import { sql } from 'kysely';
import { now, type Db, type Query } from './db';

export class ScheduleStore {
  constructor(private readonly db: Db) {}

  async pausedCrons(): Promise<Set<string>> {
    const rows = await this.db.q.selectFrom('cron_state').select('cron_name').where('paused', '=', true).execute();
    return new Set(rows.map((row) => row.cron_name));
  }

  async setPaused(cronName: string, paused: boolean, by: string): Promise<void> {
    const at = now(this.db);
    await this.db.q
      .insertInto('cron_state')
      .values({ cron_name: cronName, paused, changed_at: at, changed_by: by })
      .onConflict((conflict) =>
        conflict.column('cron_name').doUpdateSet((eb) => ({ paused: eb.ref('excluded.paused'), changed_at: eb.ref('excluded.changed_at'), changed_by: eb.ref('excluded.changed_by') })),
      )
      .execute();
    // SQLite's trigger on cron_state records the change itself.
    if (this.db.kind === 'postgres') await sql`SELECT pg_notify(${'cron_ops_crons'}, ${JSON.stringify({ cronNames: [cronName] })})`.execute(this.db.q);
  }

  /** True for the one caller (of any instance) that claims this tick; `q`: inside a transaction of the caller. */
  async claimTick(cronName: string, tickAt: Date, runnerId: string, q: Query = this.db.q): Promise<boolean> {
    const rows = await q
      .insertInto('schedule_ticks')
      .values({ cron_name: cronName, tick_at: tickAt.toISOString(), claimed_by: runnerId })
      .onConflict((conflict) => conflict.doNothing())
      .returning('cron_name')
      .execute();
    return rows.length > 0;
  }
}
