// Queries on skipped_ticks: scheduled ticks that started no run (the cron was running or paused, or no
// server was up), kept beside the executions rather than as fake ones, so runs, KPIs and the guide's SQL
// on cron_executions stay true. One row per (cron, tick): instances that see the same tick record it once.
// The retention prunes them with the runs (ExecutionStore.applyRetention).
import type { SkippedTick, SkipReason, TimelineSkip } from '../../shared/api';
import { TIMELINE_MAX_SKIPPED } from '../../shared/api';
import type { Db, Query } from './db';
import { isoOf } from './dialect';

export interface NewSkippedTick {
  cronName: string;
  tickAt: Date;
  reason: SkipReason;
  runnerId: string;
  runningExecutionId?: string | null;
}

export class SkippedTickStore {
  constructor(private readonly db: Db) {}

  /** Records a skipped tick; false when that tick of that cron was already recorded (by any instance). */
  async record(tick: NewSkippedTick, q: Query = this.db.q): Promise<boolean> {
    const rows = await q
      .insertInto('skipped_ticks')
      .values({
        cron_name: tick.cronName,
        tick_at: tick.tickAt.toISOString(),
        reason: tick.reason,
        runner_id: tick.runnerId,
        running_execution_id: tick.runningExecutionId ?? null,
      })
      .onConflict((conflict) => conflict.doNothing())
      .returning('cron_name')
      .execute();
    return rows.length > 0;
  }

  /**
   * Ticks missed while no server was up: each is claimed in schedule_ticks (the key every instance claims a
   * tick by, so no instance runs it late and two starting instances share the work) and the ones this
   * instance claimed are recorded as server-down. Resolves with those, oldest first.
   */
  async recordMissed(cronName: string, ticks: readonly Date[], runnerId: string): Promise<Date[]> {
    if (ticks.length === 0) return [];
    return this.db.transaction(async (tx) => {
      const claimed = await tx
        .insertInto('schedule_ticks')
        .values(ticks.map((tick) => ({ cron_name: cronName, tick_at: tick.toISOString(), claimed_by: runnerId })))
        .onConflict((conflict) => conflict.doNothing())
        .returning('tick_at')
        .execute();
      const mine = claimed.map((row) => new Date(isoOf(row.tick_at))).sort((a, b) => a.getTime() - b.getTime());
      if (mine.length > 0) {
        await tx
          .insertInto('skipped_ticks')
          .values(mine.map((tick) => ({ cron_name: cronName, tick_at: tick.toISOString(), reason: 'server-down' as const, runner_id: runnerId, running_execution_id: null })))
          .onConflict((conflict) => conflict.doNothing())
          .execute();
      }
      return mine;
    });
  }

  /** The latest tick of the cron the store knows of (claimed to run, or skipped); null if none. */
  async lastKnownTick(cronName: string): Promise<Date | null> {
    const [claimed, skipped] = await Promise.all([
      this.db.q.selectFrom('schedule_ticks').select((eb) => eb.fn.max('tick_at').as('at')).where('cron_name', '=', cronName).executeTakeFirst(),
      this.db.q.selectFrom('skipped_ticks').select((eb) => eb.fn.max('tick_at').as('at')).where('cron_name', '=', cronName).executeTakeFirst(),
    ]);
    const times = [claimed?.at, skipped?.at].filter((at): at is Date | string => at !== null && at !== undefined).map((at) => Date.parse(isoOf(at)));
    return times.length > 0 ? new Date(Math.max(...times)) : null;
  }

