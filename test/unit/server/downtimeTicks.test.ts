import { strict as assert } from 'node:assert';
import { ConfigError, parseConfig } from '../../../src/server/config';
import { catchUpExecutionId, lastTicksBetween, MAX_MISSED_PER_CRON } from '../../../src/server/downtimeTicks';
import { isUuid } from '../../../src/server/store/executionStore';
import { Schedule } from '../../../src/server/schedule';

function schedule(expression: string, timezone = 'UTC'): Schedule {
  const parsed = Schedule.parse(expression, timezone, new Date('2026-03-01T00:00:00Z'));
  assert.ok(parsed instanceof Schedule, JSON.stringify(parsed));
  return parsed;
}

function config(cron: Record<string, unknown>): string {
  return JSON.stringify({ crons: [{ name: 'job', schedule: '*/5 * * * *', command: ['true'], ...cron }] });
}

describe('downtimeTicks', () => {
  it('lists the ticks after the last known one and up to the restart, oldest first', () => {
    const ticks = lastTicksBetween(schedule('*/5 * * * *'), new Date('2026-03-02T10:05:00Z'), new Date('2026-03-02T10:27:00Z'), 100);
    assert.deepEqual(ticks.map((tick) => tick.toISOString()), ['2026-03-02T10:10:00.000Z', '2026-03-02T10:15:00.000Z', '2026-03-02T10:20:00.000Z', '2026-03-02T10:25:00.000Z']);
  });

  it('keeps only the newest ticks of a long downtime, without walking a month of seconds', () => {
    const started = performance.now();
    const until = new Date('2026-03-31T12:00:00Z');
    const ticks = lastTicksBetween(schedule('* * * * * *'), new Date('2026-03-01T00:00:00Z'), until, MAX_MISSED_PER_CRON);
    assert.equal(ticks.length, MAX_MISSED_PER_CRON);
    assert.equal(ticks[ticks.length - 1].toISOString(), '2026-03-31T12:00:00.000Z');
    assert.equal(ticks[0].toISOString(), '2026-03-31T11:58:21.000Z');
    // Not a benchmark: a walk over 2.6 million ticks would take minutes, this takes a moment.
    assert.ok(performance.now() - started < 20_000);
  });

  it('finds the last ticks of a sparse schedule far back, in its time zone', () => {
    const ticks = lastTicksBetween(schedule('0 8 * * 1', 'Africa/Tunis'), new Date('2025-01-01T00:00:00Z'), new Date('2026-03-10T00:00:00Z'), 3);
    assert.deepEqual(ticks.map((tick) => tick.toISOString()), ['2026-02-23T07:00:00.000Z', '2026-03-02T07:00:00.000Z', '2026-03-09T07:00:00.000Z']);
  });

  it('narrows the window when a long downtime holds a dense month: every second of January, a year on', () => {
    const ticks = lastTicksBetween(schedule('* * * * 1 *'), new Date('2025-12-31T00:00:00Z'), new Date('2026-11-30T00:00:00Z'), 5);
    assert.deepEqual(ticks.map((tick) => tick.toISOString()), ['2026-01-31T23:59:55.000Z', '2026-01-31T23:59:56.000Z', '2026-01-31T23:59:57.000Z', '2026-01-31T23:59:58.000Z', '2026-01-31T23:59:59.000Z']);
  });

  it('finds nothing when no tick fell in the downtime', () => {
    assert.deepEqual(lastTicksBetween(schedule('0 3 * * *'), new Date('2026-03-02T03:00:00Z'), new Date('2026-03-02T20:00:00Z'), 100), []);
    assert.deepEqual(lastTicksBetween(schedule('* * * * * *'), new Date('2026-03-02T03:00:00Z'), new Date('2026-03-02T02:00:00Z'), 100), []);
  });

  it('names the catch-up run of a downtime alike on every instance: one id per cron and last time up', () => {
    const id = catchUpExecutionId('job', new Date('2026-03-02T10:05:00Z'));
    assert.ok(isUuid(id), id);
    assert.equal(id[14], '8', 'a version 8 UUID');
    assert.equal(catchUpExecutionId('job', new Date('2026-03-02T10:05:00.000Z')), id);
    assert.notEqual(catchUpExecutionId('job', new Date('2026-03-02T10:05:01Z')), id, 'another downtime');
    assert.notEqual(catchUpExecutionId('other', new Date('2026-03-02T10:05:00Z')), id, 'another cron');
  });

  it('reads catchUp: "none" by default, "last", and refuses anything else saying what each does', () => {
    assert.equal(parseConfig(config({}), '/x/crons.json').crons[0].catchUp, 'none');
    assert.equal(parseConfig(config({ catchUp: 'last' }), '/x/crons.json').crons[0].catchUp, 'last');
    assert.throws(
      () => parseConfig(config({ catchUp: 'all' }), '/x/crons.json'),
      (error: ConfigError) => error.problems.some((problem) => /crons\[0\]\.catchUp: must be "none" .* or "last" .*got "all"/.test(problem)),
    );
  });
});
