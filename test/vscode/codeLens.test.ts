// CodeLens above each cron of an open crons.json that the connected server runs: last run, p95, next run,
// ▶ Run and Show Logs, against a live backend. The file in the workspace is the one the server was started with.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { CronOpsApi } from '../../src/extension/extension';
import type { TriggerOutcome } from '../../src/extension/triggerCommand';
import { nodeCron, startServer, type ServerProcess, type TestConfig } from '../support/serverProcess';
import { requestScreenshot } from './harness/protocol';
import { connectTo, cronOpsApi, disconnect, stateUntil, until } from './cronOpsTestKit';

const config: TestConfig = {
  rateLimits: { perCronSeconds: 1, globalPerMinute: 100 },
  crons: [
    nodeCron('lens-report', "console.log('report ready')", { description: 'Builds the report', schedule: '0 6 * * *', estimatedDurationMs: 500 }),
    nodeCron('lens-cleanup', "console.log('clean')", { schedule: '30 2 * * *' }),
  ],
};

function workspaceFolder(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the test window has no workspace folder');
  return folder.uri.fsPath;
}

interface LensRow {
  line: number;
  title: string;
  command: string;
  arguments: unknown[];
}

describe('CodeLens in crons.json', () => {
  let server: ServerProcess;
  let api: CronOpsApi;
  let document: vscode.TextDocument;

  const lenses = async (): Promise<LensRow[]> => {
    const found = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri)) ?? [];
    return found.map((lens) => ({ line: lens.range.start.line, title: lens.command?.title ?? '', command: lens.command?.command ?? '', arguments: lens.command?.arguments ?? [] }));
  };
  const lineOf = (name: string) => document.positionAt(document.getText().indexOf(`"name": "${name}"`)).line;
  const lensesOf = async (name: string) => (await lenses()).filter((lens) => lens.line === lineOf(name) - 1);
  /** Asks VS Code for the lenses again on each of the provider's change events until those above `name` satisfy `probe`. */
  const lensesUntil = (name: string, probe: (rows: LensRow[]) => boolean, what: string, timeoutMs = 60_000): Promise<LensRow[]> =>
    new Promise((resolve, reject) => {
      let latest: LensRow[] = [];
      let settled = false;
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        subscription.dispose();
        if (error) reject(error);
        else resolve(latest);
      };
      const check = async () => {
        if (settled) return;
        latest = await lensesOf(name);
        if (probe(latest)) finish();
      };
      const timer = setTimeout(() => finish(new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (now ${JSON.stringify(latest)})`)), timeoutMs);
      const subscription = api.codeLens.onDidChangeCodeLenses(() => void check().catch(finish));
      void check().catch(finish);
    });

  before(async () => {
    [server, api] = await Promise.all([startServer({ config }), cronOpsApi()]);
    await connectTo(api, server, config.crons.length);
    const dir = join(workspaceFolder(), 'lens-check');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'crons.json');
    copyFileSync(server.configPath!, path);
    document = await vscode.workspace.openTextDocument(vscode.Uri.file(path));
    await vscode.window.showTextDocument(document);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await disconnect();
    await server?.stop();
  });

  it('shows above each cron the server runs that it never ran yet, with its next run and a Run action', async () => {
    const rows = await lensesUntil('lens-cleanup', (found) => found.length > 0, 'the lenses above lens-cleanup');
    assert.match(rows[0].title, /^\$\(circle-outline\) never run · next in \d+ (hr|min)\./);
    assert.deepEqual(rows.slice(1).map((row) => [row.title, row.command, row.arguments]), [['$(play) Run', 'cronOps.triggerCron', ['lens-cleanup']]]);
  });

  it('its Run action starts a run; the lens then says how it ended, its p95 and offers its logs', async () => {
    const [, run] = await lensesUntil('lens-report', (found) => found.length === 2, 'the Run lens above lens-report');
    assert.equal(run.title, '$(play) Run');
    const finished = until(api.state.onExecutionFinished, () => api.state.cron('lens-report')?.lastExecution?.status === 'completed', 'lens-report to complete', 60_000);
    const outcome = await vscode.commands.executeCommand<TriggerOutcome>(run.command, ...run.arguments);
    assert.equal(outcome.kind, 'started', JSON.stringify(outcome));
    if (outcome.kind !== 'started') return;
    await finished;
    await stateUntil(api, () => api.state.cron('lens-report')?.lastExecution?.id === outcome.reply.executionId, 'the run to be the last one');

    const rows = await lensesUntil('lens-report', (found) => /p95/.test(found[0]?.title ?? ''), 'the lens to show the p95 of the finished run');
    assert.match(rows[0].title, /^\$\(pass\) completed (now|\d+ sec\. ago) · p95 [\d.]+ (ms|sec) \(1 run\) · next in \d+ (hr|min)\./);
    assert.deepEqual(rows.slice(1).map((row) => [row.title, row.command, row.arguments]), [
      ['$(play) Run', 'cronOps.triggerCron', ['lens-report']],
      ['$(output) Show Logs', 'cronOps.showLogs', [outcome.reply.executionId]],
    ]);
    await vscode.commands.executeCommand('notifications.clearAll');
    await requestScreenshot('crons-json-codelens', { waitForSelector: '.codelens-decoration:has-text("p95")' });
  });
});
