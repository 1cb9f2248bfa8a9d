import { strict as assert } from 'node:assert';
import type { RetryPolicy } from '../../../../src/server/alerts/alertConfig';
import { MemoryRetryStorage, RetryScheduler } from '../../../../src/server/alerts/retryScheduler';
import { RetryView } from '../../../../src/server/alerts/retryView';
import type { Cron } from '../../../../src/shared/api';
import { aLog, anExecution } from './builders';

const POLICY: RetryPolicy = { count: 2, delayMs: 60_000, backoff: 1, maxDelayMs: 60_000, on: ['failed'] };
const FIRST = '11111111-0000-4000-8000-000000000001';
const OTHER = '22222222-0000-4000-8000-000000000002';

function setup(policies = new Map([['backup', POLICY]])) {
  const scheduler = new RetryScheduler({ storage: new MemoryRetryStorage(), log: aLog(), attemptStartedAt: async () => undefined, start: async () => ({ started: false, reason: 'not in this test' }) });
  const started = new Map<string, string>();
  const view = new RetryView({ scheduler, policies, attemptStartedAt: async (retryOf, attempt) => started.get(`${retryOf}#${attempt}`) });
  return { scheduler, view, started };
}

const cronWith = (extra: Partial<Cron>): Cron => ({ name: 'backup', description: '', schedule: '0 3 * * *', scheduleText: '', timezone: 'UTC', command: ['true'], estimatedDurationMs: 1000, timeoutMs: 60_000, enabled: true, paused: false, params: {}, nextRunAt: null, lastExecution: null, runningExecution: null, ...extra });

describe('the retry waiting after an attempt, as replies show it', () => {
  it('sets retry on the failed attempt it follows only: attempt, of (count + 1), when', async () => {
    const { scheduler, view } = setup();
    await scheduler.record({ cronName: 'backup', retryOf: FIRST, attempt: 2, params: {}, dueAt: new Date('2026-11-29T03:01:04.200Z') });
    const [first, completed, running] = await view.executions([
      anExecution({ id: FIRST, attempt: 1, retryOf: null }),
      anExecution({ id: OTHER, status: 'completed', errorMessage: null, attempt: 1, retryOf: null }),
      anExecution({ id: '33333333-0000-4000-8000-000000000003', status: 'running', completedAt: null, attempt: 2, retryOf: FIRST }),
    ]);
    assert.deepEqual(first.retry, { attempt: 2, of: 3, at: '2026-11-29T03:01:04.200Z' });
    assert.equal(completed.retry, null);
    assert.equal(running.retry, null, 'the retry itself, once running, waits for nothing');
    // Attempt 2 of the chain failing later: the waiting attempt 3 is its, not attempt 1's.
    await scheduler.record({ cronName: 'backup', retryOf: FIRST, attempt: 3, params: {}, dueAt: new Date('2026-11-29T03:03:00.000Z') });
    const [second] = await view.executions([anExecution({ id: '44444444-0000-4000-8000-000000000004', attempt: 2, retryOf: FIRST })]);
    assert.deepEqual(second.retry, { attempt: 3, of: 3, at: '2026-11-29T03:03:00.000Z' });
  });

  it('in the end\'s event, still says a retry follows when it already started (a short delay beat the event)', async () => {
    const { view, started } = setup();
    const attempt = anExecution({ id: FIRST, attempt: 1, retryOf: null });
    assert.equal((await view.finished(attempt)).retry, null, 'nothing waits, nothing started: the last attempt');
    started.set(`${FIRST}#2`, '2026-11-29T03:00:04.300Z');
    assert.deepEqual((await view.finished(attempt)).retry, { attempt: 2, of: 3, at: '2026-11-29T03:00:04.300Z' });
    assert.equal((await view.execution(attempt)).retry, null, 'a reply after the retry started: nothing waits');
  });

  it('puts the soonest waiting retry on its cron, and hides one a policy lowered since no longer allows (it is dropped when due)', async () => {
    const { scheduler, view } = setup(new Map([['backup', { ...POLICY, count: 1 }]]));
    await scheduler.record({ cronName: 'backup', retryOf: OTHER, attempt: 3, params: {}, dueAt: new Date('2026-11-29T04:00:00.000Z') });
    await scheduler.record({ cronName: 'backup', retryOf: FIRST, attempt: 2, params: {}, dueAt: new Date('2026-11-29T03:30:00.000Z') });
    const [cron, idle] = await view.crons([cronWith({ lastExecution: anExecution({ id: FIRST, attempt: 1, retryOf: null }) }), cronWith({ name: 'quiet' })]);
    assert.deepEqual(cron.pendingRetry, { retryOf: FIRST, attempt: 2, of: 2, at: '2026-11-29T03:30:00.000Z' });
    assert.deepEqual(cron.lastExecution?.retry, { attempt: 2, of: 2, at: '2026-11-29T03:30:00.000Z' });
    const [other] = await view.executions([anExecution({ id: '55555555-0000-4000-8000-000000000005', attempt: 2, retryOf: OTHER })]);
    assert.equal(other.retry, null, 'attempt 3 waits, but count 1 allows 2 attempts: it will not run');
    assert.equal(idle.pendingRetry, null);
    await scheduler.cancel('backup', 'a manual run started');
    assert.equal((await view.crons([cronWith({})]))[0].pendingRetry, null, 'cancelled: nothing waits');
  });
});
