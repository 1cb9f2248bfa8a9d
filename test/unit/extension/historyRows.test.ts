import { strict as assert } from 'node:assert';
import type { SkippedTick } from '../../../src/shared/api';
import { historyRows } from '../../../src/extension/historyRows';
import { anExecution } from './builders';

const skip = (tickAt: string): SkippedTick => ({ cronName: 'monitor-openai', tickAt, reason: 'already-running', runnerId: 'host-1', runningExecutionId: 'run-1', recordedAt: tickAt });
const at = (minute: number) => `2026-02-14T15:${String(minute).padStart(2, '0')}:00.000Z`;

describe('a cron\'s history rows (runs and skipped ticks)', () => {
  it('puts runs and skipped ticks together, newest first', () => {
    const runs = [anExecution({ id: 'b', startedAt: at(20) }), anExecution({ id: 'a', startedAt: at(10) })];
    const rows = historyRows(runs, [skip(at(25)), skip(at(15))], 10);
    assert.deepEqual(rows.map((row) => (row.kind === 'run' ? row.execution.id : `skip ${row.tick.tickAt}`)), [`skip ${at(25)}`, 'b', `skip ${at(15)}`, 'a']);
  });

  it('leaves out skips older than the oldest run shown when the runs fill the limit (they belong to runs not shown)', () => {
    const runs = [anExecution({ id: 'b', startedAt: at(20) }), anExecution({ id: 'a', startedAt: at(10) })];
    const rows = historyRows(runs, [skip(at(15)), skip(at(5))], 2);
    assert.deepEqual(rows.map((row) => row.kind), ['run', 'skip', 'run']);
  });

  it('shows every skip when the cron has fewer runs than the limit, and skips alone when it never ran', () => {
    assert.equal(historyRows([anExecution({ startedAt: at(20) })], [skip(at(5))], 10).length, 2);
    assert.deepEqual(historyRows([], [skip(at(5)), skip(at(7))], 10).map((row) => row.at), [Date.parse(at(7)), Date.parse(at(5))]);
  });
});
