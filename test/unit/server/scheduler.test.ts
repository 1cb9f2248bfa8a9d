// The scheduler against a fake clock: daylight-saving days in two zones, host clock jumps, pause.
import { strict as assert } from 'node:assert';
import type { CronDefinition } from '../../../src/server/config';
import { createLogger } from '../../../src/server/logger';
import { MAX_SLEEP_MS, Scheduler, type Clock } from '../../../src/server/scheduler';

/** Timers run on a monotonic time, as Node's do; `now()` is the wall clock, which `jump` moves. */
class FakeClock implements Clock {
  private monotonic = 0;
  private offset: number;
  private timers: Array<{ at: number; callback: () => void; id: number }> = [];
  private nextId = 1;

  constructor(start: string) {
    this.offset = Date.parse(start);
  }

  now(): number {
    return this.monotonic + this.offset;
  }

  setTimer(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.monotonic + Math.max(0, ms), callback, id });
    return id;
  }

  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  }

  /** Lets `ms` pass, running the timers in order. */
  advance(ms: number): void {
    const end = this.monotonic + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const timer = this.timers[0];
      if (!timer || timer.at > end) break;
      this.timers.shift();
      this.monotonic = timer.at;
      timer.callback();
    }
    this.monotonic = end;
  }

  /** The host's clock is set forward or back; elapsed time is unchanged. */
  jump(ms: number): void {
    this.offset += ms;
  }

  get pendingTimers(): number {
    return this.timers.length;
  }
}

const quiet = createLogger({ write: () => undefined });
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function cron(schedule: string, timezone = 'UTC', name = 'job'): CronDefinition {
  return { name, description: '', schedule, scheduleText: '', timezone, command: ['true'], estimatedDurationMs: 0, timeoutMs: 1000, enabled: true, params: {}, runOn: [], env: {}, inheritEnv: false, leftovers: 'end' };
}

function harness(definition: CronDefinition, start: string) {
  const clock = new FakeClock(start);
  const fired: Array<{ tickAt: string; firedAt: string }> = [];
  const scheduler = new Scheduler([definition], new Set(), async (_cron, tickAt) => void fired.push({ tickAt: tickAt.toISOString(), firedAt: new Date(clock.now()).toISOString() }), quiet, () => true, clock);
  scheduler.start();
  return { clock, fired, scheduler };
}

