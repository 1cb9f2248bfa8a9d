import { strict as assert } from 'node:assert';
import type { Execution } from '../../../../src/shared/api';
import { P95Cache } from '../../../../src/extension/definitions/p95Cache';
import { anExecution } from '../builders';

/** A loader whose answers the test releases one by one, in any order. */
function controlledLoader() {
  const pending: Array<{ cronName: string; limit: number; resolve: (runs: Execution[]) => void; reject: (error: Error) => void }> = [];
  const load = (cronName: string, limit: number) => new Promise<Execution[]>((resolve, reject) => pending.push({ cronName, limit, resolve, reject }));
  return { pending, load };
}

const changeOf = (cache: P95Cache) => new Promise<string>((resolve) => { const subscription = cache.onDidChange((name) => { subscription.dispose(); resolve(name); }); });

describe('P95Cache', () => {
  it('loads a cron once, bounded, and answers from the cache afterwards', async () => {
    const loader = controlledLoader();
    const cache = new P95Cache(loader.load);
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.get('a'), undefined);
    assert.equal(loader.pending.length, 1, 'one load for two reads');
    assert.equal(loader.pending[0].limit, 50);
    const changed = changeOf(cache);
    loader.pending[0].resolve([anExecution({ durationMs: 1000 }), anExecution({ durationMs: 3000 })]);
    assert.equal(await changed, 'a');
    assert.deepEqual(cache.get('a'), { ms: 3000, runs: 2 });
    assert.equal(loader.pending.length, 1);
  });

  it('reloads a shown cron when its run finishes; a load overtaken by a newer one is dropped', async () => {
    const loader = controlledLoader();
    const cache = new P95Cache(loader.load);
    cache.invalidate('never-shown');
    assert.equal(loader.pending.length, 0, 'crons not shown are not loaded');
    cache.get('a');
    cache.invalidate('a');
    assert.equal(loader.pending.length, 2);
    const changed = changeOf(cache);
    loader.pending[1].resolve([anExecution({ durationMs: 7000 })]);
    assert.equal(await changed, 'a');
    loader.pending[0].resolve([anExecution({ durationMs: 1 })]);
    await Promise.resolve();
    assert.deepEqual(cache.get('a'), { ms: 7000, runs: 1 });
  });

  it('a failed load leaves no p95 and the next finished run tries again', async () => {
    const loader = controlledLoader();
    const cache = new P95Cache(loader.load);
    cache.get('a');
    loader.pending[0].reject(new Error('unreachable'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(cache.get('a'), undefined);
    assert.equal(loader.pending.length, 1, 'no retry loop on reads');
    cache.invalidate('a');
    assert.equal(loader.pending.length, 2);
  });
});
