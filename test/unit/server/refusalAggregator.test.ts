// Unauthenticated refusals become one audit row per client address and minute, with the count.
import assert from 'node:assert/strict';
import { RefusalAggregator } from '../../../src/server/http/refusalAggregator';
import type { AuditRecord } from '../../../src/server/store/auditStore';

describe('server: refusal aggregation', () => {
  const refusal = (clientAddress: string) => ({ clientAddress, status: 401, reason: 'Missing Authorization header', target: '/api/admin/crons', method: 'GET' });

  it('writes one row per address once its minute has ended, with the count', async () => {
    let now = Date.UTC(2026, 0, 1, 10, 0, 5);
    const rows: AuditRecord[] = [];
    const aggregator = new RefusalAggregator(async (row) => void rows.push(row), () => now, 3_600_000);
    for (let index = 0; index < 5000; index++) aggregator.count(refusal('10.0.0.1'));
    aggregator.count(refusal('10.0.0.2'));
    await aggregator.flush(false);
    assert.equal(rows.length, 0, 'nothing written while the minute lasts');
    now += 60_000;
    aggregator.count(refusal('10.0.0.1'));
    await aggregator.flush(false);
    assert.equal(rows.length, 2);
    const first = rows.find((row) => row.clientAddress === '10.0.0.1')!;
    assert.equal(first.action, 'auth.refused');
    assert.equal(first.actor, 'anonymous');
    assert.deepEqual({ ...first.details }, { status: 401, count: 5000, minute: '2026-01-01T10:00:00.000Z', reason: 'Missing Authorization header', method: 'GET' });
    assert.equal(rows.find((row) => row.clientAddress === '10.0.0.2')!.details!.count, 1);
    await aggregator.close();
    assert.equal(rows.length, 3, 'the current minute is written at close');
    assert.equal(rows[2].details!.count, 1);
  });

  it('keeps its memory bounded: past 1000 addresses in a minute, the rest share one row', async () => {
    const rows: AuditRecord[] = [];
    const aggregator = new RefusalAggregator(async (row) => void rows.push(row), () => 0, 3_600_000);
    for (let index = 0; index < 3000; index++) aggregator.count(refusal(`10.1.${index >> 8}.${index & 255}`));
    await aggregator.close();
    assert.equal(rows.length, 1001);
    const others = rows.find((row) => row.clientAddress === '(other addresses)')!;
    assert.equal(others.details!.count, 2000);
  });
});