describe('scheduler (fake clock)', () => {
  it('America/New_York "30 2 * * *" on spring-forward day runs once, right after the change (3:00 EDT)', () => {
    const { clock, fired, scheduler } = harness(cron('30 2 * * *', 'America/New_York'), '2026-03-07T12:00:00Z');
    assert.equal(scheduler.nextRun(cron('30 2 * * *', 'America/New_York'))?.toISOString(), '2026-03-08T07:00:00.000Z', 'shown as it will run');
    clock.advance(3 * DAY);
    assert.deepEqual(
      fired.map((run) => run.tickAt),
      ['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z', '2026-03-10T06:30:00.000Z'],
    );
    assert.deepEqual(fired.map((run) => run.firedAt), fired.map((run) => run.tickAt), 'fired at the instant, not late');
  });

  it('Europe/Berlin "30 2 * * *" on spring-forward day runs once at 3:00 CEST', () => {
    const { clock, fired } = harness(cron('30 2 * * *', 'Europe/Berlin'), '2026-03-28T12:00:00Z');
    clock.advance(2 * DAY);
    assert.deepEqual(fired.map((run) => run.tickAt), ['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
  });

  it('on fall-back day the repeated hour runs once (New York "30 1 * * *", Berlin "30 2 * * *")', () => {
    const newYork = harness(cron('30 1 * * *', 'America/New_York'), '2026-10-31T12:00:00Z');
    newYork.clock.advance(2 * DAY);
    assert.deepEqual(newYork.fired.map((run) => run.tickAt), ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
    const berlin = harness(cron('30 2 * * *', 'Europe/Berlin'), '2026-10-24T12:00:00Z');
    berlin.clock.advance(2 * DAY);
    assert.equal(berlin.fired.filter((run) => run.tickAt.startsWith('2026-10-25')).length, 1, JSON.stringify(berlin.fired));
    assert.equal(berlin.fired.length, 2);
  });

  it('never sleeps longer than a minute between looks at the clock', () => {
    const { clock } = harness(cron('0 0 1 1 *'), '2026-03-07T12:00:00Z');
    assert.equal(clock.pendingTimers, 1);
    clock.advance(MAX_SLEEP_MS);
    assert.equal(clock.pendingTimers, 1, 're-armed');
  });

  it('a host clock set back does not silence an hourly schedule, nor fire a tick twice', () => {
    const { clock, fired } = harness(cron('0 * * * *'), '2026-05-01T10:30:00Z');
    clock.advance(HOUR);
    assert.deepEqual(fired.map((run) => run.tickAt), ['2026-05-01T11:00:00.000Z']);
    clock.jump(-3 * HOUR); // now 08:30
    clock.advance(HOUR);
    assert.deepEqual(fired.map((run) => run.tickAt), ['2026-05-01T11:00:00.000Z'], 'no tick at 09:00: it is before the last one fired');
    clock.advance(3 * HOUR); // until 12:30
    assert.deepEqual(fired.map((run) => run.tickAt), ['2026-05-01T11:00:00.000Z', '2026-05-01T12:00:00.000Z']);
  });

  it('a host clock set back by more than 3 hours is a correction: the schedule follows the new time at once', () => {
    const { clock, fired } = harness(cron('0 * * * *'), '2026-05-02T10:30:00Z');
    clock.advance(HOUR); // fired 11:00, now 11:30
    clock.jump(-DAY); // the clock was a day ahead
    clock.advance(HOUR); // now 12:30 on the 1st
    assert.deepEqual(fired.map((run) => run.tickAt), ['2026-05-02T11:00:00.000Z', '2026-05-01T12:00:00.000Z']);
  });

  it('a host clock set forward fires the missed tick once, within a minute, then goes on', () => {
    const { clock, fired } = harness(cron('0 * * * *'), '2026-05-01T10:30:00Z');
    clock.jump(5 * HOUR); // now 15:30: 11:00 to 15:00 were missed
    clock.advance(MAX_SLEEP_MS);
    assert.equal(fired.length, 1, JSON.stringify(fired));
    assert.equal(fired[0].tickAt, '2026-05-01T11:00:00.000Z');
    clock.advance(HOUR);
    assert.deepEqual(fired.map((run) => run.tickAt).slice(1), ['2026-05-01T16:00:00.000Z']);
  });

  it('a wake-up later than the next tick (a busy or suspended machine) names the ticks it passes over in the log', () => {
    const clock = new FakeClock('2026-05-01T10:00:00.500Z');
    const lines: string[] = [];
    const fired: string[] = [];
    const scheduler = new Scheduler([cron('* * * * * *')], new Set(), async (_cron, tickAt) => void fired.push(tickAt.toISOString()), createLogger({ write: (line) => lines.push(line) }), () => true, clock);
    scheduler.start();
    clock.jump(5_000); // the wake-up for 10:00:01 comes at 10:00:06
    clock.advance(600);
    assert.deepEqual(fired, ['2026-05-01T10:00:01.000Z']);
    const warning = lines.find((line) => line.includes('not fired'));
    assert.ok(warning, lines.join('\n'));
    assert.match(warning, /job: 5 ticks from 2026-05-01T10:00:02\.000Z to 2026-05-01T10:00:06\.000Z not fired: the scheduler woke 5\d{3} ms after 2026-05-01T10:00:01\.000Z/);
    clock.advance(1000);
    assert.deepEqual(fired.slice(1), ['2026-05-01T10:00:07.000Z'], 'then on from now');
    assert.equal(lines.filter((line) => line.includes('not fired')).length, 1, 'an on-time tick says nothing');
    scheduler.stop();
  });

  it('a paused cron does not fire; resumed, it fires on its next time', () => {
    const definition = cron('*/10 * * * *');
    const { clock, fired, scheduler } = harness(definition, '2026-05-01T10:05:00Z');
    scheduler.setPaused('job', true);
    assert.equal(scheduler.nextRun(definition), null);
    clock.advance(HOUR);
    assert.equal(fired.length, 0);
    scheduler.setPaused('job', false);
    assert.equal(scheduler.nextRun(definition)?.toISOString(), '2026-05-01T11:10:00.000Z');
    clock.advance(10 * 60_000);
    assert.deepEqual(fired.map((run) => run.tickAt), ['2026-05-01T11:10:00.000Z']);
    scheduler.stop();
    clock.advance(HOUR);
    assert.equal(fired.length, 1);
  });

  it('the soonest next run follows each tick, a pause, a resume and a reload of the definitions', () => {
    const clock = new FakeClock('2026-05-01T10:00:00.500Z');
    const fired: string[] = [];
    const definitions = [cron('10 * * * * *', 'UTC', 'ten'), cron('40 * * * * *', 'UTC', 'forty'), cron('0 0 * * *', 'Europe/Paris', 'daily')];
    const scheduler = new Scheduler(definitions, new Set(), async (ran, tickAt) => void fired.push(`${ran.name}@${tickAt.toISOString()}`), quiet, () => true, clock);
    const soonest = () => {
      const next = scheduler.nextExecution();
      return next ? `${next.cronName}@${next.at.toISOString()}` : null;
    };
    scheduler.start();
    assert.equal(soonest(), 'ten@2026-05-01T10:00:10.000Z');
    clock.advance(10_000);
    assert.deepEqual(fired, ['ten@2026-05-01T10:00:10.000Z']);
    assert.equal(soonest(), 'forty@2026-05-01T10:00:40.000Z');
    scheduler.setPaused('forty', true);
    assert.equal(soonest(), 'ten@2026-05-01T10:01:10.000Z');
    scheduler.setPaused('forty', false);
    assert.equal(soonest(), 'forty@2026-05-01T10:00:40.000Z');
    scheduler.replace([definitions[0], definitions[2], cron('*/5 * * * * *', 'UTC', 'five')]);
    assert.equal(soonest(), 'five@2026-05-01T10:00:15.000Z');
    scheduler.setPaused('five', true);
    scheduler.setPaused('ten', true);
    assert.equal(soonest(), 'daily@2026-05-01T22:00:00.000Z');
    scheduler.setPaused('daily', true);
    assert.equal(soonest(), null);
    scheduler.setPaused('ten', false);
    clock.advance(60_000);
    assert.equal(soonest(), 'ten@2026-05-01T10:02:10.000Z');
    scheduler.stop();
  });

  it('crons due at the same instant share one timer and are handed over together, paused ones told apart', async () => {
    const clock = new FakeClock('2026-05-01T10:00:00.500Z');
    const definitions = [cron('*/10 * * * * *', 'UTC', 'a'), cron('*/10 * * * * *', 'UTC', 'b'), cron('*/10 * * * * *', 'UTC', 'c'), cron('5 * * * * *', 'UTC', 'd')];
    const batches: string[][] = [];
    const single: string[] = [];
    const paused: string[] = [];
    const scheduler = new Scheduler(definitions, new Set(['c']), async (ran) => void single.push(ran.name), quiet, () => true, clock);
    scheduler.onDueTicks((ticks) => {
      batches.push(ticks.map((tick) => `${tick.cron.name}@${tick.tickAt.toISOString().slice(11, 19)}`));
      return ticks.map(async () => undefined);
    });
    scheduler.onPausedTick(async (ran, tickAt) => void paused.push(`${ran.name}@${tickAt.toISOString().slice(11, 19)}`));
    scheduler.start();
    assert.equal(clock.pendingTimers, 2, 'one timer for a, b and c (due at :10), one for d (due at :05)');
    clock.advance(20_000);
    assert.deepEqual(batches, [['d@10:00:05'], ['a@10:00:10', 'b@10:00:10'], ['a@10:00:20', 'b@10:00:20']]);
    // A paused tick is told after the current turn (its recording is not the scheduler's business).
    await new Promise((resolveTurn) => setImmediate(resolveTurn));
    assert.deepEqual(paused, ['c@10:00:10', 'c@10:00:20'], 'a paused cron of the instant is told, not run');
    assert.deepEqual(single, [], 'nothing goes to the one-by-one handler once onDueTicks is set');
    assert.equal(scheduler.nextRun(definitions[0])?.toISOString(), '2026-05-01T10:00:30.000Z');
    scheduler.replace(definitions.filter((definition) => definition.name !== 'b'));
    clock.advance(10_000);
    assert.deepEqual(batches.at(-1), ['a@10:00:30'], 'a removed cron leaves its instant, the others keep firing');
    scheduler.stop();
    assert.equal(clock.pendingTimers, 0);
  });

  it('a pinned cron\'s next run is told from the clock, and moves on once passed', () => {
    const clock = new FakeClock('2026-05-01T10:00:00Z');
    const scheduler = new Scheduler([cron('*/10 * * * * *', 'UTC', 'pinned')], new Set(), async () => undefined, quiet, () => false, clock);
    scheduler.start();
    assert.equal(scheduler.nextExecution()?.at.toISOString(), '2026-05-01T10:00:10.000Z');
    clock.advance(10_000);
    assert.equal(scheduler.nextExecution()?.at.toISOString(), '2026-05-01T10:00:20.000Z');
    scheduler.stop();
  });
});
