// crons.json as a first-class file: the contributed schema gives errors, completion and hover in the editor,
// through VS Code's own JSON language features (no server needed).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { requestScreenshot } from './harness/protocol';
import { cronOpsApi, until } from './cronOpsTestKit';

/** A definitions file with one mistake per line the schema can catch. */
const BROKEN = `{
  "crons": [
    {
      "name": "Nightly Report",
      "schedule": "every night",
      "timezone": "Mars/Olympus_Mons",
      "command": ["node", "report.js"],
      "timeoutMs": "ten minutes"
    },
    {
      "name": "cleanup",
      "schedule": "0 3 * * *",
      "timezone": "",
      "command": ["sh", "cleanup.sh"]
    }
  ]
}
`;

function workspaceFolder(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the test window has no workspace folder');
  return folder.uri.fsPath;
}

function positionAfter(document: vscode.TextDocument, text: string): vscode.Position {
  const offset = document.getText().indexOf(text);
  if (offset < 0) throw new Error(`"${text}" is not in ${document.uri.fsPath}`);
  return document.positionAt(offset + text.length);
}

function labelOf(item: vscode.CompletionItem): string {
  return typeof item.label === 'string' ? item.label : item.label.label;
}

describe('crons.json: schema errors, completion and hover', () => {
  let document: vscode.TextDocument;

  before(async () => {
    await cronOpsApi();
    const dir = join(workspaceFolder(), 'schema-check');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'crons.json');
    writeFileSync(path, BROKEN);
    document = await vscode.workspace.openTextDocument(vscode.Uri.file(path));
    await vscode.window.showTextDocument(document);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closePanel');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('shows every schema error of an open crons.json in the Problems panel, in words that say what to write', async () => {
    const diagnostics = await until(
      vscode.languages.onDidChangeDiagnostics,
      () => {
        const found = vscode.languages.getDiagnostics(document.uri);
        return found.length >= 4 ? found : undefined;
      },
      'the schema diagnostics of crons.json',
      60_000,
      () => JSON.stringify(vscode.languages.getDiagnostics(document.uri).map((diagnostic) => diagnostic.message)),
    );
    const on = (text: string) => diagnostics.filter((diagnostic) => diagnostic.range.start.line === positionAfter(document, text).line).map((diagnostic) => diagnostic.message);
    assert.match(on('"Nightly Report"').join('\n'), /A cron name is 1 to 63 lower-case letters, digits and dashes/);
    assert.match(on('"every night"').join('\n'), /A schedule has 5 fields \(minute hour day-of-month month day-of-week\), or 6 with seconds first/);
    assert.match(on('"Mars/Olympus_Mons"').join('\n'), /Not an IANA time zone this server knows, e.g. "Africa\/Tunis"/);
    assert.match(on('"ten minutes"').join('\n'), /Incorrect type\. Expected "integer"|integer/);
    assert.ok(diagnostics.every((diagnostic) => diagnostic.severity === vscode.DiagnosticSeverity.Error || diagnostic.severity === vscode.DiagnosticSeverity.Warning));
    assert.equal(on('"0 3 * * *"').length, 0, 'a valid schedule raises nothing');
    await vscode.commands.executeCommand('notifications.clearAll');
    await vscode.commands.executeCommand('workbench.actions.view.problems');
    await requestScreenshot('crons-json-errors', { waitForSelector: '.markers-panel .monaco-list-row' });
  });

  it('completes IANA time zones and the fields of a cron', async () => {
    const zones = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', document.uri, positionAfter(document, '"timezone": "'));
    const zoneLabels = zones.items.map(labelOf);
    assert.ok(zoneLabels.some((label) => label.includes('Africa/Tunis')), `time zones offered: ${zoneLabels.slice(0, 10).join(', ')}…`);
    assert.ok(zoneLabels.some((label) => label.includes('Europe/Paris')));

    // A new line inside the second cron: the fields it does not have yet are offered, with their documentation.
    const afterCommand = positionAfter(document, '"command": ["sh", "cleanup.sh"]');
    const editor = await vscode.window.showTextDocument(document);
    await editor.edit((edit) => edit.insert(afterCommand, ',\n      '));
    const fields = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', document.uri, new vscode.Position(afterCommand.line + 1, 6));
    const fieldLabels = fields.items.map(labelOf);
    for (const field of ['description', 'estimatedDurationMs', 'enabled', 'params']) assert.ok(fieldLabels.some((label) => label.includes(field)), `fields offered: ${fieldLabels.join(', ')}`);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  it('documents a field on hover', async () => {
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, positionAfter(document, '"sche'));
    const text = hovers.flatMap((hover) => hover.contents.map((content) => (typeof content === 'string' ? content : content.value))).join('\n');
    assert.match(text, /cron expression with \*\*5 fields\*\*/);
  });
});
