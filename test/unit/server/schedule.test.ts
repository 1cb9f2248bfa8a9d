// One parsed schedule: refused when it never fires or reads differently than it runs; DST as ISC cron.
import { strict as assert } from 'node:assert';
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
});
