// A live UI that never lies: time moves the tree and the status bar without any event (on a controllable
// clock, not a real minute), the next run moves on after a tick, a run ended by a server stop is reconciled and
// announced once the server is back, the disconnected tooltip reads cleanly, roles shape the menus, and Open
// Script opens the script in the workspace rather than a build copy.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Execution } from '../../src/shared/api';
import type { ApiError } from '../../src/extension/apiClient';
import type { CronOpsApi } from '../../src/extension/extension';
import type { TriggerOutcome } from '../../src/extension/triggerCommand';
import { nodeCron, runServerCommand, startServer, type ServerProcess, type TestConfig } from '../support/serverProcess';
import { requestScreenshot } from './harness/protocol';
import { connectTo, cronOpsApi, cronRow, disconnect, markdownText, setSetting, stateUntil, tooltipText, until } from './cronOpsTestKit';
import { DashboardRecorder } from './dashboardRecorder';

const workspace = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? mkdtempSync(join(tmpdir(), 'cron-ops-workspace-'));
// A script as the repository holds it, and the build copy a server started by `npm start` runs.
const sourceScript = join(workspace, 'src', 'server', 'demo', 'scripts', 'live-ui.mjs');
const builtScript = join(workspace, 'dist', 'demo', 'scripts', 'live-ui.mjs');
for (const [path, text] of [
  [sourceScript, "console.log('the source')\n"],
  [builtScript, "console.log('the build copy')\n"],
]) {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

const config: TestConfig = {
  rateLimits: { perCronSeconds: 1, globalPerMinute: 100 },
  crons: [
    nodeCron('quick-job', "console.log('quick')", { estimatedDurationMs: 300 }),
    nodeCron('long-job', "console.log('working'); setInterval(() => {}, 1000)", { estimatedDurationMs: 60_000, timeoutMs: 600_000 }),
    nodeCron('every-minute', "console.log('tick')", { schedule: '* * * * *', estimatedDurationMs: 300 }),
    { name: 'script-job', description: 'Runs a script of the workspace', schedule: '0 0 1 1 *', command: [process.execPath, builtScript], estimatedDurationMs: 300, timeoutMs: 60_000 },
  ],
};

describe('A live UI: one clock, every state visible', () => {
  let server: ServerProcess;
  let api: CronOpsApi;
  const dataDir = mkdtempSync(join(tmpdir(), 'cron-ops-live-ui-'));
  const announcements: Array<{ execution: Execution; summary: string }> = [];
  const subscriptions: vscode.Disposable[] = [];

  const trigger = async (name: string): Promise<string> => {
    const outcome = await vscode.commands.executeCommand<TriggerOutcome>('cronOps.triggerCron', name);
    assert.equal(outcome.kind, 'started', JSON.stringify(outcome));
    return outcome.kind === 'started' ? outcome.reply.executionId : '';
  };
  /** The next change the tree view reports for a cron's row. */
  const rowChanged = (name: string) => until(api.tree.provider.onDidChangeTreeData, () => true, `the row of ${name} to change`).then(() => api.tree.provider.item(name)!);

  let viewerToken = '';

  before(async () => {
    // A store on disk: the server restarted below finds the run its stop ended, and the viewer's token.
    const created = await runServerCommand(['token', 'create', '--name', 'viewer-op', '--role', 'viewer', '--data', dataDir], {}, 60_000);
    assert.equal(created.code, 0, `token create: ${created.stdout}${created.stderr}`);
    viewerToken = created.stdout.trim().split('\n').pop()!.trim();
    [server, api] = await Promise.all([startServer({ config, args: ['--data', dataDir] }), cronOpsApi()]);
    subscriptions.push(api.notifications.onDidNotify((announced) => announcements.push(announced)));
    await connectTo(api, server, config.crons.length);
    await vscode.commands.executeCommand('workbench.view.extension.cronOps');
  });

  after(async () => {
    api?.clock.useTimeSource(undefined);
    for (const subscription of subscriptions) subscription.dispose();
    await disconnect();
    await server?.stop();
  });

  it('moves the tree text, its tooltips and the status bar when a minute passes with no event', async () => {
    const id = await trigger('quick-job');
    await stateUntil(api, () => api.state.cron('quick-job')?.lastExecution?.id === id && !api.state.cron('quick-job')?.runningExecution, 'quick-job to end');
    const start = api.clock.now();
    api.clock.useTimeSource(() => start);
    const before = await cronRow(api, 'quick-job');
    assert.match(String(before.description), /^completed · .+ · now$/);
    const tooltipBefore = tooltipText(before);
    const statusBefore = api.statusBar.text;

    // A minute later, no event from the server: only the clock moved.
    const changed = rowChanged('quick-job');
    api.clock.useTimeSource(() => start + 61_000);
    const row = await changed;
    assert.match(String(row.description), /^completed · .+ · 1 min\. ago$/);
    assert.notEqual(tooltipText(row), tooltipBefore, 'the tooltip moved on too');
    assert.match(tooltipText(row), /Last run: completed · 1 min\. ago/);
    assert.notEqual(api.statusBar.text, statusBefore, 'the status bar countdown moved on');
  });

  it('after a scheduled tick the next run moves on at once, in the tree and the status bar', async () => {
    const cron = api.state.cron('every-minute')!;
    const due = Date.parse(cron.nextRunAt!);
    api.clock.useTimeSource(() => due + 2_000);
    const tooltip = tooltipText(await cronRow(api, 'every-minute'));
    assert.match(tooltip, /Next run: .+ \(in (5[0-9]|[1-9]) sec\.\)/, tooltip);
    assert.doesNotMatch(api.statusBar.text, /next in 0 sec/);
    assert.match(api.statusBar.text, /next in \d+(\.\d)? sec/);
    api.clock.useTimeSource(undefined);
  });

  it('a running duration ticks in the tree on the clock', async () => {
    const id = await trigger('long-job');
    await stateUntil(api, () => api.state.cron('long-job')?.runningExecution?.id === id, 'long-job to run');
    const started = Date.parse(api.state.cron('long-job')!.runningExecution!.startedAt);
    const changed = rowChanged('long-job');
    api.clock.useTimeSource(() => started + 75_000);
    const row = await changed;
    assert.equal(String(row.description), 'running · 1 min 15 sec');
    api.clock.useTimeSource(undefined);
  });

  it('a run ended by a server stop is reconciled within seconds of reconnecting, and announced like any failure', async () => {
    const running = api.state.cron('long-job')!.runningExecution!;
    const port = server.port;
    await server.stop();
    // No row left ticking "running" while the server is away: the unreachable welcome view instead.
    await stateUntil(api, () => api.state.connection === 'disconnected' && api.state.crons.length === 0, 'the disconnected state, without stale rows');
    const tooltip = api.statusBar.item.tooltip as vscode.MarkdownString;
    assert.ok(!tooltip.value.includes('\\'), `no backslash in the disconnected tooltip: ${tooltip.value}`);
    assert.match(markdownText(tooltip), /\(ECONNREFUSED\)|interrupted/);
    assert.match(markdownText(tooltip), /`npm start`|reconnecting/);
    await requestScreenshot('status-bar-disconnected', { selector: '#workbench\\.parts\\.statusbar' });

    server = await startServer({ config, args: ['--data', dataDir, '--port', String(port)] });
    const announced = await until(api.notifications.onDidNotify, () => announcements.find(({ execution }) => execution.id === running.id), 'the stopped run to be announced', 45_000);
    assert.equal(announced.execution.status, 'failed');
    assert.match(announced.summary, /^long-job failed in .+: Interrupted/);
    const row = await cronRow(api, 'long-job');
    assert.match(String(row.description), /^failed · /);
    assert.match(tooltipText(row), /Last error: Interrupted/);
  });

  it('a viewer is offered no action: none in the menus, no Execute button, a refusal before any question', async () => {
    // Every state the views render from while the token changes: actions are never offered before the session says who this is.
    const seen: Array<{ role: string | undefined; canAct: boolean; key: unknown }> = [];
    const watching = api.state.onDidChange(() => seen.push({ role: api.state.role, canAct: api.state.canAct, key: api.contextKeys.get('cronOps.canAct') }));
    assert.equal(await vscode.commands.executeCommand<boolean>('cronOps.signIn', viewerToken), true);
    await stateUntil(api, () => api.state.connection === 'connected' && api.state.crons.length === config.crons.length, 'the viewer to be connected');
    watching.dispose();
    const session = await fetch(`${server.url}/api/admin/session`, { headers: { authorization: `Bearer ${viewerToken}` } });
    const recorder = new DashboardRecorder(api.dashboard);
    try {
      if (session.status === 200) {
        // Until the session answers (role unknown) and once it says viewer, no action is offered, nor the menus' key set.
        const offered = seen.filter((entry) => entry.role !== 'admin' && entry.role !== 'super-admin' && (entry.canAct || entry.key !== false));
        assert.deepEqual(offered, [], JSON.stringify(seen));
        await stateUntil(api, () => api.state.role === 'viewer', 'the viewer role from the session');
        assert.equal(api.contextKeys.get('cronOps.canAct'), false);
        assert.equal(api.contextKeys.get('cronOps.isSuperAdmin'), false);
        assert.doesNotMatch((await cronRow(api, 'quick-job')).contextValue ?? '', /\bcanAct\b/, 'the viewer\'s rows offer no action');
        await setSetting('confirmBeforeTrigger', true);
        // A confirmation would hold the command until the test times out: the refusal comes first.
        const outcome = await vscode.commands.executeCommand<TriggerOutcome>('cronOps.triggerCron', 'quick-job');
        assert.equal(outcome.kind, 'refused');
        assert.ok(outcome.kind === 'refused' && outcome.upFront && outcome.status === 403, JSON.stringify(outcome));
        await vscode.commands.executeCommand('cronOps.openDashboard');
        const view = await recorder.rendered((candidate) => candidate.table.length === config.crons.length);
        assert.deepEqual(view.table.filter((row) => row.execute), [], 'no Execute button for a viewer');
      } else {
        // A server without the session route: actions stay offered, and the server refuses them with the role.
        assert.equal(session.status, 404);
        assert.equal(api.state.role, undefined);
        assert.equal(api.contextKeys.get('cronOps.canAct'), true);
        const outcome = await vscode.commands.executeCommand<TriggerOutcome>('cronOps.triggerCron', 'quick-job');
        assert.ok(outcome.kind === 'refused' && outcome.status === 403 && !outcome.upFront, JSON.stringify(outcome));
        assert.match(outcome.message, /role cannot trigger/);
      }
    } finally {
      recorder.dispose();
      api.dashboard.panel?.dispose();
      await setSetting('confirmBeforeTrigger', false);
      assert.equal(await vscode.commands.executeCommand<boolean>('cronOps.signIn', server.token), true);
      await stateUntil(api, () => api.state.connection === 'connected' && api.state.role !== 'viewer' && api.state.crons.length === config.crons.length, 'the admin to be connected again');
    }
  });

  it('roles shape the menus: the context key follows the session (actions shown when the server has no session route)', async () => {
    const session = await fetch(`${server.url}/api/admin/session`, { headers: { authorization: `Bearer ${server.token}` } });
    if (session.status === 404) {
      assert.equal(api.state.role, undefined);
    } else {
      assert.equal(session.status, 200);
      assert.equal(api.state.role, ((await session.json()) as { role: string }).role);
    }
    assert.equal(api.contextKeys.get('cronOps.canAct'), true);
    // Every action a viewer may not take is gated by the role: a tree row by its own server's role (the row's
    // `canAct` flag, set on this admin's rows), the palette and the view's title by the active server's key.
    const manifest = JSON.parse(readFileSync(join(vscode.extensions.getExtension('cron-ops.cron-ops')!.extensionPath, 'package.json'), 'utf8')) as {
      contributes: { menus: Record<string, Array<{ command: string; when?: string }>> };
    };
    const acting = new Set(['cronOps.triggerCron', 'cronOps.triggerAndFollow', 'cronOps.cancelExecution', 'cronOps.markFailed', 'cronOps.pauseSchedule', 'cronOps.resumeSchedule']);
    const gated = (menu: string) => manifest.contributes.menus[menu].filter((entry) => acting.has(entry.command));
    const rows = gated('view/item/context');
    const others = Object.entries(manifest.contributes.menus).flatMap(([menu, entries]) => (menu === 'view/item/context' ? [] : entries.filter((entry) => acting.has(entry.command))));
    assert.ok(rows.length >= 8 && others.length >= 6);
    for (const entry of rows) assert.match(entry.when ?? '', /\bviewItem =~ \/\\bcanAct\\b\//, `${entry.command} on a tree row is gated by its server's role`);
    for (const entry of others) assert.match(entry.when ?? '', /\bcronOps\.canAct\b/, `${entry.command} is gated by cronOps.canAct`);
    assert.match((await cronRow(api, 'quick-job')).contextValue ?? '', /\bcanAct\b/, 'an admin\'s rows offer the actions');
  });

  it('keeps tokens per server: another URL gets no token of this one, and coming back needs no new sign-in', async () => {
    const other = await startServer({ config: { crons: [nodeCron('elsewhere', "console.log('other server')")] } });
    try {
      await setSetting('serverUrl', other.url);
      await stateUntil(api, () => api.state.connection === 'signedOut' && api.state.crons.length === 0, `the extension to be signed out of ${other.url}`);
      // Both servers accept the same admin token here: had it been sent, the other server would have let it in.
      await assert.rejects(api.client.crons(), (error: ApiError) => error.status === 401);
      await setSetting('serverUrl', server.url);
      await stateUntil(api, () => api.state.connection === 'connected' && api.state.crons.length === config.crons.length, `connected again to ${server.url} with its own token`);
    } finally {
      await other.stop();
    }
  });

  it('Open Script opens the script the config names in the workspace, not its build copy', async () => {
    const editor = await vscode.commands.executeCommand<vscode.TextEditor | undefined>('cronOps.openScript', 'script-job');
    assert.ok(editor, 'an editor was opened');
    assert.equal(editor.document.uri.fsPath, sourceScript);
    assert.match(editor.document.getText(), /the source/);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});
