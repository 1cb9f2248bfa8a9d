import { strict as assert } from 'node:assert';
import type { AlertMessage } from '../../../../src/shared/alerts';
import type { AlertSettings, RetryPolicy } from '../../../../src/server/alerts/alertConfig';
import { Alerting } from '../../../../src/server/alerts/alerting';
import type { PastRun } from '../../../../src/server/alerts/alertRules';
import { MemoryDeliveryStorage } from '../../../../src/server/alerts/deliveryStorage';
import { MemoryRetryStorage, RetryScheduler, type ScheduledRetry } from '../../../../src/server/alerts/retryScheduler';
import { RunOutcomes } from '../../../../src/server/alerts/runOutcomes';
import type { Query } from '../../../../src/server/store/db';
import type { Sender } from '../../../../src/server/alerts/sender';
import { waitFor } from '../../../support/waitFor';
import { aLog, aRun, anExecution } from './builders';

const POLICY: RetryPolicy = { count: 2, delayMs: 20, backoff: 2, maxDelayMs: 1000, on: ['failed', 'timeout'] };

/** RunOutcomes with in-memory storage, a sender that records messages, and a start that records retries. */
function setup(history: PastRun[] = []) {
  const log = aLog();
  const sent: AlertMessage[] = [];
  const started: ScheduledRetry[] = [];
  const sender: Sender = { send: async (message) => void sent.push(message) };
  const settings: AlertSettings = {
    destinations: [{ name: 'ops', type: 'slack', url: 'http://127.0.0.1:9/' }],
    rules: [{ on: ['failed', 'timeout', 'recovered', 'stuck', 'missed'], to: ['ops'], crons: null }],
    delivery: { attempts: 1, delayMs: 10, backoff: 1, maxDelayMs: 10, timeoutMs: 1000 },
  };
  const alerting = new Alerting({ settings, storage: new MemoryDeliveryStorage(), runnerId: 'host-a', log, senders: new Map([['ops', sender]]) });
  const retryStorage = new MemoryRetryStorage();
  const scheduler = new RetryScheduler({
    storage: retryStorage,
    log,
    pollMs: 50,
    attemptStartedAt: async () => undefined,
    start: async (retry) => {
      started.push(retry);
      return { started: true, executionId: `run-${retry.attempt}` };
    },
  });
  const outcomes = new RunOutcomes({ retries: new Map([['backup', POLICY]]), scheduler, alerting, history: async () => history, attempt: async () => undefined, log });
  alerting.start();
  scheduler.start();
  return { outcomes, sent, started, retryStorage, scheduler, alerting, log, stop: () => Promise.all([alerting.stop(), scheduler.stop()]) };
}

