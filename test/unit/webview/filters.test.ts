import { strict as assert } from 'node:assert';
import { NO_FILTER, sameFilter } from '../../../src/shared/messages';
import { applyFilter, cronChoices, filterFromSelects, restoreState, selectRuns } from '../../../src/webview/filters';
import { columns, run } from './builders';

describe('webview filters', () => {
  it('restores a saved state, and shows everything for anything unexpected', () => {
    assert.deepEqual(restoreState({ filter: { cronName: 'check-alerts', status: 'failed' }, latestOpen: true }), {
      filter: { cronName: 'check-alerts', status: 'failed' },
      latestOpen: true,
    });
    assert.deepEqual(restoreState(undefined), { filter: NO_FILTER, latestOpen: false });
    assert.deepEqual(restoreState({ filter: { cronName: 7, status: 'exploded' } }), { filter: NO_FILTER, latestOpen: false });
  });

  it('reads the selects, an empty value meaning all', () => {
    assert.deepEqual(filterFromSelects('', ''), NO_FILTER);
    assert.deepEqual(filterFromSelects('monitor-openai', 'cancelled'), { cronName: 'monitor-openai', status: 'cancelled' });
    assert.deepEqual(filterFromSelects('x', 'nonsense'), { cronName: 'x', status: null });
  });

  it('offers the server crons plus names seen only in the timeline or selected, sorted', () => {
    const timeline = columns(run('removed-cron', 'completed', 0, 1), run('b', 'completed', 0, 1));
    assert.deepEqual(cronChoices(['c', 'b'], timeline, 'restored'), ['b', 'c', 'removed-cron', 'restored']);
    assert.deepEqual(cronChoices([], null, null), []);
  });

  it('narrows a wider timeline to a filter', () => {
    const data = columns(run('a', 'completed', 0, 1), run('b', 'failed', 1, 2), run('a', 'failed', 2, 3), run('b', 'completed', 3, 4));
    assert.deepEqual(applyFilter(data, NO_FILTER), [0, 1, 2, 3]);
    assert.deepEqual(applyFilter(data, { cronName: 'a', status: null }), [0, 2]);
    assert.deepEqual(applyFilter(data, { cronName: null, status: 'failed' }), [1, 2]);
    assert.deepEqual(applyFilter(data, { cronName: 'a', status: 'failed' }), [2]);
    assert.deepEqual(applyFilter(data, { cronName: 'unknown', status: null }), []);
    const narrowed = selectRuns(data, [1, 2]);
    assert.deepEqual(narrowed.durationMs, [2, 3]);
    assert.deepEqual(narrowed.ids, [data.ids[1], data.ids[2]]);
    assert.equal(narrowed.cronNames, data.cronNames);
  });

  it('compares filters by what they select', () => {
    assert.equal(sameFilter({ cronName: 'a', status: null }, { cronName: 'a', status: null }), true);
    assert.equal(sameFilter({ cronName: 'a', status: null }, { cronName: 'a', status: 'failed' }), false);
  });
});
