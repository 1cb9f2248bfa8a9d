// Triggering, watching and ending runs from the commands, against a live backend with a fast config:
// what an operator notices in the state, the tree, the status bar and the logs channel.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { Cron, Execution } from '../../src/shared/api';
import type { CronOpsApi } from '../../src/extension/extension';
import type { LogTail } from '../../src/extension/logTail';
import type { TriggerOutcome } from '../../src/extension/triggerCommand';
import { formatLogLine } from '../../src/extension/format';
import { nodeCron, startServer, type ServerProcess, type TestConfig } from '../support/serverProcess';
import { requestScreenshot } from './harness/protocol';
import { LogRecorder } from './logRecorder';
import { childrenOf, connectTo, cronOpsApi, cronRow, disconnect, externalStart, iconColor, iconId, serverLogLines, setSetting, stateUntil, until } from './cronOpsTestKit';

const config: TestConfig = {
  // Per-cron limit as in the guide (30 s); the global one high enough for this file's triggers.
  rateLimits: { perCronSeconds: 30, globalPerMinute: 100 },
  crons: [
    nodeCron('quick-job', "console.log('line 1'); console.error('warning 2'); console.log('line 3')", { estimatedDurationMs: 500 }),
    nodeCron('echo-job', "for (let i = 1; i <= 5; i++) console.log('step ' + i); setTimeout(() => console.log('done'), 300)", { estimatedDurationMs: 800 }),
    nodeCron('slow-job', "console.log('working'); setInterval(() => {}, 1000)", { estimatedDurationMs: 1000, timeoutMs: 60_000 }),
    nodeCron('external-job', "console.log('never run here')", { description: 'Reported by an external script', timeoutMs: 300 }),
    nodeCron('param-job', "console.log(process.env.CRON_PARAM_BATCHSIZE)", { params: { batchSize: { type: 'integer', min: 1, max: 100, default: 2 } } }),
  ],
};

