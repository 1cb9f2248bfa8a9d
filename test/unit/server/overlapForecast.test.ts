import { strict as assert } from 'node:assert';
import { FORECAST_HORIZON_MS, forecastOverlap, formatSpan, percentile95, TickWindow } from '../../../src/server/overlapForecast';
import { overlapText } from '../../../src/shared/overlapText';

const FROM = new Date('2026-03-02T00:00:30.000Z');
const MINUTE = 60_000;

/** 20 recent runs: 19 quick ones and the slow tail that sets the p95. */
function durations(typicalMs: number, slowMs: number, slow = 2): number[] {
  return [...Array.from({ length: 20 - slow }, (_, index) => typicalMs + index), ...Array.from({ length: slow }, () => slowMs)];
}

describe('overlapForecast', () => {
  it('takes the 95th percentile by nearest rank, ignoring values that are not durations', () => {
    assert.equal(percentile95(Array.from({ length: 20 }, (_, index) => (index + 1) * 1000)), 19_000);
    assert.equal(percentile95(Array.from({ length: 100 }, (_, index) => index + 1)), 95);
    assert.equal(percentile95([42]), 42);
    assert.equal(percentile95([5, Number.NaN, -1, Number.POSITIVE_INFINITY, 7]), 7);
    assert.equal(percentile95([]), null);
  });

  it('writes spans in their two largest units', () => {
    assert.equal(formatSpan(850), '850 ms');
    assert.equal(formatSpan(12_000), '12 s');
    assert.equal(formatSpan(5 * MINUTE), '5 min');
    assert.equal(formatSpan(6 * MINUTE + 12_000), '6 min 12 s');
    assert.equal(formatSpan(90 * MINUTE + 59_000), '1 h 30 min');
    assert.equal(formatSpan(3_600_000), '1 h');
    assert.equal(formatSpan(27 * 3_600_000), '1 d 3 h');
  });

  it('warns when the p95 outlasts a regular interval, and counts the ticks that would be skipped', () => {
    const forecast = forecastOverlap({ schedule: '*/5 * * * *', timezone: 'Africa/Tunis', durationsMs: durations(2 * MINUTE, 6 * MINUTE + 11_600), from: FROM });
    assert.equal(forecast.status, 'overlap');
    assert.equal(forecast.message, 'p95 6 min 12 s > every 5 min');
    assert.deepEqual([forecast.p95Ms, forecast.samples, forecast.shortestIntervalMs, forecast.regular], [6 * MINUTE + 11_600, 20, 5 * MINUTE, true]);
    // Each run covers the next tick: one tick in two is skipped.
    assert.deepEqual([forecast.ticksConsidered, forecast.ticksSkipped], [100, 50]);
    assert.equal(forecast.shortestIntervalAt, '2026-03-02T00:05:00.000Z');
  });

  it('counts more skipped ticks as the p95 covers more of them', () => {
    const forecast = forecastOverlap({ schedule: '*/5 * * * *', timezone: 'UTC', durationsMs: durations(4 * MINUTE, 12 * MINUTE), from: FROM, ticks: 30 });
    assert.equal(forecast.message, 'p95 12 min > every 5 min');
    assert.deepEqual([forecast.ticksConsidered, forecast.ticksSkipped], [30, 20]);
  });

  it('is quiet when the runs fit, even a p95 equal to the interval (the run ends as the next tick fires)', () => {
    for (const p95 of [45_000, 5 * MINUTE]) {
      const forecast = forecastOverlap({ schedule: '*/5 * * * *', timezone: 'Africa/Tunis', durationsMs: durations(30_000, p95), from: FROM });
      assert.deepEqual([forecast.status, forecast.message, forecast.ticksSkipped], ['ok', null, 0]);
    }
  });

  it('names the two ticks of the shortest gap, in the cron time zone, when the gaps differ', () => {
    const forecast = forecastOverlap({ schedule: '0 8,9 * * *', timezone: 'Africa/Tunis', durationsMs: durations(20 * MINUTE, 70 * MINUTE), from: FROM });
    assert.equal(forecast.status, 'overlap');
    assert.equal(forecast.regular, false);
    assert.equal(forecast.message, 'p95 1 h 10 min > 1 h between 08:00 and 09:00');
    assert.equal(forecast.shortestIntervalAt, '2026-03-02T07:00:00.000Z', '08:00 in Tunis is 07:00 UTC');
  });

  it('reads 6-field schedules, seconds first', () => {
    const forecast = forecastOverlap({ schedule: '*/10 * * * * *', timezone: 'UTC', durationsMs: [9000, 11_000, 12_000, 11_500], from: FROM });
    assert.equal(forecast.message, 'p95 12 s > every 10 s');
  });

  it('rounds the p95 as every duration is (5017 ms is 5 s, not 6 s), with decimals only where rounding would hide the overlap', () => {
    const base = { status: 'overlap' as const, shortestIntervalAt: null, regular: true };
    assert.equal(overlapText({ ...base, p95Ms: 5017, shortestIntervalMs: 1000 }, 'UTC'), 'p95 5 s > every 1 s');
    assert.equal(overlapText({ ...base, p95Ms: 5499, shortestIntervalMs: 1000 }, 'UTC'), 'p95 5 s > every 1 s');
    assert.equal(overlapText({ ...base, p95Ms: 5500, shortestIntervalMs: 1000 }, 'UTC'), 'p95 6 s > every 1 s');
    assert.equal(overlapText({ ...base, p95Ms: 5017, shortestIntervalMs: 5000 }, 'UTC'), 'p95 5.02 s > every 5 s');
    assert.equal(overlapText({ ...base, p95Ms: 10_400, shortestIntervalMs: 10_000 }, 'UTC'), 'p95 10.4 s > every 10 s');
  });

  it('gives no forecast from too few runs, and computes no tick for it', () => {
    let asked = 0;
    const forecast = forecastOverlap({ schedule: '*/5 * * * *', timezone: 'UTC', durationsMs: [20 * MINUTE, 20 * MINUTE], from: FROM, nextTicks: () => (asked++, []) });
    assert.deepEqual([forecast.status, forecast.message, forecast.samples, forecast.p95Ms, forecast.shortestIntervalMs, forecast.ticksConsidered], ['unknown', null, 2, 20 * MINUTE, null, 0]);
    assert.equal(asked, 0, 'no tick asked of croner');
  });

  it('looks no further than a week ahead: a yearly schedule costs one tick and gives no forecast', () => {
    const window = new TickWindow('0 0 1 1 *', 'Europe/Paris');
    const ticks = window.from(FROM, 100)!;
    assert.deepEqual(ticks.map((tick) => tick.toISOString()), ['2026-12-31T23:00:00.000Z'], 'the first tick past the horizon ends the look');
    assert.equal(window.computed, 1);
    const forecast = forecastOverlap({ schedule: '0 0 1 1 *', timezone: 'Europe/Paris', durationsMs: durations(1000, 1000), from: FROM });
    assert.deepEqual([forecast.status, forecast.shortestIntervalMs, forecast.ticksConsidered], ['unknown', null, 0]);
    // A daily schedule: a week of ticks and the first one past it.
    const daily = new TickWindow('0 3 * * *', 'UTC').from(FROM, 100)!;
    assert.equal(daily.length, 8);
    assert.ok(daily[daily.length - 2].getTime() <= FROM.getTime() + FORECAST_HORIZON_MS && daily[daily.length - 1].getTime() > FROM.getTime() + FORECAST_HORIZON_MS);
  });

  it('extends the ticks it holds as time passes, asking croner only for the new ones', () => {
    const window = new TickWindow('*/5 * * * *', 'Africa/Tunis');
    const first = window.from(FROM, 30)!;
    assert.equal(first.length, 30);
    assert.equal(window.computed, 30);
    const later = window.from(new Date(FROM.getTime() + 12 * MINUTE), 30)!;
    assert.deepEqual(later.map((tick) => tick.toISOString()), Array.from({ length: 30 }, (_, index) => new Date(Date.parse('2026-03-02T00:15:00Z') + index * 5 * MINUTE).toISOString()));
    assert.equal(window.computed, 32, 'two ticks passed, two new ones computed');
    // Asked about an earlier time (a clock set back): computed afresh, still right.
    assert.equal(window.from(new Date(FROM.getTime() - 10 * MINUTE), 30)![0].toISOString(), '2026-03-01T23:55:00.000Z');
  });

  it('asks croner for the ticks in slices when given a budget, and ends with the same ticks', () => {
    const sliced = new TickWindow('*/5 * * * *', 'Africa/Tunis');
    let slices = 1;
    // A budget of 0 ms still computes one tick per slice: it always moves on.
    while (!sliced.fill(FROM, 30, FORECAST_HORIZON_MS, 0)) slices++;
    assert.ok(slices > 1, `${slices} slices`);
    assert.equal(sliced.computed, 30, 'no tick computed twice across the slices');
    assert.deepEqual(sliced.from(FROM, 30), new TickWindow('*/5 * * * *', 'Africa/Tunis').from(FROM, 30));
    assert.equal(sliced.computed, 30, 'from() after the slices asks croner nothing more');
  });

  it('gives no forecast for a schedule croner rejects', () => {
    const forecast = forecastOverlap({ schedule: '61 * * * *', timezone: 'UTC', durationsMs: durations(1000, 1000), from: FROM });
    assert.deepEqual([forecast.status, forecast.shortestIntervalMs, forecast.message], ['unknown', null, null]);
  });

  it('looks at the ticks from the time it is given, not the clock', () => {
    const a = forecastOverlap({ schedule: '0 2 * * 1', timezone: 'UTC', durationsMs: durations(1000, 1000), from: new Date('2026-01-01T00:00:00Z'), ticks: 3 });
    assert.equal(a.shortestIntervalAt, '2026-01-05T02:00:00.000Z');
    assert.deepEqual([a.status, a.shortestIntervalMs, a.regular], ['ok', 7 * 86_400_000, true]);
  });

  it('words a forecast in the display language from its numbers, as the extension and the dashboard do', () => {
    const french = (message: string, ...args: Array<string | number>) =>
      ({ 'p95 {0} > every {1}': 'p95 {0} > toutes les {1}', 'p95 {0} > {1} between {2} and {3}': 'p95 {0} > {1} entre {2} et {3}' })[message]!.replace(/\{(\d)\}/g, (_, index: string) => String(args[Number(index)]));
    const regular = forecastOverlap({ schedule: '*/5 * * * *', timezone: 'Africa/Tunis', durationsMs: durations(2 * MINUTE, 6 * MINUTE + 11_600), from: FROM });
    assert.equal(overlapText(regular, 'Africa/Tunis'), regular.message);
    assert.equal(overlapText(regular, 'Africa/Tunis', french), 'p95 6 min 12 s > toutes les 5 min');
    const irregular = forecastOverlap({ schedule: '0 8,9 * * *', timezone: 'Africa/Tunis', durationsMs: durations(20 * MINUTE, 70 * MINUTE), from: FROM });
    assert.equal(overlapText(irregular, 'Africa/Tunis', french), 'p95 1 h 10 min > 1 h entre 08:00 et 09:00');
    const fits = forecastOverlap({ schedule: '*/5 * * * *', timezone: 'UTC', durationsMs: durations(30_000, 45_000), from: FROM });
    assert.equal(overlapText(fits, 'UTC'), undefined, 'no words when the runs fit');
  });
});
