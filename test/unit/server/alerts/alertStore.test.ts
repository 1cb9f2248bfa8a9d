// Alerting's tables on the embedded store (in-memory SQLite, migrated as at start): deliveries claimed once
// and retried, alerts raised once, retries kept until started and cancelled by a manual run.
import { strict as assert } from 'node:assert';
import { StoreDeliveryStorage, StoreRetryStorage } from '../../../../src/server/alerts/alertStore';
import { openSqlite, type Db } from '../../../../src/server/store/db';
import { migrate } from '../../../../src/server/store/migrations';
import { aLog, aMessage } from './builders';

describe('alert store (SQLite)', () => {
  let db: Db;
  beforeEach(async () => {
    db = await openSqlite({ file: undefined, log: aLog() });
    await migrate(db);
  });
  afterEach(async () => db.close());

  it('claims a due delivery once, leases it, and records how each attempt went', async () => {
    const storage = new StoreDeliveryStorage(db);
    const created = new Date('2026-11-29T03:00:05.000Z');
    const [added] = await storage.add([{ id: '5f0c8a52-8d0c-4f7a-9a55-0c1d2e3f4a5b', destination: 'ops', message: aMessage(), createdAt: created }]);
    assert.deepEqual([added.status, added.attempts, added.nextAttemptAt, added.cronName, added.event], ['pending', 0, created.toISOString(), 'backup', 'failed']);

    const now = new Date('2026-11-29T03:00:06.000Z');
    const lease = new Date('2026-11-29T03:00:36.000Z');
    const [claimed] = await storage.claimDue(now, lease, 10);
    assert.equal(claimed.delivery.attempts, 1);
    assert.deepEqual(claimed.message, aMessage());
    assert.deepEqual(await storage.claimDue(now, lease, 10), [], 'leased: not claimed twice');
    assert.deepEqual(await storage.nextDueAt(), lease);

    await storage.record(added.id, { status: 'pending', at: now, error: 'HTTP 503', nextAttemptAt: new Date('2026-11-29T03:00:16.000Z') });
    const [again] = await storage.claimDue(new Date('2026-11-29T03:00:16.000Z'), lease, 10);
    assert.equal(again.delivery.attempts, 2);
    await storage.record(added.id, { status: 'sent', at: new Date('2026-11-29T03:00:17.000Z') });
    const sent = await storage.get(added.id);
    assert.deepEqual([sent!.status, sent!.attempts, sent!.lastError, sent!.sentAt, sent!.nextAttemptAt], ['sent', 2, null, '2026-11-29T03:00:17.000Z', null]);
    assert.equal(await storage.nextDueAt(), undefined);
    assert.equal((await storage.latestPerDestination()).get('ops')!.status, 'sent');
    assert.deepEqual((await storage.recent(5)).map((delivery) => delivery.id), [added.id]);
  });

  it('raises a keyed alert once', async () => {
    const storage = new StoreDeliveryStorage(db);
    assert.equal(await storage.claimAlert('stuck:abc', new Date()), true);
    assert.equal(await storage.claimAlert('stuck:abc', new Date()), false);
  });

  it('keeps a retry until it is started, once, and lets a manual run cancel it', async () => {
    const storage = new StoreRetryStorage(db);
    const first = '0b9c2f7e-2b9a-4c1e-8f3a-1a2b3c4d5e6f';
    const retry = { cronName: 'backup', retryOf: first, attempt: 2, params: { batchSize: 3 }, dueAt: new Date('2026-11-29T03:01:00.000Z') };
    assert.equal(await storage.add(retry), true);
    assert.equal(await storage.add(retry), false, 'planned twice (two instances): kept once');
    assert.deepEqual(await storage.claimDue(new Date('2026-11-29T03:00:59.000Z'), new Date('2026-11-29T03:02:00.000Z'), 8), [], 'not due yet');
    const [claimed] = await storage.claimDue(new Date('2026-11-29T03:01:00.000Z'), new Date('2026-11-29T03:02:00.000Z'), 8);
    assert.deepEqual(claimed, { ...retry, dueAt: new Date('2026-11-29T03:02:00.000Z') });
    assert.deepEqual(await storage.claimDue(new Date('2026-11-29T03:01:30.000Z'), new Date('2026-11-29T03:03:00.000Z'), 8), [], 'leased');
    await storage.done(first, 2);
    assert.deepEqual(await storage.pending(), []);

    await storage.add({ ...retry, attempt: 3 });
    assert.deepEqual((await storage.cancel('backup')).map((cancelled) => cancelled.attempt), [3]);
    assert.equal(await storage.nextDueAt(), undefined);
  });
});
