// The server reloads the crons.json it was started with (a file of the workspace): an invalid save shows each
// problem the server found as a diagnostic at its line in that file; a valid save clears them and the Crons
// view gets the new list without a refresh.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { CronOpsApi } from '../../src/extension/extension';
import { RELOAD_DIAGNOSTIC_SOURCE } from '../../src/extension/definitions/reloadDiagnostics';
import { requestScreenshot } from './harness/protocol';
import { nodeCron, startServer, type ServerProcess, type TestConfig } from '../support/serverProcess';
import { connectTo, cronOpsApi, disconnect, stateUntil, until } from './cronOpsTestKit';

const config: TestConfig = { crons: [nodeCron('reload-kept', 'console.log("kept")', { schedule: '0 6 * * *' })] };

describe('reload problems as diagnostics', () => {
  let server: ServerProcess;
  let api: CronOpsApi;
  let uri: vscode.Uri;

  const serverDiagnostics = () => vscode.languages.getDiagnostics(uri).filter((diagnostic) => diagnostic.source === RELOAD_DIAGNOSTIC_SOURCE);
  const diagnosticsUntil = (probe: (found: vscode.Diagnostic[]) => boolean, what: string) =>
    until(vscode.languages.onDidChangeDiagnostics, () => probe(serverDiagnostics()) && serverDiagnostics(), what, 60_000, () => JSON.stringify(serverDiagnostics().map((diagnostic) => diagnostic.message)));

  before(async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) throw new Error('the test window has no workspace folder');
    const dir = mkdtempSync(join(folder.uri.fsPath, 'reload-check-'));
    const path = join(dir, 'crons.json');
    writeFileSync(path, JSON.stringify(config, null, 2));
    uri = vscode.Uri.file(path);
    // The server runs the workspace file itself: what it reports is about the file open here.
    [server, api] = await Promise.all([startServer({ config: path }), cronOpsApi()]);
    await connectTo(api, server, config.crons.length);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await disconnect();
    await server?.stop();
  });

  it('shows every problem of an invalid save at its line, and a valid save clears them and updates the tree', async () => {
    const text = [
      '{',
      '  "crons": [',
      '    { "name": "reload-kept", "schedule": "0 6 * * *", "command": ["node", "-e", "1"] },',
      '    { "name": "reload-bad", "schedule": "61 * * * *", "command": ["node", "-e", "1"] },',
      '    { "name": "reload-zone", "schedule": "0 6 * * *", "timezone": "Nowhere/City", "command": ["node", "-e", "1"] }',
      '  ]',
      '}',
    ].join('\n');
    writeFileSync(uri.fsPath, text);
    const shown = await diagnosticsUntil((found) => found.length === 2, 'the two problems of the invalid save');
    const byField = (field: string) => shown.find((diagnostic) => diagnostic.message.startsWith(`${field}: `));
    const schedule = byField('crons[1].schedule');
    const timezone = byField('crons[2].timezone');
    assert.ok(schedule && timezone, JSON.stringify(shown.map((diagnostic) => diagnostic.message)));
    assert.equal(schedule.range.start.line, 3);
    assert.equal(schedule.range.start.character, text.split('\n')[3].indexOf('"schedule"'));
    assert.equal(timezone.range.start.line, 4);
    assert.match(timezone.message, /Nowhere\/City/);
    assert.equal(schedule.severity, vscode.DiagnosticSeverity.Error);
    // The server kept its crons.
    assert.deepEqual(api.state.crons.map((cron) => cron.name), ['reload-kept']);
    await vscode.commands.executeCommand('notifications.clearAll');
    await vscode.commands.executeCommand('workbench.actions.view.problems');
    await requestScreenshot('crons-json-reload-problems', { waitForSelector: '.markers-panel .monaco-list-row:has-text("Nowhere/City")' });

    writeFileSync(uri.fsPath, JSON.stringify({ crons: [...config.crons, nodeCron('reload-added', 'console.log("added")')] }, null, 2));
    await diagnosticsUntil((found) => found.length === 0, 'the valid save to clear the problems');
    await stateUntil(api, () => api.state.crons.some((cron) => cron.name === 'reload-added'), 'the Crons view to list the added cron without a refresh', 60_000);
  });
});