describe('run outcomes', function () {
  this.timeout(20_000);
  let stop: (() => Promise<unknown>) | undefined;
  afterEach(async () => stop?.());

  it('schedules a retry of a failed run, linked to the first attempt, and alerts only when the last attempt fails', async () => {
    const env = setup();
    stop = env.stop;
    await env.outcomes.ended(anExecution());
    await waitFor(() => env.started.length === 1, 'the first retry to start');
    assert.deepEqual({ ...env.started[0], dueAt: undefined }, { cronName: 'backup', retryOf: aRun().id, attempt: 2, params: { batchSize: 10 }, dueAt: undefined });
    assert.equal(env.sent.length, 0, 'no alert while a retry is pending');

    await env.outcomes.ended(anExecution({ id: 'second', attempt: 2, retryOf: aRun().id, errorMessage: 'Timeout: still running after 500 ms' }));
    await waitFor(() => env.started.length === 2, 'the second retry to start');
    assert.deepEqual([env.started[1].attempt, env.started[1].retryOf], [3, aRun().id]);

    await env.outcomes.ended(anExecution({ id: 'third', attempt: 3, retryOf: aRun().id }));
    await waitFor(() => env.sent.length === 1, 'the failure alert');
    assert.equal(env.sent[0].summary, 'backup failed after 3 attempts: Exited with code 1: disk full');
    assert.deepEqual(await env.retryStorage.pending(), [], 'count 2: no fourth attempt');
  });

  it('neither retries nor alerts a run a person ended', async () => {
    const env = setup();
    stop = env.stop;
    await env.outcomes.ended(anExecution({ errorMessage: 'wrong data, stopping it' }), true);
    await env.outcomes.ended(anExecution({ id: 'c', status: 'cancelled', errorMessage: null }));
    assert.deepEqual(await env.retryStorage.pending(), []);
    assert.ok(env.log.lines.every((line) => !line.includes('[Alerts]')));
  });

  it('announces the first success after a failed chain as recovered', async () => {
    const env = setup([{ id: 'before', status: 'failed', errorMessage: 'Exited with code 1', retryOf: null }]);
    stop = env.stop;
    await env.outcomes.ended(anExecution({ status: 'completed', errorMessage: null, exitCode: 0 }));
    await waitFor(() => env.sent.length === 1, 'the recovered alert');
    assert.equal(env.sent[0].event, 'recovered');
  });

  it('drops the retries waiting after failures that started before a success, not one after it', async () => {
    const storage = new MemoryRetryStorage();
    const log = aLog();
    const failedAt = new Map([['old', '2026-11-29T03:00:00.000Z'], ['new', '2026-11-29T03:10:00.000Z']]);
    const scheduler = new RetryScheduler({ storage, log, attemptStartedAt: async (retryOf) => failedAt.get(retryOf), start: async () => ({ started: false, reason: 'not in this test' }) });
    const dueAt = new Date(Date.now() + 600_000);
    await scheduler.record({ cronName: 'backup', retryOf: 'old', attempt: 2, params: {}, dueAt });
    await scheduler.record({ cronName: 'backup', retryOf: 'new', attempt: 2, params: {}, dueAt });
    await scheduler.record({ cronName: 'report', retryOf: 'other', attempt: 2, params: {}, dueAt });
    const dropped = await scheduler.dropBeforeSuccess('backup', { id: 'ok-run', startedAt: '2026-11-29T03:05:00.000Z' });
    assert.deepEqual(dropped.map((retry) => retry.retryOf), ['old']);
    assert.deepEqual((await scheduler.pending()).map((retry) => retry.retryOf).sort(), ['new', 'other']);
    assert.ok(log.lines.some((line) => line.includes('[Retry] backup: attempt 2 dropped: a later run of backup succeeded')));
  });

  it('does not start a claimed retry that a success dropped before its run was inserted, nor alert for it', async () => {
    const storage = new MemoryRetryStorage();
    const log = aLog();
    const inserted: ScheduledRetry[] = [];
    const droppedWhy: string[] = [];
    const scheduler = new RetryScheduler({
      storage,
      log,
      pollMs: 20,
      attemptStartedAt: async () => undefined,
      dropped: async (_retry, why) => void droppedWhy.push(why),
      start: async (retry, doneWith) => {
        // A success on another instance drops it between the claim and the insert.
        await storage.done(retry.retryOf, retry.attempt);
        // The memory storage takes no transaction: an empty stand-in.
        await doneWith({} as Query);
        inserted.push(retry);
        return { started: true, executionId: 'never' };
      },
    });
    stop = () => scheduler.stop();
    scheduler.start();
    await scheduler.schedule({ cronName: 'backup', retryOf: 'first', attempt: 2, params: {}, dueAt: new Date() });
    await waitFor(() => log.lines.some((line) => line.includes('[Retry] backup: attempt 2 not started: it was dropped meanwhile')), 'the claimed retry given up');
    assert.deepEqual([inserted, droppedWhy], [[], []]);
  });

  it('cancels the waiting retry when a manual run starts', async () => {
    const env = setup();
    stop = env.stop;
    const slow = { ...POLICY, delayMs: 60_000, maxDelayMs: 60_000 };
    const outcomes = new RunOutcomes({ retries: new Map([['backup', slow]]), scheduler: env.scheduler, alerting: env.alerting, history: async () => [], attempt: async () => undefined, log: env.log });
    await outcomes.ended(anExecution());
    assert.deepEqual((await env.scheduler.pending()).map((retry) => [retry.cronName, retry.attempt]), [['backup', 2]]);
    await outcomes.manualRunStarted('backup', 'manual-1');
    assert.deepEqual(await env.scheduler.pending(), []);
    assert.ok(env.log.lines.some((line) => line.includes('[Retry] backup: attempt 2 cancelled: manual run manual-1 started')));
    assert.equal(env.started.length, 0);
  });

  it('announces a stuck run once, and the ticks skipped behind one run once, however often they are noticed', async () => {
    const env = setup();
    stop = env.stop;
    const running = anExecution({ status: 'running', errorMessage: null, startedAt: new Date(Date.now() - 120_000).toISOString(), durationMs: null });
    env.outcomes.stuck(running, 60_000);
    env.outcomes.stuck(running, 60_000);
    const tick = new Date('2026-11-29T08:00:00Z');
    env.outcomes.missed('backup', tick, 'stillRunning', { runningExecutionId: running.id });
    env.outcomes.missed('backup', new Date(tick.getTime() + 1000), 'stillRunning', { runningExecutionId: running.id });
    await waitFor(() => env.sent.length === 2, 'two alerts');
    assert.deepEqual(env.sent.map((message) => message.event).sort(), ['missed', 'stuck']);
    assert.match(env.sent.find((message) => message.event === 'stuck')!.summary, /^backup is stuck: running for 2 min( \d sec)?, past its timeout of 1 min; Mark as Failed ends it$/);
  });

  it('adds a retry once even when two instances plan it', async () => {
    const storage = new MemoryRetryStorage();
    const retry = { cronName: 'backup', retryOf: 'first', attempt: 2, params: {}, dueAt: new Date(Date.now() + 60_000) };
    assert.equal(await storage.add(retry), true);
    assert.equal(await storage.add(retry), false);
    assert.equal((await storage.pending()).length, 1);
  });
});