  /**
   * When the server was last known up for the cron before `before` (the first tick of a downtime): its
   * latest run started, tick claimed by a scheduler, or tick skipped as running or paused, strictly before
   * it; null if none. Ticks recorded as missed (server-down) are not proof of anything, so every instance
   * that records ticks of the same downtime, whichever of them and from whatever start instant, reads the
   * same time: the key the downtime's one catch-up run is claimed by (downtimeTicks.ts).
   */
  async lastUpBefore(cronName: string, before: Date): Promise<Date | null> {
    const at = before.toISOString();
    const [claimed, seen, ran] = await Promise.all([
      this.db.q
        .selectFrom('schedule_ticks as claim')
        .select('claim.tick_at as at')
        .where('claim.cron_name', '=', cronName)
        .where('claim.tick_at', '<', at)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('skipped_ticks as missed')
                .select('missed.tick_at')
                .whereRef('missed.cron_name', '=', 'claim.cron_name')
                .whereRef('missed.tick_at', '=', 'claim.tick_at')
                .where('missed.reason', '=', 'server-down'),
            ),
          ),
        )
        .orderBy('claim.tick_at', 'desc')
        .limit(1)
        .executeTakeFirst(),
      this.db.q
        .selectFrom('skipped_ticks')
        .select('tick_at as at')
        .where('cron_name', '=', cronName)
        .where('tick_at', '<', at)
        .where('reason', '!=', 'server-down')
        .orderBy('tick_at', 'desc')
        .limit(1)
        .executeTakeFirst(),
      this.db.q.selectFrom('cron_executions').select('started_at as at').where('cron_name', '=', cronName).where('started_at', '<', at).orderBy('started_at', 'desc').limit(1).executeTakeFirst(),
    ]);
    const times = [claimed?.at, seen?.at, ran?.at].filter((time): time is Date | string => time !== null && time !== undefined).map((time) => Date.parse(isoOf(time)));
    return times.length > 0 ? new Date(Math.max(...times)) : null;
  }

  /** A cron's skipped ticks, newest first; `before` (a tickAt) pages on. */
  async list(cronName: string, limit: number, before?: string): Promise<{ skippedTicks: SkippedTick[]; nextCursor: string | null }> {
    let select = this.db.q
      .selectFrom('skipped_ticks')
      .select(['cron_name', 'tick_at', 'reason', 'runner_id', 'running_execution_id', 'recorded_at'])
      .where('cron_name', '=', cronName);
    if (before) select = select.where('tick_at', '<', isoOf(before));
    const rows = await select.orderBy('tick_at', 'desc').limit(limit + 1).execute();
    const page: SkippedTick[] = rows.slice(0, limit).map((row) => ({
      cronName: row.cron_name,
      tickAt: isoOf(row.tick_at),
      reason: row.reason,
      runnerId: row.runner_id,
      runningExecutionId: row.running_execution_id,
      recordedAt: isoOf(row.recorded_at),
    }));
    return { skippedTicks: page, nextCursor: rows.length > limit ? page[page.length - 1].tickAt : null };
  }

  /** Skipped ticks per cron since `sinceMs` (crons without any are absent). */
  async countsSince(sinceMs: number): Promise<Map<string, number>> {
    const rows = await this.db.q
      .selectFrom('skipped_ticks')
      .select((eb) => ['cron_name', eb.fn.countAll<number | string>().as('n')])
      .where('tick_at', '>=', new Date(sinceMs).toISOString())
      .groupBy('cron_name')
      .execute();
    return new Map(rows.map((row) => [row.cron_name, Number(row.n)]));
  }

  /** The skipped ticks of [from, to) for the timeline: the newest TIMELINE_MAX_SKIPPED, and how many in all. */
  async inRange(fromMs: number, toMs: number, cronName?: string): Promise<{ skipped: TimelineSkip[]; total: number }> {
    let range = this.db.q.selectFrom('skipped_ticks').where('tick_at', '>=', new Date(fromMs).toISOString()).where('tick_at', '<', new Date(toMs).toISOString());
    if (cronName) range = range.where('cron_name', '=', cronName);
    const rows = await range.select(['cron_name', 'tick_at', 'reason']).orderBy('tick_at', 'desc').limit(TIMELINE_MAX_SKIPPED).execute();
    const skipped = rows.map((row) => ({ cronName: row.cron_name, tickAt: isoOf(row.tick_at), reason: row.reason }));
    if (rows.length < TIMELINE_MAX_SKIPPED) return { skipped, total: rows.length };
    const count = await range.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    return { skipped, total: Number(count.n) };
  }
}
