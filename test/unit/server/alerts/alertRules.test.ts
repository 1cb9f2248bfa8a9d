import { strict as assert } from 'node:assert';
import type { AlertRule } from '../../../../src/server/alerts/alertConfig';
import { alertEventFor, buildAlert, destinationsFor, previousChainFailed, type Transition } from '../../../../src/server/alerts/alertRules';
import { missedTicks } from '../../../../src/server/alerts/missedTicks';
import { missedWhileDown, stuckToAnnounce } from '../../../../src/server/alerts/watches';
import { aRun, anExecution } from './builders';

const CONTEXT = { id: 'alert-1', runnerId: 'host-a', now: new Date('2026-11-29T03:00:05.000Z') };

function ended(overrides: Partial<Extract<Transition, { kind: 'ended' }>> = {}): Transition {
  return { kind: 'ended', execution: aRun(), cause: 'failed', retryPending: false, previousChainFailed: false, ...overrides };
}

describe('alert rules', () => {
  it('raises failed and timeout only when no retry is pending', () => {
    assert.equal(alertEventFor(ended()), 'failed');
    assert.equal(alertEventFor(ended({ retryPending: true })), undefined);
    assert.equal(alertEventFor(ended({ cause: 'timeout' })), 'timeout');
    assert.equal(alertEventFor(ended({ cause: 'timeout', retryPending: true })), undefined);
    assert.equal(alertEventFor(ended({ cause: 'interrupted' })), 'failed');
  });

  it('stays quiet when a person ended the run', () => {
    assert.equal(alertEventFor(ended({ cause: 'operator' })), undefined);
  });

  it('raises recovered on the first success after a failed chain, and nothing on an ordinary success', () => {
    const success = aRun({ status: 'completed', errorMessage: null });
    assert.equal(alertEventFor(ended({ execution: success, cause: 'completed', previousChainFailed: true })), 'recovered');
    assert.equal(alertEventFor(ended({ execution: success, cause: 'completed' })), undefined);
  });

  it('raises stuck and missed', () => {
    assert.equal(alertEventFor({ kind: 'stuck', execution: aRun({ status: 'running', errorMessage: null }), timeoutMs: 60_000 }), 'stuck');
    assert.equal(alertEventFor({ kind: 'missed', cronName: 'backup', tickAt: new Date(), reason: 'stillRunning' }), 'missed');
  });

  it('sends the held-back failed or timeout alert when the retry is dropped without running, saying why', () => {
    const dropped = buildAlert({ kind: 'retryDropped', execution: aRun({ attempt: 2, retryOf: 'first' }), nextAttempt: 3, reason: 'its schedule is paused' }, CONTEXT)!;
    assert.deepEqual([dropped.event, dropped.attempt, dropped.retryOf], ['failed', 2, 'first']);
    assert.equal(dropped.summary, 'backup failed after 2 attempts: Exited with code 1: disk full; its retry (attempt 3) did not run: its schedule is paused');
    const timedOut = aRun({ errorMessage: 'Timeout: ended after 1 min' });
    assert.equal(alertEventFor({ kind: 'retryDropped', execution: timedOut, nextAttempt: 2, reason: 'the cron is no longer in the config' }), 'timeout');
  });

  it('reads the last chain before this one: skipping this chain and runs a person ended', () => {
    const current = { id: 'c3', retryOf: 'c1' };
    const history = [
      { id: 'c2', status: 'failed' as const, errorMessage: 'Exited with code 1', retryOf: 'c1' },
      { id: 'c1', status: 'failed' as const, errorMessage: 'Exited with code 1', retryOf: null },
      { id: 'x', status: 'cancelled' as const, errorMessage: null, retryOf: null },
      { id: 'b2', status: 'completed' as const, errorMessage: null, retryOf: 'b1' },
      { id: 'b1', status: 'failed' as const, errorMessage: 'Exited with code 1', retryOf: null },
    ];
    assert.equal(previousChainFailed(current, history), false, 'the chain before succeeded on its retry');
    assert.equal(previousChainFailed({ id: 'd1', retryOf: null }, [{ id: 'c3', status: 'failed', errorMessage: 'Timeout: still running', retryOf: 'c1' }, ...history]), true);
    assert.equal(previousChainFailed({ id: 'd1', retryOf: null }, []), false);
  });

  it('sends to every matching rule, global or per cron, each destination once', () => {
    const rules: AlertRule[] = [
      { on: ['failed', 'timeout'], to: ['ops', 'team'], crons: null },
      { on: ['failed'], to: ['oncall', 'ops'], crons: ['backup'] },
      { on: ['missed'], to: ['team'], crons: ['report'] },
    ];
    assert.deepEqual(destinationsFor(rules, 'backup', 'failed'), ['ops', 'team', 'oncall']);
    assert.deepEqual(destinationsFor(rules, 'report', 'failed'), ['ops', 'team']);
    assert.deepEqual(destinationsFor(rules, 'backup', 'missed'), []);
    assert.deepEqual(destinationsFor(rules, 'report', 'missed'), ['team']);
  });

  it('builds a message that says what happened in one line', () => {
    const failed = buildAlert(ended({ execution: aRun({ attempt: 3, retryOf: 'first' }) }), CONTEXT)!;
    assert.equal(failed.summary, 'backup failed after 3 attempts: Exited with code 1: disk full');
    assert.deepEqual([failed.event, failed.executionId, failed.attempt, failed.retryOf, failed.runnerId, failed.test], ['failed', aRun().id, 3, 'first', 'host-a', false]);
    const recovered = buildAlert(ended({ execution: aRun({ status: 'completed', errorMessage: null, durationMs: 4200 }), cause: 'completed', previousChainFailed: true }), CONTEXT)!;
    assert.equal(recovered.summary, 'backup recovered: completed in 4.2 sec after failing before');
    const missed = buildAlert({ kind: 'missed', cronName: 'report', tickAt: new Date('2026-11-29T08:00:00Z'), reason: 'serverDown', laterTicks: 2 }, CONTEXT)!;
    assert.equal(missed.summary, 'report did not run at 2026-11-29T08:00:00.000Z (nor at 2 later ticks): no server was running to start it');
    assert.equal(missed.tickAt, '2026-11-29T08:00:00.000Z');
    const skipped = buildAlert({ kind: 'missed', cronName: 'report', tickAt: new Date('2026-11-29T08:00:00Z'), reason: 'stillRunning', runningExecutionId: 'r1' }, CONTEXT)!;
    assert.equal(skipped.summary, 'report did not run at 2026-11-29T08:00:00.000Z: the previous run r1 was still running');
    assert.equal(skipped.executionId, 'r1');
    assert.equal(buildAlert(ended({ retryPending: true }), CONTEXT), undefined);
  });

  it('counts the ticks nobody ran while every server was down', () => {
    const missed = missedTicks('*/15 * * * *', 'UTC', new Date('2026-11-29T08:00:00Z'), new Date('2026-11-29T09:00:00Z'));
    assert.deepEqual(missed, { first: new Date('2026-11-29T08:15:00Z'), later: 2 });
    assert.equal(missedTicks('0 3 * * *', 'UTC', new Date('2026-11-29T08:00:00Z'), new Date('2026-11-29T09:00:00Z')), undefined);
    assert.deepEqual(missedTicks('* * * * * *', 'UTC', new Date('2026-11-29T08:00:00Z'), new Date('2026-11-30T08:00:00Z'), 50), { first: new Date('2026-11-29T08:00:01Z'), later: 50 });
  });
});

