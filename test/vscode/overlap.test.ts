// A cron whose runs last longer than its interval: the server's overlap forecast reaches the Crons view's
// tooltip, the CodeLens above it in crons.json and the dashboard, and its skipped ticks show in the tooltip
// and as marks on the dashboard's timeline. Real backend, real runs on a per-2-seconds schedule.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { CronOpsApi } from '../../src/extension/extension';
import type { ExecutionTreeItem, SkippedTickTreeItem } from '../../src/extension/cronTree';
import type { RenderedView } from '../../src/shared/messages';
import { nodeCron, startServer, type ServerProcess, type TestConfig } from '../support/serverProcess';
import { requestScreenshot } from './harness/protocol';
import { connectTo, cronOpsApi, cronRow, disconnect, openCronsCopy, stateUntil, tooltipText, untilRead } from './cronOpsTestKit';
import { DashboardRecorder } from './dashboardRecorder';

const config: TestConfig = {
  rateLimits: { perCronSeconds: 0, globalPerMinute: 100 },
  crons: [
    // 3 s runs every 2 s: each run covers the next tick.
    nodeCron('overlap-slow', "setTimeout(() => console.log('slow batch done'), 3000)", { description: 'Slow batch', schedule: '*/2 * * * * *', estimatedDurationMs: 3000 }),
    nodeCron('overlap-quick', "console.log('quick')", { description: 'Quick job', schedule: '0 6 * * *' }),
  ],
};

const WARNING = /p95 \d+ s > every 2 s/;

describe('Overlap forecast in the editor', () => {
  let server: ServerProcess;
  let api: CronOpsApi;
  let document: vscode.TextDocument;
  let hooks: DashboardRecorder;

  const lensTitle = async (name: string): Promise<string> => {
    const line = document.positionAt(document.getText().indexOf(`"name": "${name}"`)).line - 1;
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri)) ?? [];
    return lenses.find((lens) => lens.range.start.line === line)?.command?.title ?? '';
  };

  /** The lens title above `name` once `probe` holds, asked again on each of the provider's change events. */
  const lensUntil = (name: string, probe: (title: string) => boolean, what: string, timeoutMs = 120_000): Promise<string> =>
    untilRead(api.codeLens.onDidChangeCodeLenses, () => lensTitle(name), probe, what, timeoutMs);

  before(async () => {
    [server, api] = await Promise.all([startServer({ config }), cronOpsApi()]);
    hooks = new DashboardRecorder(api.dashboard);
    await connectTo(api, server, config.crons.length);
    document = await openCronsCopy(server, 'overlap-check');
  });

  after(async () => {
    api?.dashboard.panel?.dispose();
    hooks?.dispose();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await disconnect();
    await server?.stop();
  });

  it('warns in the Crons view tooltip once the runs outlast the interval, with the ticks skipped', async () => {
    // Three finished runs make a forecast; the server tells the extension when it turns to overlap.
    const cron = await stateUntil(api, () => (api.state.cron('overlap-slow')?.overlap?.status === 'overlap' ? api.state.cron('overlap-slow') : undefined), 'the overlap forecast of overlap-slow', 120_000);
    assert.match(cron.overlap!.message!, WARNING);
    const tooltip = tooltipText(await cronRow(api, 'overlap-slow'));
    assert.match(tooltip, /Runs will overlap: p95 \d+ s > every 2 s; \d+ of the next 30 ticks would be skipped/);
    assert.match(tooltip, /\d+ ticks? skipped in the last 24 h/);
    const quick = tooltipText(await cronRow(api, 'overlap-quick'));
    assert.doesNotMatch(quick, /Runs will overlap|skipped in the last/, 'no warning for a cron that never ran');
  });

  it('lists the skipped ticks among the cron\'s runs in the Crons view, saying why; a click shows the run that was still going', async () => {
    const row = await cronRow(api, 'overlap-slow');
    const children = await api.tree.provider.getChildren(row);
    const isSkip = (child: (typeof children)[number]): child is SkippedTickTreeItem => /^skippedTick\b/.test(child.contextValue ?? '');
    const skipped = children.filter(isSkip);
    assert.ok(skipped.length > 0, `a skipped tick among ${children.map((child) => `${String(child.label)} ${String(child.description)}`).join('; ')}`);
    assert.equal(skipped[0].description, 'skipped tick · The previous run was still running');
    assert.match(tooltipText(skipped[0]), /overlap-slow — skipped tick/);
    // Newest first, runs and skips together.
    const times = children.map((child) => (isSkip(child) ? Date.parse(child.tick.tickAt) : Date.parse((child as ExecutionTreeItem).execution.startedAt)));
    assert.deepEqual(times, [...times].sort((a, b) => b - a));
    const still = skipped[0].tick.runningExecutionId;
    assert.ok(still, 'the skip names the run that was still going');
    assert.deepEqual(skipped[0].command?.arguments, [still]);
  });

  it('puts the warning in the CodeLens above the cron in crons.json', async () => {
    const title = await lensUntil('overlap-slow', (candidate) => WARNING.test(candidate), 'the overlap warning in the lens above overlap-slow');
    assert.match(title, /\$\(warning\) p95 \d+ s > every 2 s/, title);
    assert.doesNotMatch(await lensTitle('overlap-quick'), /warning/);
    await vscode.commands.executeCommand('notifications.clearAll');
    await requestScreenshot('overlap-codelens', { waitForSelector: '.codelens-decoration:has-text("every 2 s")' });
  });

  it('shows the warning in the dashboard cron table and the skipped ticks as timeline marks', async () => {
    await vscode.commands.executeCommand('cronOps.openDashboard');
    const view = await hooks.rendered((candidate: RenderedView) => candidate.skipped > 0 && candidate.table.some((row) => row.cronName === 'overlap-slow' && row.overlap !== ''), 0, 60_000);
    const row = view.table.find((candidate) => candidate.cronName === 'overlap-slow')!;
    assert.match(row.overlap, WARNING);
    assert.ok(row.skipped24h > 0, `skipped ticks counted in the row: ${JSON.stringify(row)}`);
    assert.equal(view.table.find((candidate) => candidate.cronName === 'overlap-quick')!.overlap, '');
    assert.deepEqual(hooks.received.filter((message) => message.type === 'problem'), [], 'no script error or CSP violation in the page');
    await vscode.commands.executeCommand('notifications.clearAll');
    await requestScreenshot('overlap-dashboard');
  });
});
