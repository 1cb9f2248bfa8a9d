// Which version of the script ran: a cron whose script in the workspace goes from a working to a failing
// version; the failure's notification offers Compare with Last Successful Run, and the command opens VS Code's
// diff editor on the two versions as the server kept them (read-only cron-ops-script: documents).
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Execution } from '../../src/shared/api';
import type { CronOpsApi } from '../../src/extension/extension';
import type { CompareOutcome } from '../../src/extension/scriptCompare';
import type { TriggerOutcome } from '../../src/extension/triggerCommand';
import type { ExecutionTreeItem } from '../../src/extension/cronTree';
import { startServer, type ServerProcess } from '../support/serverProcess';
import { requestScreenshot } from './harness/protocol';
import { childrenOf, connectTo, cronOpsApi, disconnect, setSetting, tooltipText, until } from './cronOpsTestKit';

const WORKING = [
  "import { readFileSync } from 'node:fs';",
  '',
  "const settings = JSON.parse(readFileSync(new URL('../settings.json', import.meta.url), 'utf8'));",
  'for (const source of settings.sources) {',
  '  console.log(`synced ${source}`);',
  '}',
  '',
].join('\n');

/** The edit that broke it: the settings key was renamed in the script only. */
const FAILING = [
  "import { readFileSync } from 'node:fs';",
  '',
  "const settings = JSON.parse(readFileSync(new URL('../settings.json', import.meta.url), 'utf8'));",
  'for (const source of settings.feeds) {',
  '  console.log(`synced ${source}`);',
  '}',
  '',
].join('\n');

// Values, not imports: this suite is bundled apart from the extension, whose own classes and ids it must use.
const COMPARE_COMMAND = 'cronOps.compareWithLastSuccess';
const scriptUri = (serverId: string, executionId: string, path: string) =>
  vscode.Uri.from({ scheme: 'cron-ops-script', path: `/${executionId}/${path}`, query: new URLSearchParams({ server: serverId }).toString() });

function workspaceFolder(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the test window has no workspace folder');
  return folder.uri.fsPath;
}

