// A failed attempt the server will retry, as an operator watching every failure (`cronOps.notify: failures`)
// meets it: no failure notification and nothing unseen while the retry waits, the tree saying "retry 2/3 at …"
// on the cron and in its tooltip, then one notification when the last attempt fails, "after 3 attempts".
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { Execution } from '../../src/shared/api';
import type { CronOpsApi } from '../../src/extension/extension';
import { triggerOk } from '../support/http';
import { nodeCron, startServer, writeConfig, type ServerProcess } from '../support/serverProcess';
import { connectTo, cronOpsApi, cronRow, disconnect, setSetting, tooltipText, until, untilRead } from './cronOpsTestKit';

const FAILING = "console.error('ledger locked'); process.exit(2)";

describe('A failed attempt with a retry waiting', () => {
  let server: ServerProcess;
  let api: CronOpsApi;
  const notified: Array<{ execution: Execution; summary: string }> = [];
  const finished: Execution[] = [];
  const subscriptions: vscode.Disposable[] = [];

  before(async () => {
    const config = {
      rateLimits: { perCronSeconds: 0, globalPerMinute: 100 },
      // Long enough a wait to read the tree while the retry waits, even on a loaded machine.
      crons: [{ ...nodeCron('billing-sync', FAILING, { estimatedDurationMs: 100 }), retries: { count: 2, delayMs: 3000, backoff: 1, on: ['failed'] } }],
    };
    [server, api] = await Promise.all([startServer({ config: writeConfig(JSON.stringify(config)) }), cronOpsApi()]);
    await setSetting('notify', 'failures');
    // A dashboard left open by another suite would count as looking at the failures.
    api.dashboard.panel?.dispose();
    subscriptions.push(
      api.notifications.onDidNotify((announced) => notified.push(announced)),
      api.state.onExecutionFinished((execution) => finished.push(execution)),
    );
    await connectTo(api, server, 1);
  });

  after(async () => {
    for (const subscription of subscriptions) subscription.dispose();
    await setSetting('notify', undefined);
    await disconnect();
    await server?.stop();
  });

  it('is not announced as a failure under "failures"; the tree shows the retry waiting; the last attempt is announced "after 3 attempts"', async () => {
    const unseenBefore = api.notifications.unseenCount;
    // Triggered by someone else (over HTTP, not from this window): only `failures` makes it this window's business.
    const first = await triggerOk(server, 'billing-sync');
    // The notifications decide in the same turn as the finished event, and subscribed before this test did.
    const attempt = await until(api.state.onExecutionFinished, () => finished.find((run) => run.id === first), 'the first attempt to end', 60_000);
    assert.equal(attempt.status, 'failed');
    assert.deepEqual({ attempt: attempt.retry?.attempt, of: attempt.retry?.of }, { attempt: 2, of: 3 }, 'the server says a retry waits');
    assert.equal(notified.find(({ execution }) => execution.id === first), undefined, 'no failure notification while a retry waits');
    assert.equal(api.notifications.unseenCount, unseenBefore, 'not counted as an unseen failure while a retry waits');

    const row = await untilRead(api.state.onDidChangeCrons, () => cronRow(api, 'billing-sync'), (current) => /retry 2\/3 at /.test(String(current.description)), 'the cron row to show the retry waiting', 30_000);
    assert.match(String(row.description), /^failed · .+ · retry 2\/3 at \d{1,2}:\d{2}:\d{2}/);
    assert.match(tooltipText(row), /retry 2\/3 at \d{1,2}:\d{2}:\d{2}/);

    const last = await until(api.notifications.onDidNotify, () => notified.find(({ execution }) => execution.retryOf === first), 'the last attempt to be announced', 90_000);
    assert.equal(last.execution.attempt, 3);
    assert.match(last.summary, /^billing-sync failed in .+: .*ledger locked.* \(after 3 attempts\)$/);
    assert.deepEqual(notified.filter(({ execution }) => execution.id === first || execution.retryOf === first).map(({ execution }) => execution.attempt), [3], 'one notification for the chain: its last attempt');
    assert.equal(api.notifications.unseenCount, unseenBefore + 1, 'the chain counts once, as unseen, when its last attempt fails');
    const settled = await cronRow(api, 'billing-sync');
    assert.doesNotMatch(String(settled.description), /retry/, 'nothing waits after the last attempt');
  });
});
