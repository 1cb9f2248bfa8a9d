import { strict as assert } from 'node:assert';
import type { RetryPolicy } from '../../../../src/server/alerts/alertConfig';
import { endCauseOf, planRetry, retryDelayMs, retryLink, retryNoLongerAllowed } from '../../../../src/server/alerts/retryPolicy';

const POLICY: RetryPolicy = { count: 3, delayMs: 1000, backoff: 2, maxDelayMs: 5000, on: ['failed', 'timeout'] };

describe('retry policy', () => {
  it('tells how a run ended from what the store holds', () => {
    assert.equal(endCauseOf({ status: 'completed', errorMessage: null }), 'completed');
    assert.equal(endCauseOf({ status: 'failed', errorMessage: 'Exited with code 2: boom' }), 'failed');
    assert.equal(endCauseOf({ status: 'failed', errorMessage: 'Timeout: still running after 500 ms (timeoutMs of backup); the process was stopped' }), 'timeout');
    assert.equal(endCauseOf({ status: 'failed', errorMessage: 'Interrupted: server restarted' }), 'interrupted');
    assert.equal(endCauseOf({ status: 'failed', errorMessage: 'Timeout - manually cancelled' }), 'operator');
    assert.equal(endCauseOf({ status: 'failed', errorMessage: 'stuck on a lock', byOperator: true }), 'operator');
    assert.equal(endCauseOf({ status: 'cancelled', errorMessage: null }), 'operator');
    assert.equal(endCauseOf({ status: 'running', errorMessage: null }), undefined);
  });

  it('doubles the delay with backoff 2, up to maxDelayMs', () => {
    assert.deepEqual([2, 3, 4, 5, 6].map((attempt) => retryDelayMs(POLICY, attempt)), [1000, 2000, 4000, 5000, 5000]);
    assert.deepEqual([2, 3, 4].map((attempt) => retryDelayMs({ ...POLICY, backoff: 1 }, attempt)), [1000, 1000, 1000]);
  });

  it('retries failures and timeouts until count retries were made', () => {
    assert.deepEqual(planRetry(POLICY, 1, 'failed'), { attempt: 2, delayMs: 1000, reason: 'failed' });
    assert.deepEqual(planRetry(POLICY, 2, 'timeout'), { attempt: 3, delayMs: 2000, reason: 'timeout' });
    assert.deepEqual(planRetry(POLICY, 3, 'interrupted'), { attempt: 4, delayMs: 4000, reason: 'failed' });
    assert.equal(planRetry(POLICY, 4, 'failed'), undefined, 'three retries: four attempts in all');
  });

  it('never retries a success, an operator\'s end, an outcome not listed, or a cron without retries', () => {
    assert.equal(planRetry(POLICY, 1, 'completed'), undefined);
    assert.equal(planRetry(POLICY, 1, 'operator'), undefined);
    assert.equal(planRetry({ ...POLICY, on: ['failed'] }, 1, 'timeout'), undefined);
    assert.equal(planRetry({ ...POLICY, on: ['timeout'] }, 1, 'failed'), undefined);
    assert.equal(planRetry(undefined, 1, 'failed'), undefined);
  });

  it('links every attempt to the first one', () => {
    const first = { id: 'first', retryOf: null };
    assert.deepEqual(retryLink(first, 2), { attempt: 2, retryOf: 'first' });
    assert.deepEqual(retryLink({ id: 'second', retryOf: 'first' }, 3), { attempt: 3, retryOf: 'first' });
  });

  it('says why a waiting retry may no longer run after a reload changed the policy', () => {
    assert.equal(retryNoLongerAllowed(POLICY, 4), undefined, 'retry 3 of 3 still runs');
    assert.equal(retryNoLongerAllowed({ ...POLICY, count: 1 }, 3), 'the config now allows 1 retry, and this was retry 2');
    assert.equal(retryNoLongerAllowed({ ...POLICY, count: 0 }, 2), 'the config now allows 0 retries, and this was retry 1');
    assert.equal(retryNoLongerAllowed(undefined, 2), 'the config no longer retries the cron');
  });
});
