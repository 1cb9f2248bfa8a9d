// Failures in the Problems panel: a real script of the workspace fails on the server, its stack trace becomes
// diagnostics on its lines with a Show Logs quick fix, and the next good run of that cron clears them, as does
// Sign Out (with a live log tail that then says you signed out rather than blaming a token).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { CronOpsApi } from '../../src/extension/extension';
import type { TriggerOutcome } from '../../src/extension/triggerCommand';
import { startServer, type ServerProcess, type TestConfig } from '../support/serverProcess';
import { requestScreenshot } from './harness/protocol';
import { connectTo, cronOpsApi, disconnect, stateUntil, until } from './cronOpsTestKit';
import { LogRecorder } from './logRecorder';

/** The script the operator edits: it fails while mode.txt says "fail". */
const SCRIPT = [
  "const { readFileSync } = require('node:fs');",
  'function loadConfig() {',
  "  if (readFileSync(__dirname + '/mode.txt', 'utf8').trim() === 'fail') throw new Error('report config missing');",
  "  return { ok: true };",
  '}',
  'function main() {',
  '  console.log(loadConfig());',
  '}',
  'main();',
  '',
].join('\n');

function workspaceFolder(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the test window has no workspace folder');
  return folder.uri.fsPath;
}

describe('Failures in the Problems panel', () => {
  let server: ServerProcess;
  let api: CronOpsApi;
  let dir: string;
  let script: vscode.Uri;

  const trigger = async (name = 'flaky-report'): Promise<string> => {
    const outcome = await vscode.commands.executeCommand<TriggerOutcome>('cronOps.triggerCron', name);
    assert.equal(outcome.kind, 'started', JSON.stringify(outcome));
    if (outcome.kind !== 'started') throw new Error('not started');
    return outcome.reply.executionId;
  };
  const diagnostics = () => vscode.languages.getDiagnostics(script).filter((diagnostic) => diagnostic.source === 'Cron Ops');

  before(async () => {
    dir = join(workspaceFolder(), 'failure-check');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'report.js'), SCRIPT);
    writeFileSync(join(dir, 'mode.txt'), 'fail\n');
    script = vscode.Uri.file(join(dir, 'report.js'));
    const config: TestConfig = {
      rateLimits: { perCronSeconds: 0, globalPerMinute: 100 },
      crons: [
        { name: 'flaky-report', description: 'Builds the report', schedule: '0 0 1 1 *', command: [process.execPath, join(dir, 'report.js')], timeoutMs: 60_000 },
        { name: 'slow-export', description: 'Runs until stopped', schedule: '0 0 1 1 *', command: [process.execPath, '-e', "console.log('exporting'); setInterval(() => {}, 1000)"], timeoutMs: 600_000 },
      ],
    };
    [server, api] = await Promise.all([startServer({ config }), cronOpsApi()]);
    await connectTo(api, server, 2);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closePanel');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await disconnect();
    await server?.stop();
  });

  let failedId = '';

  it('a failed run raises its stack trace on the lines of the workspace script, with the cron and the run', async () => {
    const raised = until(api.failures.onDidUpdate, () => api.failures.problemsOf('flaky-report').length > 0, 'the failed run to raise problems', 60_000);
    failedId = await trigger();
    await raised;
    const found = await until(vscode.languages.onDidChangeDiagnostics, () => (diagnostics().length >= 3 ? diagnostics() : undefined), 'the diagnostics in report.js', 30_000, () => JSON.stringify(diagnostics()));
    const short = failedId.slice(0, 8);
    assert.deepEqual(
      found.map((diagnostic) => [diagnostic.range.start.line, diagnostic.severity, diagnostic.message]),
      [
        [2, vscode.DiagnosticSeverity.Error, `Error: report config missing (cron flaky-report, run ${short} failed)`],
        [6, vscode.DiagnosticSeverity.Warning, `Error: report config missing raised below this call (cron flaky-report, run ${short} failed)`],
        [8, vscode.DiagnosticSeverity.Warning, `Error: report config missing raised below this call (cron flaky-report, run ${short} failed)`],
      ],
    );
    assert.equal(found[0].code, 'flaky-report');
  });

  it('offers Show Logs of that run as a quick fix', async () => {
    // Code actions are asked of an open document, as when the operator clicks the light bulb.
    await vscode.window.showTextDocument(script);
    const raisedAt = diagnostics()[0].range;
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', script, raisedAt);
    const showLogs = actions.find((action) => action.command?.command === 'cronOps.showLogs');
    assert.ok(showLogs, `actions: ${actions.map((action) => action.title).join(', ')}`);
    assert.equal(showLogs.title, `Show Logs of flaky-report run ${failedId.slice(0, 8)}`);
    assert.deepEqual(showLogs.command?.arguments, [failedId]);
    await vscode.commands.executeCommand('notifications.clearAll');
    await vscode.commands.executeCommand('workbench.actions.view.problems');
    await requestScreenshot('failure-problems', { waitForSelector: '.markers-panel .monaco-list-row:has-text("flaky-report")' });
  });

  it('the next successful run of that cron clears them', async () => {
    writeFileSync(join(dir, 'mode.txt'), 'ok\n');
    const cleared = until(api.failures.onDidUpdate, () => api.failures.problemsOf('flaky-report').length === 0, 'the good run to clear the problems', 60_000);
    const goodId = await trigger();
    await cleared;
    assert.equal(api.state.cron('flaky-report')?.lastExecution?.id, goodId);
    assert.equal(api.state.cron('flaky-report')?.lastExecution?.status, 'completed');
    await until(vscode.languages.onDidChangeDiagnostics, () => diagnostics().length === 0, 'Problems to be empty for report.js', 30_000, () => JSON.stringify(diagnostics()));
  });

  it('Sign Out clears them, and a live log tail says it stopped because you signed out', async () => {
    writeFileSync(join(dir, 'mode.txt'), 'fail\n');
    const raised = until(api.failures.onDidUpdate, () => api.failures.problemsOf('flaky-report').length > 0, 'the failed run to raise problems', 60_000);
    await trigger();
    await raised;
    await until(vscode.languages.onDidChangeDiagnostics, () => diagnostics().length > 0, 'the diagnostics in report.js', 30_000, () => JSON.stringify(diagnostics()));

    const recorder = new LogRecorder(api.logTails);
    try {
      const runId = await trigger('slow-export');
      const tail = await vscode.commands.executeCommand<unknown>('cronOps.showLogs', runId);
      assert.ok(tail, 'Show Logs opened a tail');
      const record = recorder.record(runId);
      await until(record.tail.onDidReceive, () => record.lines.length > 0, 'the first log line of slow-export', 60_000, () => record.text);
      assert.ok(record.tail.isLive, 'the tail follows the running run');

      const cleared = until(vscode.languages.onDidChangeDiagnostics, () => diagnostics().length === 0, 'Problems to be empty after Sign Out', 30_000, () => JSON.stringify(diagnostics()));
      await vscode.commands.executeCommand('cronOps.signOut');
      await stateUntil(api, () => api.state.connection === 'signedOut', 'the extension to be signed out');
      await cleared;
      assert.deepEqual(api.failures.problemsOf('flaky-report'), []);

      await record.tail.finished;
      assert.match(record.text, /… stopped: you signed out of Cron Ops\. Run "Cron Ops: Sign In", then Show Logs to follow this run again\./);
      assert.doesNotMatch(record.text, /refused your token|Missing Authorization/);
    } finally {
      recorder.dispose();
    }
  });
});