describe('Compare with Last Successful Run', () => {
  let server: ServerProcess;
  let api: CronOpsApi;
  let dir: string;
  const finished: Execution[] = [];
  const offers: Array<{ executionId: string; offered: boolean }> = [];
  const subscriptions: vscode.Disposable[] = [];

  const run = async (name: string): Promise<Execution> => {
    const outcome = await vscode.commands.executeCommand<TriggerOutcome>('cronOps.triggerCron', name);
    assert.equal(outcome.kind, 'started', JSON.stringify(outcome));
    if (outcome.kind !== 'started') throw new Error('not started');
    const id = outcome.reply.executionId;
    return until(api.state.onExecutionFinished, () => finished.find((execution) => execution.id === id), `${name} run ${id} to finish`, 60_000);
  };
  const offerFor = (id: string) => until(api.scriptCompare.onDidDecideOffer, () => offers.find((offer) => offer.executionId === id), `the notification of ${id} to decide on the comparison`, 30_000);

  before(async () => {
    dir = join(workspaceFolder(), 'script-compare');
    mkdirSync(join(dir, 'jobs'), { recursive: true });
    writeFileSync(join(dir, 'jobs', 'sync-feeds.mjs'), WORKING);
    writeFileSync(join(dir, 'settings.json'), JSON.stringify({ sources: ['rss', 'atom'], feeds: null }));
    const cron = (name: string, command: string[]) => ({ name, description: name, schedule: '0 0 1 1 *', command, estimatedDurationMs: 500, timeoutMs: 60_000 });
    writeFileSync(
      join(dir, 'crons.json'),
      JSON.stringify({
        rateLimits: { perCronSeconds: 0, globalPerMinute: 100 },
        crons: [cron('sync-feeds', ['node', 'jobs/sync-feeds.mjs']), cron('inline-check', [process.execPath, '-e', 'process.exit(1)'])],
      }),
    );
    // The runs triggered here are announced under the default, "mine".
    await setSetting('notify', undefined);
    [server, api] = await Promise.all([startServer({ config: join(dir, 'crons.json') }), cronOpsApi()]);
    subscriptions.push(
      api.state.onExecutionFinished((execution) => finished.push(execution)),
      api.scriptCompare.onDidDecideOffer((offer) => offers.push(offer)),
    );
    await connectTo(api, server, 2);
  });

  after(async () => {
    for (const subscription of subscriptions) subscription.dispose();
    await vscode.commands.executeCommand('notifications.clearAll');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await disconnect();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  let good: Execution;
  let bad: Execution;

  it('the failure of a changed script offers the comparison on its notification; a run with no script version does not', async () => {
    good = await run('sync-feeds');
    assert.equal(good.status, 'completed', good.errorMessage ?? '');
    assert.match(good.scriptVersion ?? '', /^[0-9a-f]{64}$/, 'the finished event carries the version');
    assert.deepEqual(await offerFor(good.id), { executionId: good.id, offered: false }, 'a success offers nothing');

    writeFileSync(join(dir, 'jobs', 'sync-feeds.mjs'), FAILING);
    bad = await run('sync-feeds');
    assert.equal(bad.status, 'failed');
    assert.match(bad.errorMessage ?? '', /jobs\/sync-feeds\.mjs:4/, 'it failed on the changed line');
    assert.notEqual(bad.scriptVersion, good.scriptVersion);
    assert.deepEqual(await offerFor(bad.id), { executionId: bad.id, offered: true });

    const inline = await run('inline-check');
    assert.equal(inline.status, 'failed');
    assert.deepEqual(await offerFor(inline.id), { executionId: inline.id, offered: false }, 'no file in the config folder: nothing to compare');
  });

  it('shows the short version in the tooltip of the run in the Crons view', async () => {
    const rows = await childrenOf(api, 'sync-feeds');
    const row = rows.find((node): node is ExecutionTreeItem => node.id === `execution:${bad.id}`);
    assert.ok(row, 'the failed run is listed under its cron');
    assert.match(tooltipText(row), new RegExp(`Script version ${bad.scriptVersion!.slice(0, 8)}`));
    assert.match(row.contextValue ?? '', /^execution failed/, 'the context menu entry applies to it');
  });

  it('opens the diff editor between the last successful run and the failing run, as each ran', async () => {
    const rows = await childrenOf(api, 'sync-feeds');
    const row = rows.find((node): node is ExecutionTreeItem => node.id === `execution:${bad.id}`)!;
    // As from the row's context menu.
    const outcome = await vscode.commands.executeCommand<CompareOutcome>(COMPARE_COMMAND, row);
    assert.equal(outcome?.kind, 'opened', JSON.stringify(outcome));
    if (outcome?.kind !== 'opened') return;
    assert.equal(outcome.baseline.id, good.id);
    assert.equal(outcome.path, 'jobs/sync-feeds.mjs');

    const left = scriptUri(api.servers.active.id, good.id, 'jobs/sync-feeds.mjs');
    const right = scriptUri(api.servers.active.id, bad.id, 'jobs/sync-feeds.mjs');
    const input = await until(
      vscode.window.tabGroups.onDidChangeTabs,
      () => {
        const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
        return tab?.input instanceof vscode.TabInputTextDiff ? tab.input : undefined;
      },
      'the diff editor to be the active tab',
    );
    assert.equal(input.original.toString(), left.toString());
    assert.equal(input.modified.toString(), right.toString());
    assert.equal((await vscode.workspace.openTextDocument(input.original)).getText(), WORKING);
    assert.equal((await vscode.workspace.openTextDocument(input.modified)).getText(), FAILING);
    const label = vscode.window.tabGroups.activeTabGroup.activeTab?.label ?? '';
    assert.match(label, new RegExp(`jobs/sync-feeds\\.mjs: last success ${good.scriptVersion!.slice(0, 8)} ↔ failed run ${bad.scriptVersion!.slice(0, 8)}`));

    // The Crons view beside it, the failed run selected, as when the compare came from its context menu.
    await api.tree.view.reveal(row, { select: true, focus: false, expand: true });
    await vscode.commands.executeCommand('notifications.clearAll');
    await requestScreenshot('script-compare', { waitForSelector: '.monaco-diff-editor .line-insert' });
  });
});
