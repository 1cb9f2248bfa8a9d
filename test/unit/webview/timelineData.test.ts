import { strict as assert } from 'node:assert';
import { EXECUTION_STATUSES, type ExecutionStatus } from '../../../src/shared/api';
import { buildTimeline, dayTicks, durationRange, durationTicks, latestRuns, MIN_PLOTTED_MS } from '../../../src/webview/timelineData';
import { columns, DAY_MS, run, T0 } from './builders';

const area = { fromMs: T0 - 7 * DAY_MS, toMs: T0, width: 1000, height: 200 };

function series(data: ReturnType<typeof buildTimeline>, status: ExecutionStatus) {
  return data.series[EXECUTION_STATUSES.indexOf(status)];
}

describe('webview timeline data', () => {
  describe('buildTimeline', () => {
    it('gives each run its own mark at its start, its duration as height, in its status series', () => {
      const data = columns(run('a', 'completed', -3 * DAY_MS, 1500), run('b', 'failed', -DAY_MS, 200), run('a', 'running', -1000, 0));
      const built = buildTimeline(data, area);
      assert.equal(built.merged, false);
      assert.equal(built.runs, 3);
      assert.equal(built.marks, 3);
      assert.deepEqual(series(built, 'completed').points, [{ x: T0 - 3 * DAY_MS, y: 1500, i: 0, n: 1 }]);
      assert.deepEqual(series(built, 'failed').points, [{ x: T0 - DAY_MS, y: 200, i: 1, n: 1 }]);
      // A log axis has no zero: a run just started is drawn at the floor.
      assert.deepEqual(series(built, 'running').points, [{ x: T0 - 1000, y: MIN_PLOTTED_MS, i: 2, n: 1 }]);
      assert.equal(series(built, 'cancelled').points.length, 0);
    });

    it('merges runs that share a cell past the limit, keeping every run counted and the latest one clickable', () => {
      const entries = [];
      // 50 completed runs in the same minute with the same duration, and one elsewhere.
      for (let k = 0; k < 50; k++) entries.push(run('dense', 'completed', -DAY_MS + k * 1000, 5000));
      entries.push(run('dense', 'completed', -5 * DAY_MS, 60_000));
      const data = columns(...entries);
      const built = buildTimeline(data, area, { exactLimit: 10, cellPx: 4 });
      const points = series(built, 'completed').points;
      assert.equal(built.merged, true);
      assert.equal(points.length, 2);
      assert.equal(points.reduce((sum, point) => sum + point.n, 0), 51, 'every run is counted once');
      const dense = points.find((point) => point.n === 50)!;
      assert.equal(dense.i, 49, 'the latest run of the cell stands for it');
      assert.equal(dense.x, T0 - DAY_MS + 49_000);
      assert.deepEqual(points.map((point) => point.x), [...points.map((point) => point.x)].sort((a, b) => a - b), 'sorted along x');
    });

    it('never merges running runs and keeps statuses apart in the same cell', () => {
      const entries = [];
      for (let k = 0; k < 20; k++) entries.push(run('c', k % 2 ? 'failed' : 'completed', -DAY_MS + k, 5000));
      entries.push(run('c', 'running', -DAY_MS, 5000), run('d', 'running', -DAY_MS, 5000));
      const built = buildTimeline(columns(...entries), area, { exactLimit: 5, cellPx: 4 });
      assert.equal(series(built, 'completed').points.length, 1);
      assert.equal(series(built, 'failed').points.length, 1);
      assert.equal(series(built, 'running').points.length, 2);
      assert.equal(series(built, 'completed').runs, 10);
      assert.equal(built.runs, 22);
    });

    it('bounds the marks of 100,000 runs by the plot area', () => {
      const n = 100_000;
      const data = { cronNames: ['x'], ids: [] as string[], cron: [] as number[], status: [] as number[], startMs: [] as number[], durationMs: [] as number[] };
      for (let k = 0; k < n; k++) {
        data.ids.push(`id-${k}`);
        data.cron.push(0);
        data.status.push(k % 10 === 0 ? 2 : 0);
        data.startMs.push(area.fromMs + (k / n) * 7 * DAY_MS);
        data.durationMs.push(500 + ((k * 7919) % 60_000));
      }
      const built = buildTimeline(data, area);
      const cells = Math.floor(area.width / 5) * Math.floor(area.height / 5);
      assert.equal(built.runs, n);
      assert.ok(built.marks <= 2 * cells, `${built.marks} marks for ${cells} cells per status`);
      assert.equal(built.series.reduce((sum, { points }) => sum + points.reduce((runs, point) => runs + point.n, 0), 0), n);
    });
  });

  describe('axes', () => {
    it('brackets durations with round values at least two ticks apart', () => {
      assert.deepEqual(durationRange([1500, 45_000]), { yMin: 1000, yMax: 60_000 });
      assert.deepEqual(durationRange([0]), { yMin: 10, yMax: 50 });
      assert.deepEqual(durationRange([5000, 5000]), { yMin: 2000, yMax: 10_000 });
      assert.deepEqual(durationRange([]), { yMin: 100, yMax: 60_000 });
    });

    it('ticks the duration axis at round durations within the bounds', () => {
      assert.deepEqual(durationTicks(1000, 60_000), [1000, 2000, 5000, 10_000, 20_000, 30_000, 60_000]);
    });

    it('ticks the time axis at each local midnight of the 7 days', () => {
      const to = new Date(2026, 1, 14, 15, 30).getTime();
      const ticks = dayTicks(to - 7 * DAY_MS, to);
      assert.equal(ticks.length, 7);
      for (const tick of ticks) {
        const date = new Date(tick);
        assert.equal(date.getHours() * 60 + date.getMinutes(), 0);
      }
      assert.equal(new Date(ticks[6]).getDate(), 14);
    });
  });

  describe('latestRuns', () => {
    it('picks the newest runs first, whatever the order they came in', () => {
      const data = columns(run('a', 'completed', -50, 1), run('b', 'completed', -10, 1), run('c', 'failed', -30, 1), run('d', 'completed', -20, 1), run('e', 'completed', -40, 1));
      assert.deepEqual(latestRuns(data, 3), [1, 3, 2]);
      assert.deepEqual(latestRuns(data, 10), [1, 3, 2, 4, 0]);
      assert.deepEqual(latestRuns(columns(), 3), []);
    });
  });
});
