// How a waiting retry reads in the extension: the tree's "retry 2/3 at …", the notification of an attempt the
// server will retry and of the last one, who is told under each cronOps.notify mode, and the state that
// forgets a waiting retry once the run that takes its place starts.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cronDescription, executionDescription, finishedNotice, retryWaiting, type Translate } from '../../../src/extension/format';
import { isFinalFailure, shouldNotify } from '../../../src/extension/notifyPolicy';
import { applyExecution, upsertHistory } from '../../../src/extension/stateReducer';
import type { Execution, NextRetry } from '../../../src/shared/api';
import { aCron, anExecution } from './builders';

const FIRST = '1a2b3c4d-0000-4000-8000-000000000001';
// The expected clock times are formatted the same way, in the machine's zone.
const AT = '2026-02-14T04:12:30.000Z';
const RETRY: NextRetry = { attempt: 2, of: 3, at: AT };
const clock = (locale: string) => new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit', second: '2-digit' }).format(Date.parse(AT));

function frenchBundle(): Record<string, string> {
  let dir = __dirname;
  while (!existsSync(join(dir, 'media/l10n/bundle.l10n.fr.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return JSON.parse(readFileSync(join(dir, 'media/l10n/bundle.l10n.fr.json'), 'utf8')) as Record<string, string>;
}
const french = frenchBundle();
const inFrench: Translate = (message, ...args) => (french[message] ?? `MISSING: ${message}`).replace(/\{(\d+)\}/g, (_, index: string) => String(args[Number(index)]));

const failedAttempt = (extra: Partial<Execution> = {}) =>
  anExecution({ id: FIRST, cronName: 'billing-sync', status: 'failed', startedAt: '2026-02-14T04:11:58.000Z', completedAt: '2026-02-14T04:11:59.631Z', exitCode: 2, errorMessage: 'Exited with code 2', attempt: 1, retryOf: null, retry: RETRY, ...extra });

describe('a waiting retry in the extension', () => {
  it('reads "retry 2/3 at <time>" in the display language, in the tree rows of the cron and of the attempt', () => {
    assert.equal(retryWaiting(RETRY, undefined, 'en'), `retry 2/3 at ${clock('en')}`);
    assert.equal(retryWaiting(RETRY, inFrench, 'fr'), `nouvelle tentative 2/3 à ${clock('fr')}`);
    const cron = aCron({ name: 'billing-sync', lastExecution: failedAttempt(), pendingRetry: { retryOf: FIRST, ...RETRY } });
    assert.match(cronDescription(cron, Date.parse(AT)), new RegExp(`^failed · 1\\.6 sec · .+ · retry 2/3 at ${clock('en')}$`));
    assert.match(executionDescription(failedAttempt(), Date.parse(AT)), new RegExp(` · retry 2/3 at ${clock('en')}$`));
    assert.doesNotMatch(cronDescription(aCron({ pendingRetry: null }), Date.parse(AT)), /retry/);
  });

  it('notifies an attempt the server will retry with its number and when, and the last one with how many were made', () => {
    const summary = 'billing-sync failed in 1.6 sec: Exited with code 2';
    assert.equal(finishedNotice(failedAttempt(), summary), `${summary} (attempt 1 of 3); retrying at ${clock('en')}`);
    assert.equal(finishedNotice(failedAttempt({ attempt: 2, retryOf: FIRST, retry: { attempt: 3, of: 3, at: AT } }), summary), `${summary} (attempt 2 of 3); retrying at ${clock('en')}`);
    assert.equal(finishedNotice(failedAttempt({ attempt: 3, retryOf: FIRST, retry: null }), summary), `${summary} (after 3 attempts)`);
    assert.equal(finishedNotice(failedAttempt({ attempt: 3, retryOf: FIRST, retry: null }), summary, inFrench, 'fr'), `${summary} (après 3 tentatives)`);
    assert.equal(finishedNotice(failedAttempt(), summary, inFrench, 'fr'), `${summary} (tentative 1 sur 3) ; nouvelle tentative à ${clock('fr')}`);
    // A retry that succeeded, and a first run that failed with nothing to follow: as before.
    assert.equal(finishedNotice(anExecution({ status: 'completed', attempt: 2, retryOf: FIRST }), 'billing-sync completed in 1.6 sec'), 'billing-sync completed in 1.6 sec (attempt 2, retry of 1a2b3c4d)');
    assert.equal(finishedNotice(failedAttempt({ retry: null }), summary), summary);
  });

  it('keeps someone else\'s attempt that will be retried quiet under "failures" until the last one fails; the one who triggered it hears each', () => {
    const waiting = failedAttempt();
    const last = failedAttempt({ attempt: 3, retryOf: FIRST, retry: null });
    assert.equal(isFinalFailure(waiting), false);
    assert.equal(isFinalFailure(last), true);
    assert.equal(shouldNotify(waiting, 'failures', false), false);
    assert.equal(shouldNotify(last, 'failures', false), true);
    assert.equal(shouldNotify(waiting, 'failures', true), true);
    assert.equal(shouldNotify(waiting, 'mine', true), true);
    assert.equal(shouldNotify(waiting, 'all', false), true);
    assert.equal(shouldNotify(waiting, 'mine', false), false);
  });

  it('forgets the waiting retry once the retry starts, or once a manual run replaces it; a scheduled tick does not', () => {
    const attempt = failedAttempt();
    const [cron] = applyExecution([aCron({ name: 'billing-sync', lastExecution: null, runningExecution: null, pendingRetry: null })], attempt).crons;
    assert.deepEqual(cron.pendingRetry, { retryOf: FIRST, ...RETRY });
    const later = (extra: Partial<Execution>) => anExecution({ cronName: 'billing-sync', status: 'running', startedAt: '2026-02-14T04:12:31.000Z', completedAt: null, durationMs: null, exitCode: null, ...extra });

    const tick = later({ triggerType: 'scheduled', triggeredBy: 'scheduler', attempt: 1, retryOf: null });
    const [afterTick] = applyExecution([cron], tick).crons;
    assert.deepEqual(afterTick.pendingRetry, cron.pendingRetry, 'a scheduled tick does not cancel the retry');

    for (const started of [later({ triggerType: 'scheduled', triggeredBy: 'retry', attempt: 2, retryOf: FIRST }), later({ triggerType: 'manual', attempt: 1, retryOf: null })]) {
      const [after] = applyExecution([cron], started).crons;
      assert.equal(after.pendingRetry, null, `${started.triggeredBy} takes the retry's place`);
      const history = upsertHistory([attempt], started, 10);
      assert.deepEqual(history.map((run) => [run.id, run.retry ?? null]), [[started.id, null], [FIRST, null]], 'the attempt row no longer shows the retry');
    }
  });
});
