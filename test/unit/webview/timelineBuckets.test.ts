import { strict as assert } from 'node:assert';
import type { TimelineBucket } from '../../../src/shared/api';
import { bucketPoints, buildTimeline, durationRangeWith, openingRange } from '../../../src/webview/timelineData';
import { columns, DAY_MS, run, T0 } from './builders';

function bucket(startOffsetMs: number, count: number, p95: number, max: number): TimelineBucket {
  return { cronName: 'a', status: 'completed', start: new Date(T0 + startOffsetMs).toISOString(), end: new Date(T0 + startOffsetMs + 3_600_000).toISOString(), count, maxDurationMs: max, p95DurationMs: p95 };
}

describe('webview timeline: the server\'s buckets (day 300)', () => {
  it('draws one mark per bucket at its middle and p95 duration, in time order, with its count', () => {
    const points = bucketPoints([bucket(-2 * 3_600_000, 500, 2000, 9000), bucket(-5 * 3_600_000, 20, 800, 1000)]);
    assert.deepEqual(
      points.map((point) => ({ x: point.x, y: point.y, i: point.i, n: point.n })),
      [
        { x: T0 - 4.5 * 3_600_000, y: 800, i: 1, n: 20 },
        { x: T0 - 1.5 * 3_600_000, y: 2000, i: 0, n: 500 },
      ],
    );
  });

  it('sizes the duration axis for runs and buckets together', () => {
    const data = buildTimeline(columns(run('a', 'failed', -1000, 300)), { fromMs: T0 - DAY_MS, toMs: T0, width: 800, height: 200 });
    const range = durationRangeWith(data, [bucket(-3_600_000, 10, 20_000, 90_000)]);
    assert.ok(range.yMin <= 300 && range.yMax >= 90_000, JSON.stringify(range));
  });

  it('opens on the range of the buckets too', () => {
    const range = openingRange([], [bucket(-3 * 3_600_000, 10, 1000, 2000)], T0 - 7 * DAY_MS, T0);
    assert.ok(range.min < T0 - 3 * 3_600_000 && range.min > T0 - DAY_MS, JSON.stringify(range));
  });
});