describe('alert watches', () => {
  it('announces as stuck only runs past their timeout that no runner here will end', () => {
    const external = anExecution({ id: 'ext', status: 'running', errorMessage: null, stuck: true });
    const local = anExecution({ id: 'local', status: 'running', errorMessage: null, stuck: true });
    const young = anExecution({ id: 'young', status: 'running', errorMessage: null, stuck: false });
    assert.deepEqual(stuckToAnnounce([external, local, young], (id) => id === 'local').map((run) => run.id), ['ext']);
  });

  it('finds the ticks missed while no server ran, skipping paused, disabled and never-run crons', () => {
    const crons = [
      { name: 'quarter', schedule: '*/15 * * * *', timezone: 'UTC', enabled: true },
      { name: 'paused', schedule: '*/15 * * * *', timezone: 'UTC', enabled: true },
      { name: 'off', schedule: '*/15 * * * *', timezone: 'UTC', enabled: false },
      { name: 'new', schedule: '*/15 * * * *', timezone: 'UTC', enabled: true },
      { name: 'daily', schedule: '0 3 * * *', timezone: 'UTC', enabled: true },
    ];
    const last = new Date('2026-11-29T08:00:00Z');
    const lastTicks = new Map([['quarter', last], ['paused', last], ['off', last], ['daily', new Date('2026-11-29T03:00:00Z')]]);
    assert.deepEqual(missedWhileDown(crons, lastTicks, new Set(['paused']), new Date('2026-11-29T08:50:00Z')), [
      { cronName: 'quarter', missed: { first: new Date('2026-11-29T08:15:00Z'), later: 2 } },
    ]);
  });
});