describe('Operations: trigger, logs, cancel, mark as failed, schedules', () => {
  let server: ServerProcess;
  let api: CronOpsApi;

  const cron = (name: string): Cron => {
    const found = api.state.cron(name);
    if (!found) throw new Error(`no cron ${name} in the state`);
    return found;
  };
  const trigger = (name: string, options?: object) => vscode.commands.executeCommand<TriggerOutcome>('cronOps.triggerCron', name, options);

  const announcements: Array<{ execution: Execution; summary: string }> = [];
  const subscriptions: vscode.Disposable[] = [];
  let logs: LogRecorder;

  before(async () => {
    [server, api] = await Promise.all([startServer({ config }), cronOpsApi()]);
    logs = new LogRecorder(api.logTails);
    subscriptions.push(logs, api.notifications.onDidNotify((announced) => announcements.push(announced)));
    await connectTo(api, server, config.crons.length);
  });

  after(async () => {
    for (const subscription of subscriptions) subscription.dispose();
    await disconnect();
    await server?.stop();
  });

  let slowId = '';

  it('Trigger Cron (confirmation off) starts a run that shows in the state, the tree and the status bar', async () => {
    const outcome = await trigger('slow-job');
    assert.equal(outcome.kind, 'started', JSON.stringify(outcome));
    if (outcome.kind !== 'started') return;
    slowId = outcome.reply.executionId;
    assert.equal(outcome.reply.message, 'Cron execution started. Check table for results.');
    await stateUntil(api, () => cron('slow-job').runningExecution?.id === slowId, 'the execution.started event to reach the state');
    const row = await cronRow(api, 'slow-job');
    assert.equal(iconId(row), 'sync~spin');
    assert.equal(iconColor(row), 'charts.blue');
    assert.match(String(row.description), /^running · /);
    assert.match(row.contextValue ?? '', /\brunning\b/);
    const children = await childrenOf(api, 'slow-job');
    assert.ok(children.some((child) => child.id === `execution:${slowId}`), 'the run is listed under its cron');
    assert.match(api.statusBar.text, /^\$\(pulse\) 1 running · 0 failed/);
    await requestScreenshot('running-cron', { waitForSelector: '#workbench\\.parts\\.sidebar .monaco-list-row' });
  });

  it('refuses up front a cron that is running, pointing at its run; the server answers 409 when asked anyway', async () => {
    const upFront = await trigger('slow-job');
    assert.deepEqual(upFront, { kind: 'alreadyRunning', runningExecutionId: slowId });
    const server409 = await trigger('slow-job', { skipRunningCheck: true });
    assert.equal(server409.kind, 'refused');
    if (server409.kind !== 'refused') return;
    assert.equal(server409.status, 409);
    assert.equal(server409.runningExecutionId, slowId);
    assert.match(server409.message, new RegExp(`slow-job is already running \\(execution ${slowId}\\)`));
  });

  it('says "already running" before any question, with confirmations on', async () => {
    await setSetting('confirmBeforeTrigger', true);
    try {
      // A confirmation dialog would hold the command until the test times out: the refusal comes first.
      assert.deepEqual(await trigger('slow-job'), { kind: 'alreadyRunning', runningExecutionId: slowId });
    } finally {
      await setSetting('confirmBeforeTrigger', false);
    }
  });

  it('Mark as Failed refuses a run that is within its timeout', async () => {
    const result = await vscode.commands.executeCommand<Execution | undefined>('cronOps.markFailed', slowId);
    assert.equal(result, undefined);
    assert.equal(cron('slow-job').runningExecution?.id, slowId);
  });

  it('Cancel Execution ends the live run: cancelled in the state and the tree, 0 running', async () => {
    const ended = await vscode.commands.executeCommand<Execution | undefined>('cronOps.cancelExecution', slowId);
    assert.equal(ended?.status, 'cancelled');
    assert.equal(cron('slow-job').runningExecution, null);
    assert.equal(cron('slow-job').lastExecution?.status, 'cancelled');
    const row = await cronRow(api, 'slow-job');
    assert.equal(iconId(row), 'circle-slash');
    assert.match(String(row.description), /^cancelled · /);
    assert.match(api.statusBar.text, /^\$\(pulse\) 0 running/);
  });

  let quickId = '';

  it('Show Logs writes exactly the server\'s log lines, then how the run ended', async () => {
    const outcome = await trigger('quick-job');
    assert.equal(outcome.kind, 'started', JSON.stringify(outcome));
    if (outcome.kind !== 'started') return;
    quickId = outcome.reply.executionId;
    const tail = await vscode.commands.executeCommand<LogTail>('cronOps.showLogs', quickId);
    const ended = await tail.finished;
    assert.equal(ended?.status, 'completed');
    const written = await logs.finished(quickId);
    const expected = await serverLogLines(server, quickId);
    assert.deepEqual(written.lines, expected);
    assert.equal(expected.length, 3);
    const body = written.text.split('\n').slice(1, 1 + expected.length);
    assert.deepEqual(body, written.lines.map(formatLogLine));
    // stdout and stderr are two pipes: their relative order is the server's to record, not the script's.
    assert.deepEqual([...body].sort(), ['[stderr] warning 2', 'line 1', 'line 3']);
    assert.match(written.text, /── quick-job completed in .+, exit code 0 ──\n$/);
    await stateUntil(api, () => cron('quick-job').lastExecution?.status === 'completed', 'the finished event');
    const announced = await until(api.notifications.onDidNotify, () => announcements.find(({ execution }) => execution.id === quickId), 'the end of the run to be announced');
    assert.match(announced.summary, /^quick-job completed in .+ \(estimated 500 ms\)$/);
    assert.equal(iconId(await cronRow(api, 'quick-job')), 'pass');
  });

  it('Trigger and Follow Logs tails the new run live until it ends', async () => {
    const outcome = await vscode.commands.executeCommand<TriggerOutcome>('cronOps.triggerAndFollow', 'echo-job');
    assert.equal(outcome.kind, 'started', JSON.stringify(outcome));
    if (outcome.kind !== 'started') return;
    const written = await logs.finished(outcome.reply.executionId);
    assert.deepEqual(written.lines.map((line) => line.line), ['step 1', 'step 2', 'step 3', 'step 4', 'step 5', 'done']);
    assert.deepEqual(written.lines, await serverLogLines(server, outcome.reply.executionId));
  });

  it('a second manual run within 30 s is refused with the seconds to wait (429), before any question when the server says when', async () => {
    await stateUntil(api, () => cron('quick-job').lastExecution?.id === quickId, 'the state to know the first run');
    // A server that says when a manual run is next accepted lets the refusal come before the confirmation;
    // with confirmations on, a question would hold the command until the test times out.
    const known = cron('quick-job').manualTriggerAvailableAt !== undefined;
    if (known) {
      await api.state.refresh();
      await setSetting('confirmBeforeTrigger', true);
    }
    let outcome: TriggerOutcome;
    try {
      outcome = await trigger('quick-job');
    } finally {
      if (known) await setSetting('confirmBeforeTrigger', false);
    }
    if (known) assert.ok(outcome.kind === 'refused' && outcome.upFront, JSON.stringify(outcome));
    assert.equal(outcome.kind, 'refused', JSON.stringify(outcome));
    if (outcome.kind !== 'refused') return;
    assert.equal(outcome.status, 429);
    assert.ok(outcome.retryAfterS !== undefined && outcome.retryAfterS > 0 && outcome.retryAfterS <= 30, String(outcome.retryAfterS));
    // The wait comes first, so that a narrow toast still shows it.
    assert.match(outcome.message, /^quick-job can be triggered again in \d+(\.\d)? sec \(limit on manual runs\)\.$/);
  });

  it('a param out of bounds is refused with the server\'s reason (400)', async () => {
    const outcome = await trigger('param-job', { params: { batchSize: 500 } });
    assert.equal(outcome.kind, 'refused');
    if (outcome.kind !== 'refused') return;
    assert.equal(outcome.status, 400);
    assert.match(outcome.message, /batchSize.*at most 100/);
  });

  it('Mark Stuck Execution as Failed ends a run past its timeout', async () => {
    const id = await externalStart(server, 'external-job');
    await stateUntil(api, () => cron('external-job').runningExecution?.stuck === true, 'the run to show as stuck');
    const row = await cronRow(api, 'external-job');
    assert.match(row.contextValue ?? '', /\bstuck\b/, 'the context menu offers Mark as Failed');
    assert.equal(iconId(row), 'watch');
    const ended = await vscode.commands.executeCommand<Execution | undefined>('cronOps.markFailed', id);
    assert.equal(ended?.status, 'failed');
    assert.equal(ended?.errorMessage, 'Timeout - manually cancelled');
    assert.equal(cron('external-job').runningExecution, null);
    assert.equal(iconId(await cronRow(api, 'external-job')), 'error');
  });

  it('Pause and Resume Schedule change the cron in the tree (its own icon, the word first) and the countdown', async () => {
    const paused = await vscode.commands.executeCommand<Cron | undefined>('cronOps.pauseSchedule', 'param-job');
    assert.equal(paused?.paused, true);
    assert.equal(cron('param-job').paused, true);
    const row = await cronRow(api, 'param-job');
    assert.match(String(row.description), /^paused · /, 'the word first, where the default sidebar width still shows it');
    assert.equal(iconId(row), 'debug-pause');
    assert.match(row.contextValue ?? '', /\bpaused\b/);
    await requestScreenshot('paused-cron', { waitForSelector: '#workbench\\.parts\\.sidebar .monaco-list-row' });
    const resumed = await vscode.commands.executeCommand<Cron | undefined>('cronOps.resumeSchedule', 'param-job');
    assert.equal(resumed?.paused, false);
    assert.match((await cronRow(api, 'param-job')).contextValue ?? '', /\bscheduled\b/);
  });
});
