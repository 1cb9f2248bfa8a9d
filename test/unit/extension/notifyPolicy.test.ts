import { strict as assert } from 'node:assert';
import { MANUAL_FAILURE_REASON } from '../../../src/shared/api';
import { attemptNote, isFailure, isMine, parseNotifyMode, shouldNotify, UnseenFailures } from '../../../src/extension/notifyPolicy';
import { anExecution } from './builders';

describe('which finished runs notify (cronOps.notify)', () => {
  const completed = anExecution({ status: 'completed' });
  const failed = anExecution({ status: 'failed', exitCode: 1, errorMessage: 'Exited with code 1' });
  const timedOut = anExecution({ status: 'failed', errorMessage: 'Timeout: ended after 60 sec' });
  const cancelled = anExecution({ status: 'cancelled' });
  const markedFailed = anExecution({ status: 'failed', errorMessage: MANUAL_FAILURE_REASON });

  it('mine: the end of every run of mine, and nothing else', () => {
    for (const run of [completed, failed, cancelled]) {
      assert.equal(shouldNotify(run, 'mine', true), true, run.status);
      assert.equal(shouldNotify(run, 'mine', false), false, run.status);
    }
  });

  it('failures: every failure on the server, plus the end of my own runs', () => {
    assert.equal(shouldNotify(failed, 'failures', false), true);
    assert.equal(shouldNotify(timedOut, 'failures', false), true);
    assert.equal(shouldNotify(completed, 'failures', false), false);
    assert.equal(shouldNotify(cancelled, 'failures', false), false);
    assert.equal(shouldNotify(completed, 'failures', true), true);
  });

  it('a run a person marked as failed is not a failure to announce to others', () => {
    assert.equal(isFailure(markedFailed), false);
    assert.equal(shouldNotify(markedFailed, 'failures', false), false);
    assert.equal(shouldNotify(markedFailed, 'mine', true), true);
  });

  it('all: every end; off: none, not even mine; a running run never', () => {
    for (const run of [completed, failed, cancelled]) {
      assert.equal(shouldNotify(run, 'all', false), true);
      assert.equal(shouldNotify(run, 'off', true), false);
    }
    assert.equal(shouldNotify(anExecution({ status: 'running' }), 'all', true), false);
  });

  it('an unknown value of the setting reads as the default, mine', () => {
    assert.equal(parseNotifyMode('failures'), 'failures');
    assert.equal(parseNotifyMode('everything'), 'mine');
    assert.equal(parseNotifyMode(undefined), 'mine');
  });
});

describe('whose run is mine', () => {
  it('a run triggered from this window, and the retries of it; not a scheduled run or another window\'s', () => {
    const first = anExecution({ status: 'failed', triggerType: 'manual' });
    const retry = anExecution({ status: 'failed', triggerType: 'scheduled', triggeredBy: 'retry', attempt: 2, retryOf: first.id });
    const scheduled = anExecution({ triggerType: 'scheduled', triggeredBy: null, attempt: 1, retryOf: null });
    const startedHere = new Set([first.id]);
    assert.equal(isMine(first, startedHere), true);
    assert.equal(isMine(retry, startedHere), true);
    assert.equal(isMine(scheduled, startedHere), false);
    assert.equal(isMine(anExecution({ triggerType: 'manual', triggeredBy: 'token:alice' }), startedHere), false);
  });
});

describe('how a retry reads', () => {
  it('a first run says nothing; a retry says its attempt and the run it retries', () => {
    assert.equal(attemptNote(anExecution({ attempt: 1, retryOf: null })), undefined);
    assert.equal(attemptNote(anExecution({})), undefined, 'a server without retries');
    assert.equal(attemptNote(anExecution({ attempt: 2, retryOf: '1a2b3c4d-0000-4000-8000-000000000000' })), 'attempt 2, retry of 1a2b3c4d');
  });
});

describe('unseen failures', () => {
  it('counts one per retry chain, clears a chain on Show Logs of any of its runs, and all on the dashboard', () => {
    const unseen = new UnseenFailures();
    const first = anExecution({ status: 'failed' });
    const retry = anExecution({ status: 'failed', attempt: 2, retryOf: first.id });
    const other = anExecution({ status: 'failed', cronName: 'backup' });
    assert.equal(unseen.add(first), true);
    assert.equal(unseen.add(first), false, 'the same run twice');
    assert.equal(unseen.add(retry), true);
    assert.equal(unseen.add(other), true);
    assert.equal(unseen.count, 2);
    assert.equal(unseen.seen(first.id), true, 'Show Logs of the first attempt');
    assert.equal(unseen.count, 1);
    assert.equal(unseen.seen(first.id), false);
    assert.equal(unseen.clear(), true);
    assert.equal(unseen.count, 0);
    assert.equal(unseen.clear(), false);
  });
});
