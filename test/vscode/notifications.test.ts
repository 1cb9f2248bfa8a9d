// Who hears of a finished run (cronOps.notify): a scheduled failure notifies nobody under `mine` but shows in
// the status bar as unseen, notifies under `failures`, and Show Logs or the dashboard clear the unseen count;
// a retry of a run triggered here is "mine": each attempt is announced (the one to be retried says when), the
// last one says how many were made, and its row in the tree says its attempt.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { Execution } from '../../src/shared/api';
import type { CronOpsApi } from '../../src/extension/extension';
import type { TriggerOutcome } from '../../src/extension/triggerCommand';
import { nodeCron, startServer, writeConfig, type ServerProcess } from '../support/serverProcess';
import { childrenOf, connectTo, cronOpsApi, disconnect, setSetting, stateUntil, until } from './cronOpsTestKit';

const FAILING = "console.error('disk full'); process.exit(3)";

describe('Notifications of finished runs (cronOps.notify)', () => {
  let server: ServerProcess;
  let api: CronOpsApi;
  const notified: Array<{ execution: Execution; summary: string }> = [];
  const finished: Execution[] = [];
  const subscriptions: vscode.Disposable[] = [];

  const scheduledFailure = (after: number) => finished.slice(after).find((run) => run.cronName === 'every-3s-fails' && run.status === 'failed' && run.triggerType === 'scheduled');
  const unseenUntil = (probe: () => boolean, what: string) => until(api.notifications.onDidChangeUnseen, probe, what, 30_000, () => `${api.notifications.unseenCount} unseen, status bar "${api.statusBar.text}"`);

  before(async () => {
    const config = {
      rateLimits: { perCronSeconds: 0, globalPerMinute: 100 },
      crons: [
        // Six fields: every 3 seconds, always failing.
        nodeCron('every-3s-fails', FAILING, { schedule: '*/3 * * * * *', estimatedDurationMs: 100 }),
        { ...nodeCron('flaky-retry', FAILING, { estimatedDurationMs: 100 }), retries: { count: 1, delayMs: 200, on: ['failed'] } },
      ],
    };
    await setSetting('notify', undefined);
    [server, api] = await Promise.all([startServer({ config: writeConfig(JSON.stringify(config)) }), cronOpsApi()]);
    // A dashboard left open by another suite would count as looking at the failures.
    api.dashboard.panel?.dispose();
    subscriptions.push(
      api.notifications.onDidNotify((announced) => notified.push(announced)),
      api.state.onExecutionFinished((execution) => finished.push(execution)),
    );
    await connectTo(api, server, 2);
  });

  after(async () => {
    for (const subscription of subscriptions) subscription.dispose();
    api.dashboard.panel?.dispose();
    await setSetting('notify', undefined);
    await disconnect();
    await server?.stop();
  });

  it('under mine (the default), a scheduled failure notifies nobody but shows as unseen in the status bar', async () => {
    const start = finished.length;
    // The notifications decide in the same turn as the finished event, and subscribed before this test did.
    const failure = await until(api.state.onExecutionFinished, () => scheduledFailure(start), 'a scheduled failure of every-3s-fails');
    assert.equal(notified.find(({ execution }) => execution.id === failure.id), undefined, 'no notification for a scheduled run under mine');
    assert.ok(api.notifications.unseenCount >= 1);
    assert.match(api.statusBar.text, /^\$\(bell-dot\) \d+ unseen · /);
  });

  it('a retry of a run triggered here is mine: its notification and its row in the tree say the attempt', async () => {
    const outcome = await vscode.commands.executeCommand<TriggerOutcome>('cronOps.triggerCron', 'flaky-retry');
    assert.equal(outcome.kind, 'started', JSON.stringify(outcome));
    if (outcome.kind !== 'started') return;
    const firstId = outcome.reply.executionId;
    const first = await until(api.notifications.onDidNotify, () => notified.find(({ execution }) => execution.id === firstId), 'the first attempt to be announced');
    // The server will retry it: the one who triggered it hears so, and when.
    assert.match(first.summary, /^flaky-retry failed in .+: .+ \(attempt 1 of 2\); retrying at \d{1,2}:\d{2}:\d{2}/);
    const retry = await until(api.notifications.onDidNotify, () => notified.find(({ execution }) => execution.retryOf === firstId), 'the retry to be announced', 45_000);
    assert.equal(retry.execution.attempt, 2);
    assert.ok(retry.summary.endsWith('(after 2 attempts)'), retry.summary);
    const rows = await childrenOf(api, 'flaky-retry');
    const row = rows.find((node) => node.id === `execution:${retry.execution.id}`);
    assert.ok(row, 'the retry is listed under its cron');
    assert.match(String(row.description), /^failed · .+ · attempt 2$/);
  });

  it('under failures, a scheduled failure notifies; Show Logs of it and then the dashboard clear the unseen count', async () => {
    await setSetting('notify', 'failures');
    const start = notified.length;
    const announced = await until(
      api.notifications.onDidNotify,
      () => notified.slice(start).find(({ execution }) => execution.cronName === 'every-3s-fails' && execution.triggerType === 'scheduled'),
      'a scheduled failure to be announced under failures',
    );
    assert.match(announced.summary, /^every-3s-fails failed in .+: /);

    // Stop the ticks so that the count only moves by what the test does.
    api.state.applyCron(await api.client.pause('every-3s-fails'));
    await stateUntil(api, () => api.state.cron('every-3s-fails')?.paused && !api.state.cron('every-3s-fails')?.runningExecution, 'every-3s-fails paused and idle');
    const before = api.notifications.unseenCount;
    assert.ok(before >= 1, `${before} unseen`);
    await vscode.commands.executeCommand('cronOps.showLogs', announced.execution.id);
    await unseenUntil(() => api.notifications.unseenCount === before - 1, 'Show Logs to clear that run');

    await vscode.commands.executeCommand('cronOps.openDashboard');
    await unseenUntil(() => api.notifications.unseenCount === 0, 'the dashboard to clear every unseen failure');
    assert.doesNotMatch(api.statusBar.text, /unseen/);
  });
});
