// One parsed schedule: refused when it never fires or reads differently than it runs; DST as ISC cron.
import { strict as assert } from 'node:assert';
import { Cron } from 'croner';
import { Schedule } from '../../../src/server/schedule';

function problem(expression: string, timezone = 'UTC'): string {
  const parsed = Schedule.parse(expression, timezone, new Date('2026-01-01T00:00:00Z'));
  assert.ok(!(parsed instanceof Schedule), `${expression} should be refused`);
  return parsed.message;
}

function runs(expression: string, timezone: string, from: string, count: number): string[] {
  const parsed = Schedule.parse(expression, timezone, new Date(from));
  assert.ok(parsed instanceof Schedule, `${expression}: ${(parsed as { message: string }).message}`);
  const out: string[] = [];
  let at = new Date(from);
  for (let index = 0; index < count; index++) {
    at = parsed.nextAfter(at)!;
    out.push(at.toISOString());
  }
  return out;
}

describe('schedule', () => {
  it('a schedule that can never fire is refused, saying why', () => {
    assert.match(problem('0 0 31 2 *'), /never fires: day of month "31" never occurs in February/);
    assert.match(problem('0 0 30 2 *'), /never fires/);
    assert.match(problem('0 0 31 4,6 *'), /never fires.*April, June/);
    assert.equal(runs('0 0 29 2 *', 'UTC', '2026-01-01T00:00:00Z', 1)[0], '2028-02-29T00:00:00.000Z', 'a leap day is not "never"');
  });

  it('steps that do not divide their range are refused with the form that says what runs', () => {
    assert.match(problem('*/7 * * * *'), /minute "\*\/7" does not run every 7 minutes.*Write "0,7,14,21,28,35,42,49,56 \* \* \* \*"/);
    assert.match(problem('0 */5 * * *'), /hour "\*\/5".*"0 0,5,10,15,20 \* \* \*"/);
    assert.match(problem('*/45 * * * * *'), /second "\*\/45"/);
    assert.match(problem('0 0 * * */2'), /weekday "\*\/2"/);
    for (const fine of ['*/5 * * * *', '0 */6 * * *', '0 0 1 */3 *', '*/15 * * * * *', '0 9 * * 1-5']) assert.ok(Schedule.parse(fine, 'UTC') instanceof Schedule, fine);
  });

  it('"?" is refused: croner reads it as the value of the start, not "any"', () => {
    assert.match(problem('0 0 ? * *'), /day of month "\?".*Write "0 0 \* \* \*"/);
    assert.match(problem('0 ? * * *'), /hour "\?".*Write "0 \* \* \* \*"/);
    assert.match(problem('0 0 1-? * *'), /day of month "1-\?".*Write a value or "\*" in its place/);
  });

  it('several times in the skipped hour, asked from any instant: one run at the change, never a hang', () => {
    // From an instant that is not on a whole second, as the scheduler asks.
    assert.deepEqual(runs('*/15 2 14 3 *', 'America/New_York', '2026-11-30T00:12:34.567Z', 2), ['2027-03-14T07:00:00.000Z', '2028-03-14T06:00:00.000Z']);
    assert.deepEqual(runs('0,30 2 * * *', 'America/New_York', '2027-03-13T12:00:00.123Z', 2), ['2027-03-14T07:00:00.000Z', '2027-03-15T06:00:00.000Z']);
    assert.deepEqual(runs('*/20 2 28 3 *', 'Europe/Berlin', '2026-11-30T00:00:00.999Z', 1), ['2027-03-28T01:00:00.000Z']);
  });

  it('weekday forms croner reads differently are refused with a corrected form', () => {
    assert.match(problem('0 0 * * 1L'), /every Monday.*Write "0 0 \* \* 1#L"/);
    assert.match(problem('0 0 * * 1-7'), /Write "0 0 \* \* 1-6,0"/);
    assert.match(problem('0 0 * * 0-7'), /Write "0 0 \* \* \*"/);
  });

  it('the text in words comes from the same expression', () => {
    const parsed = Schedule.parse('0 9 * * 1-5', 'Europe/Paris');
    assert.ok(parsed instanceof Schedule);
    assert.equal(parsed.text, 'At 09:00, Monday through Friday');
  });

  it('spring forward: a time in the skipped hour runs once, right after the change', () => {
    assert.deepEqual(runs('30 2 * * *', 'America/New_York', '2026-03-07T12:00:00Z', 2), ['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z']);
    assert.deepEqual(runs('30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z', 2), ['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
    // Matches in the skipped hour and at the change merge into one run.
    assert.deepEqual(runs('*/20 * * * *', 'Europe/Berlin', '2026-03-29T00:30:00Z', 3), ['2026-03-29T00:40:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-29T01:20:00.000Z']);
  });

  it('fall back: the repeated hour runs once', () => {
    assert.deepEqual(runs('30 1 * * *', 'America/New_York', '2026-10-31T12:00:00Z', 2), ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
    const berlin = runs('30 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z', 2);
    assert.equal(berlin.filter((at) => at.startsWith('2026-10-25')).length, 1);
  });

  it('away from a change of offset, every tick is the one croner finds in the time zone (the quick look-up on the wall clock agrees)', () => {
    const zones = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/Santiago', 'Pacific/Chatham', 'Asia/Kathmandu'];
    const expressions = ['5 * * * * *', '*/20 * * * * *', '*/15 * * * *', '30 2 * * *', '0 0 * * *', '0 12 * * 1-5', '59 23 * * *', '0 0 1 * *'];
    // Mid-January and mid-July: no zone above changes its offset within two days of these.
    const middles = ['2026-01-15T00:00:00Z', '2026-07-15T00:00:00Z'].map(Date.parse);
    let compared = 0;
    for (const timezone of zones) {
      for (const expression of expressions) {
        const schedule = Schedule.parse(expression, timezone, new Date(middles[0]));
        assert.ok(schedule instanceof Schedule, `${expression} in ${timezone}`);
        const croner = new Cron(expression, { timezone, paused: true });
        for (const middle of middles) {
          for (let step = 0; step < 6; step++) {
            // Spread over a day either side, with milliseconds: the tick is strictly after, on a whole second.
            const from = new Date(middle - 86_400_000 + step * 28_800_017 + 123);
            assert.equal(schedule.nextAfter(from)?.toISOString(), croner.nextRun(from)?.toISOString(), `${expression} in ${timezone} after ${from.toISOString()}`);
            compared++;
          }
        }
      }
    }
    assert.equal(compared, zones.length * expressions.length * middles.length * 6);
  });

  it('a repeated wall-clock time is looked up through croner\'s own rule wherever it is asked from', () => {
    // Paris falls back at 01:00 UTC on 25 October 2026: 02:30 exists twice, and runs once.
    for (const from of ['2026-10-24T01:00:00Z', '2026-10-24T23:59:59Z', '2026-10-25T00:10:00Z']) {
      const ticks = runs('30 2 * * *', 'Europe/Paris', from, 2);
      assert.equal(ticks.filter((at) => at.startsWith('2026-10-25')).length, 1, `${from}: ${ticks.join(', ')}`);
      assert.equal(ticks[1], '2026-10-26T01:30:00.000Z', `${from}: ${ticks.join(', ')}`);
    }
  });
});
