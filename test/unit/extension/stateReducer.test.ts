import { strict as assert } from 'node:assert';
import { applyEventsToSnapshot, applyExecution, diffCrons, withoutWaitingRetries, endedBetween, isStuck, markStuck, replaceCron, upsertHistory } from '../../../src/extension/stateReducer';
import { aCron, anExecution } from './builders';

describe('state from events', () => {
  it('a started execution becomes the running and the last one', () => {
    const running = anExecution({ status: 'running', startedAt: '2026-02-14T15:30:00.000Z', completedAt: null, durationMs: null });
    const crons = [aCron({ name: 'other' }), aCron({ lastExecution: anExecution() })];
    const result = applyExecution(crons, running);
    assert.equal(result.changed, true);
    assert.equal(result.crons[1].runningExecution, running);
    assert.equal(result.crons[1].lastExecution, running);
    assert.equal(result.crons[0], crons[0], 'other crons keep their identity');
  });

  it('a finished execution clears the running one and stays the last', () => {
    const running = anExecution({ status: 'running', startedAt: '2026-02-14T15:30:00.000Z' });
    const finished = { ...running, status: 'failed' as const, durationMs: 900, errorMessage: 'Exit code 1' };
    const result = applyExecution([aCron({ lastExecution: running, runningExecution: running })], finished);
    assert.equal(result.crons[0].runningExecution, null);
    assert.equal(result.crons[0].lastExecution, finished);
  });

  it('an older execution does not replace a newer last one', () => {
    const newer = anExecution({ startedAt: '2026-02-14T16:00:00.000Z' });
    const older = anExecution({ startedAt: '2026-02-14T15:00:00.000Z', status: 'failed' });
    const result = applyExecution([aCron({ lastExecution: newer })], older);
    assert.equal(result.changed, false);
    assert.equal(result.crons[0].lastExecution, newer);
  });

  it('a reload read before a run ended does not bring the run back: the end that arrived meanwhile wins', () => {
    const running = anExecution({ status: 'running', startedAt: '2026-02-14T15:30:00.000Z', completedAt: null, durationMs: null });
    const ended = { ...running, status: 'completed' as const, durationMs: 120 };
    const staleSnapshot = [aCron({ lastExecution: running, runningExecution: running })];
    const crons = applyEventsToSnapshot(staleSnapshot, [ended]);
    assert.equal(crons[0].runningExecution, null);
    assert.equal(crons[0].lastExecution, ended);
  });

  it('a start that arrived during a reload does not undo an end the reload already has', () => {
    const running = anExecution({ status: 'running', startedAt: '2026-02-14T15:30:00.000Z', completedAt: null, durationMs: null });
    const ended = { ...running, status: 'failed' as const, durationMs: 80 };
    const freshSnapshot = [aCron({ lastExecution: ended, runningExecution: null })];
    const crons = applyEventsToSnapshot(freshSnapshot, [running]);
    assert.equal(crons, freshSnapshot);
  });

  it('a history whose retry the server dropped no longer shows it waiting; a history without one is kept as is', () => {
    const failed = anExecution({ status: 'failed', retry: { attempt: 2, of: 3, at: '2026-02-14T15:31:00.000Z' } });
    const other = anExecution({ status: 'completed' });
    const cleared = withoutWaitingRetries([failed, other]);
    assert.equal(cleared[0].retry, null);
    assert.equal(cleared[1], other);
    const plain = [other];
    assert.equal(withoutWaitingRetries(plain), plain);
  });

  it('an execution of an unknown cron asks for a reload', () => {
    const result = applyExecution([aCron()], anExecution({ cronName: 'new-cron' }));
    assert.deepEqual({ known: result.known, changed: result.changed }, { known: false, changed: false });
  });

  it('keeps a cron\'s history newest first, replaced by id, capped', () => {
    const a = anExecution({ startedAt: '2026-02-14T15:00:00.000Z' });
    const b = anExecution({ startedAt: '2026-02-14T15:10:00.000Z', status: 'running' });
    const c = anExecution({ startedAt: '2026-02-14T15:20:00.000Z' });
    let history = upsertHistory([], a, 2);
    history = upsertHistory(history, b, 2);
    assert.deepEqual(history.map((execution) => execution.id), [b.id, a.id]);
    history = upsertHistory(history, { ...b, status: 'completed' }, 2);
    assert.equal(history[0].status, 'completed');
    history = upsertHistory(history, c, 2);
    assert.deepEqual(history.map((execution) => execution.id), [c.id, b.id]);
  });

  it('flags a run past its timeout as stuck', () => {
    const started = Date.parse('2026-02-14T15:00:00.000Z');
    const running = anExecution({ status: 'running', startedAt: new Date(started).toISOString() });
    assert.equal(isStuck(running, 60_000, started + 30_000), false);
    assert.equal(isStuck(running, 60_000, started + 61_000), true);
    const crons = [aCron({ timeoutMs: 60_000, runningExecution: running, lastExecution: running })];
    assert.deepEqual(markStuck(crons, started + 30_000).changed, []);
    const marked = markStuck(crons, started + 61_000);
    assert.deepEqual(marked.changed, ['monitor-openai']);
    assert.equal(marked.crons[0].runningExecution?.stuck, true);
    assert.equal(marked.crons[0].lastExecution?.stuck, true);
  });

  it('notices runs that ended while events were missed', () => {
    const running = anExecution({ status: 'running' });
    const before = [aCron({ runningExecution: running, lastExecution: running })];
    const ended = { ...running, status: 'completed' as const };
    assert.deepEqual(endedBetween(before, [aCron({ lastExecution: ended })]), [ended]);
    assert.deepEqual(endedBetween(before, [aCron({ lastExecution: anExecution() })]), [], 'another run since: its outcome is unknown');
  });

  it('replaces a cron after pause and diffs lists by name', () => {
    const crons = [aCron({ name: 'a' }), aCron({ name: 'b' })];
    const paused = aCron({ name: 'b', paused: true });
    const replaced = replaceCron(crons, paused);
    assert.equal(replaced[1], paused);
    assert.equal(replaceCron(crons, aCron({ name: 'zzz' })), crons);
    assert.deepEqual(diffCrons(crons, replaced), { changed: ['b'], structural: false });
    assert.deepEqual(diffCrons(crons, [crons[0]]), { changed: ['a'], structural: true });
  });
});
