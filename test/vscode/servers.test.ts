// Several servers (cronOps.servers): two real backends in one window. One root per server in the Crons view,
// a cron triggered from the second root runs on the second server, Switch Server moves the status bar, the
// dashboard shows any server, and a failure on the server not looked at reaches the user under `failures`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { API_PATHS, type Execution } from '../../src/shared/api';
import type { CronOpsApi } from '../../src/extension/extension';
import type { CronTreeItem, ServerTreeItem } from '../../src/extension/cronTree';
import type { LogTail } from '../../src/extension/logTail';
import type { ServerConnection } from '../../src/extension/servers';
import type { TriggerOutcome } from '../../src/extension/triggerCommand';
import { nodeCron, startServer, type ServerProcess } from '../support/serverProcess';
import { requestScreenshot } from './harness/protocol';
import { cronOpsApi, disconnect, markdownText, setSetting, until } from './cronOpsTestKit';

const FAILING = "console.error('quota exceeded'); process.exit(4)";
const SECRET = 's3cretPW';

/** The notifications the extension shows (vscode.window's show*Message wrapped), with an event per message. */
function recordMessages(): { messages: string[]; onDidShow: vscode.Event<string>; dispose(): void } {
  const shown = new vscode.EventEmitter<string>();
  const messages: string[] = [];
  const window = vscode.window as unknown as Record<string, (...args: unknown[]) => unknown>;
  const names = ['showInformationMessage', 'showWarningMessage', 'showErrorMessage'];
  const originals = names.map((name) => window[name]);
  for (const [index, name] of names.entries()) {
    window[name] = (...args: unknown[]) => {
      const text = `${name}: ${String(args[0])}`;
      messages.push(text);
      shown.fire(text);
      return originals[index].apply(vscode.window, args);
    };
  }
  return {
    messages,
    onDidShow: shown.event,
    dispose: () => {
      names.forEach((name, index) => (window[name] = originals[index]));
      shown.dispose();
    },
  };
}

describe('Several servers (cronOps.servers)', () => {
  let staging: ServerProcess;
  let production: ServerProcess;
  let api: CronOpsApi;
  const notified: Array<{ execution: Execution; summary: string; server: string }> = [];
  const subscriptions: vscode.Disposable[] = [];
  let recorder: ReturnType<typeof recordMessages>;
  const bothServers = () => [
    { name: 'staging', url: staging.url },
    { name: 'production', url: production.url },
  ];
  /** Waits until the list is `names` (in order) and every server is connected with its crons. */
  const settled = async (names: string[]) => {
    await until(api.servers.onDidChange, () => api.servers.all.map((each) => each.name).join() === names.join(), `the servers ${names.join(', ')}`, 30_000, describeServers);
    await serversUntil(() => api.servers.all.every((each) => each.state.connection === 'connected' && each.state.crons.length === 2), 'every server connected with its crons');
  };
  const warningUntil = (pattern: RegExp, what: string) =>
    until(recorder.onDidShow, () => recorder.messages.find((message) => message.startsWith('showWarningMessage') && pattern.test(message)), what, 30_000, () => recorder.messages.join('\n'));

  const setServers = (value: unknown) => vscode.workspace.getConfiguration('cronOps').update('servers', value, vscode.ConfigurationTarget.Global);
  const server = (name: string): ServerConnection => {
    const found = api.servers.find(name);
    if (!found) throw new Error(`no server ${name}: ${api.servers.all.map((each) => each.name).join(', ')}`);
    return found;
  };
  const describeServers = () => api.servers.all.map((each) => `${each.name}: ${each.state.connection}, ${each.state.crons.length} crons, ${each.state.lastError ?? 'no error'}`).join('; ');
  const serversUntil = <T>(probe: () => T | undefined | null | false, what: string) => until(api.servers.onDidChangeAnyState, probe, what, 60_000, describeServers);
  const roots = async () => (await api.tree.provider.getChildren()) as ServerTreeItem[];
  const root = async (name: string) => {
    const found = (await roots()).find((item) => item.label === name);
    if (!found) throw new Error(`no root ${name}`);
    return found;
  };
  const cronsUnder = async (name: string) => (await api.tree.provider.getChildren(await root(name))) as CronTreeItem[];
  const executionsOn = async (target: ServerProcess, cronName: string) => {
    const response = await fetch(`${target.url}${API_PATHS.executions}?cronName=${cronName}`, { headers: { authorization: `Bearer ${target.token}` } });
    return ((await response.json()) as { executions: Execution[] }).executions;
  };

  before(async () => {
    const shared = (where: string) => nodeCron('shared-report', `console.log('report on ${where}')`, { estimatedDurationMs: 200 });
    [staging, production, api] = await Promise.all([
      startServer({ config: { crons: [shared('staging'), nodeCron('staging-only', "console.log('staging')")] } }),
      startServer({ config: { rateLimits: { perCronSeconds: 0, globalPerMinute: 100 }, crons: [shared('production'), nodeCron('billing-sync', FAILING, { estimatedDurationMs: 200 })] } }),
      cronOpsApi(),
    ]);
    api.dashboard.panel?.dispose();
    subscriptions.push(api.notifications.onDidNotify((announced) => notified.push(announced)), (recorder = recordMessages()));
    await setSetting('confirmBeforeTrigger', false);
    await setSetting('serverUrl', staging.url);
    await setServers([
      { name: 'staging', url: staging.url },
      { name: 'production', url: production.url },
    ]);
    await until(api.servers.onDidChange, () => api.servers.several && api.servers.find('production'), 'two servers', 30_000, describeServers);
    assert.equal(await vscode.commands.executeCommand('cronOps.switchServer', 'staging'), 'staging');
    for (const [name, backend] of [['staging', staging], ['production', production]] as const) {
      assert.equal(await vscode.commands.executeCommand<boolean>('cronOps.signIn', { server: name, token: backend.token }), true, `signed in to ${name}`);
    }
    await serversUntil(
      () => api.servers.all.every((each) => each.state.connection === 'connected' && each.state.crons.length === 2),
      'both servers connected with their two crons',
    );
  });

  after(async () => {
    for (const subscription of subscriptions) subscription.dispose();
    api.dashboard.panel?.dispose();
    await setSetting('notify', undefined);
    if (api.servers.find('production')) await vscode.commands.executeCommand('cronOps.signOut', { server: 'production' });
    await setServers(undefined);
    await until(api.servers.onDidChange, () => !api.servers.several, 'one server again', 30_000, describeServers);
    await disconnect();
    await Promise.all([staging?.stop(), production?.stop()]);
  });

  it('shows one root per server (name, state, URL in the tooltip) with its own crons under it', async () => {
    const rows = await roots();
    assert.deepEqual(
      rows.map((row) => [row.label, /^server\b/.test(row.contextValue ?? '')]),
      [
        ['staging', true],
        ['production', true],
      ],
    );
    assert.match(String(rows[0].description), /^active · connected · 2 crons$/);
    assert.match(String(rows[1].description), /^connected · 2 crons$/);
    assert.ok(markdownText(rows[1].tooltip).includes(production.url), markdownText(rows[1].tooltip));
    assert.deepEqual(
      (await cronsUnder('production')).map((row) => row.cron.name),
      ['shared-report', 'billing-sync'],
    );
    assert.deepEqual(
      (await cronsUnder('staging')).map((row) => row.cron.name),
      ['shared-report', 'staging-only'],
    );
    // One cron name on both servers: two rows, two ids.
    const ids = new Set([...(await cronsUnder('staging')), ...(await cronsUnder('production'))].map((row) => row.id));
    assert.equal(ids.size, 4);

    await vscode.commands.executeCommand('notifications.clearAll');
    await vscode.commands.executeCommand('workbench.view.extension.cronOps');
    const view = api.tree.view;
    await view.reveal((await cronsUnder('production'))[0], { expand: false, select: false, focus: false });
    await requestScreenshot('several-servers', { waitForSelector: '#workbench\\.parts\\.sidebar .monaco-list-row' });
  });

  it('triggering a cron from the second root runs it on the second server, not on the active one; its logs come from there', async () => {
    const row = (await cronsUnder('production')).find((item) => item.cron.name === 'shared-report');
    assert.ok(row);
    const stagingBefore = (await executionsOn(staging, 'shared-report')).length;
    const outcome = await vscode.commands.executeCommand<TriggerOutcome>('cronOps.triggerCron', row);
    assert.equal(outcome.kind, 'started', JSON.stringify(outcome));
    if (outcome.kind !== 'started') return;
    const onProduction = await executionsOn(production, 'shared-report');
    assert.ok(
      onProduction.some((execution) => execution.id === outcome.reply.executionId),
      'the production server has the run',
    );
    assert.equal((await executionsOn(staging, 'shared-report')).length, stagingBefore, 'the staging server ran nothing');
    // The production root's row shows the run once its event arrives.
    await serversUntil(() => server('production').state.cron('shared-report')?.lastExecution?.id === outcome.reply.executionId, 'the run in the production state');
    assert.equal(server('staging').state.knownExecution(outcome.reply.executionId), undefined);

    // Its row under the production root opens its logs from the production server.
    const children = await api.tree.provider.getChildren(row);
    const runRow = children.find((child) => child.id?.endsWith(outcome.reply.executionId));
    assert.ok(runRow?.command, `a row for the run: ${children.map((child) => child.id).join(', ')}`);
    const tail = await vscode.commands.executeCommand<LogTail>(runRow.command.command, ...(runRow.command.arguments ?? []));
    const ended = await tail.finished;
    assert.equal(ended?.id, outcome.reply.executionId);
    assert.equal(ended?.status, 'completed');
  });

  it('Switch Server changes the active server: the status bar names it and shows its numbers', async () => {
    assert.match(api.statusBar.text, /^\$\(server\) staging · /);
    assert.equal(api.state, server('staging').state);
    assert.equal(await vscode.commands.executeCommand('cronOps.switchServer', 'production'), 'production');
    assert.match(api.statusBar.text, /^\$\(server\) production · /);
    assert.equal(api.state, server('production').state);
    assert.match(String((await root('production')).description), /^active · /);
    await vscode.commands.executeCommand('notifications.clearAll');
    await requestScreenshot('several-servers-status-bar', { selector: '#workbench\\.parts\\.statusbar' });
    assert.equal(await vscode.commands.executeCommand('cronOps.switchServer', 'staging'), 'staging');
    assert.match(api.statusBar.text, /^\$\(server\) staging · /);
  });

  it('the dashboard shows the server it is opened on, and its Run acts there', async () => {
    await vscode.commands.executeCommand('cronOps.openDashboard', 'production');
    assert.equal(api.dashboard.server.name, 'production');
    assert.equal(api.dashboard.panel?.title, 'Cron Ops Dashboard: production');
    // The run of the test before has ended in the production state too (its log tail may end first):
    // otherwise the Run is refused up front as "already running".
    await serversUntil(() => server('production').state.cron('shared-report')?.runningExecution == null, 'shared-report no longer running on production');
    const before = (await executionsOn(production, 'shared-report')).length;
    await api.dashboard.handle({ type: 'trigger', cronName: 'shared-report' });
    const runs = await executionsOn(production, 'shared-report');
    assert.equal(runs.length, before + 1, 'the dashboard\'s Run triggered on production');
    // Its own picker (title bar) shows the other server.
    assert.equal(await vscode.commands.executeCommand('cronOps.showServerInDashboard', { server: 'staging' }), 'staging');
    assert.equal(api.dashboard.server.name, 'staging');
    assert.equal(api.dashboard.panel?.title, 'Cron Ops Dashboard: staging');
    api.dashboard.panel?.dispose();
  });

  it('under failures, a failure on the server not shown is notified, naming it, and counted in the status bar', async () => {
    await setSetting('notify', 'failures');
    assert.equal(api.servers.active.name, 'staging');
    const start = notified.length;
    // Not triggered from this window: only `failures` (or `all`) announces it.
    const response = await fetch(`${production.url}${API_PATHS.trigger}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${production.token}` },
      body: JSON.stringify({ cronName: 'billing-sync' }),
    });
    assert.equal(response.status, 202, await response.clone().text());
    const { executionId } = (await response.json()) as { executionId: string };
    const announced = await until(api.notifications.onDidNotify, () => notified.slice(start).find(({ execution }) => execution.id === executionId), 'the production failure to be announced', 60_000);
    assert.equal(announced.server, 'production');
    assert.match(announced.summary, /^production: billing-sync failed in .+: /);
    assert.ok(api.notifications.unseenCount >= 1);
    assert.match(api.statusBar.text, /^\$\(server\) staging · \$\(bell-dot\) \d+ unseen · /);
  });

  it('a click on the status bar opens the dashboard of the server whose failure is unseen, and clears it', async () => {
    assert.equal(api.servers.active.name, 'staging');
    assert.ok(api.notifications.unseenOn(server('production').id) >= 1, 'the production failure of the test before is unseen');
    assert.match(markdownText(api.statusBar.item.tooltip as vscode.MarkdownString), /Click to open the dashboard of production, where the failures are\./);
    const click = api.statusBar.item.command as vscode.Command;
    await vscode.commands.executeCommand(click.command, ...(click.arguments ?? []));
    await until(api.notifications.onDidChangeUnseen, () => api.notifications.unseenCount === 0, 'the unseen failures to be cleared', 30_000, () => api.statusBar.text);
    assert.equal(api.dashboard.server.name, 'production');
    assert.doesNotMatch(api.statusBar.text, /unseen/);
    assert.match(api.statusBar.text, /^\$\(server\) staging · /, 'the active server stays the one the user chose');
    api.dashboard.panel?.dispose();
  });

  it('a viewer token on one server and an admin one on the other: each row offers what its own server allows', async () => {
    const created = await fetch(`${production.url}${API_PATHS.tokens}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${production.token}` },
      body: JSON.stringify({ name: `viewer-${Date.now()}`, role: 'viewer' }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const { token } = (await created.json()) as { token: string };
    try {
      assert.equal(await vscode.commands.executeCommand<boolean>('cronOps.signIn', { server: 'production', token }), true);
      await serversUntil(() => server('production').state.role === 'viewer' && server('production').state.crons.length === 2, 'production as a viewer');
      await serversUntil(() => server('staging').state.role === 'super-admin', 'staging as super-admin');
      // package.json: Execute/Pause/Cancel on a row need `canAct` in its contextValue, Manage Tokens on a root `superAdmin`.
      for (const row of await cronsUnder('production')) assert.doesNotMatch(row.contextValue ?? '', /\bcanAct\b/, `${row.cron.name} on production offers actions`);
      for (const row of await cronsUnder('staging')) assert.match(row.contextValue ?? '', /\bcanAct\b/, `${row.cron.name} on staging offers no action`);
      const runs = (await api.tree.provider.getChildren((await cronsUnder('production'))[0])).filter((child) => /^execution\b/.test(child.contextValue ?? ''));
      assert.ok(runs.length > 0 && runs.every((child) => !/\bcanAct\b/.test(child.contextValue ?? '')), runs.map((child) => child.contextValue).join());
      assert.doesNotMatch((await root('production')).contextValue ?? '', /\bsuperAdmin\b/);
      assert.match((await root('staging')).contextValue ?? '', /\bsuperAdmin\b/);
      // The palette acts on the active server: its keys follow it.
      assert.equal(api.contextKeys.get('cronOps.canAct'), true);
      assert.equal(await vscode.commands.executeCommand('cronOps.switchServer', 'production'), 'production');
      assert.equal(api.contextKeys.get('cronOps.canAct'), false);
      assert.equal(api.contextKeys.get('cronOps.isSuperAdmin'), false);
    } finally {
      assert.equal(await vscode.commands.executeCommand('cronOps.switchServer', 'staging'), 'staging');
      assert.equal(await vscode.commands.executeCommand<boolean>('cronOps.signIn', { server: 'production', token: production.token }), true);
      await serversUntil(() => server('production').state.role === 'super-admin' && server('production').state.crons.length === 2, 'production as super-admin again');
    }
    assert.match((await cronsUnder('production'))[0].contextValue ?? '', /\bcanAct\b/, 'the admin token again: the rows offer the actions');
  });

  it('renaming a server in the settings renames its root, the status bar and the dashboard title, on the same connection', async () => {
    assert.equal(await vscode.commands.executeCommand('cronOps.switchServer', 'production'), 'production');
    await vscode.commands.executeCommand('cronOps.openDashboard');
    assert.equal(api.dashboard.panel?.title, 'Cron Ops Dashboard: production');
    const before = server('production');
    // A browser's address (fragment) for the same server: cleaned, with a warning, and still the same server.
    await setServers([
      { name: 'stage', url: staging.url },
      { name: 'prod-eu', url: `${production.url}/#/crons` },
    ]);
    await until(api.servers.onDidChange, () => api.servers.find('prod-eu') && api.servers.find('stage'), 'the new names', 30_000, describeServers);
    await warningUntil(/cronOps\.servers\[1\]: the fragment "#\/crons" .* was ignored/, 'the warning about the fragment');
    assert.equal(api.servers.find('prod-eu'), before, 'the same connection (no new sign-in)');
    assert.equal(server('prod-eu').entry.url, production.url);
    assert.equal(server('prod-eu').state.connection, 'connected');
    assert.equal(api.dashboard.panel?.title, 'Cron Ops Dashboard: prod-eu');
    assert.deepEqual(
      (await roots()).map((row) => row.label),
      ['stage', 'prod-eu'],
    );
    assert.match(api.statusBar.text, /^\$\(server\) prod-eu · /);
    api.dashboard.panel?.dispose();
    await setServers(bothServers());
    await settled(['staging', 'production']);
    assert.equal(await vscode.commands.executeCommand('cronOps.switchServer', 'staging'), 'staging');
  });

  it('names are text: a server named "default" is reached by that name, a "$(icon)" in a name does not render as an icon', async () => {
    await setServers([
      { name: '$(check) stage · 0 failed', url: staging.url },
      { name: 'default', url: production.url },
    ]);
    await settled(['$(check) stage · 0 failed', 'default']);
    assert.equal(await vscode.commands.executeCommand('cronOps.switchServer', 'default'), 'default');
    assert.equal(api.servers.active.entry.url, production.url, 'the server named "default", not the cronOps.serverUrl one');
    assert.match(api.statusBar.text, /^\$\(server\) default · /);
    assert.equal(await vscode.commands.executeCommand('cronOps.switchServer', staging.url), '$(check) stage · 0 failed');
    // VS Code renders "\$(check)" as the text "$(check)": only the leading $(server) is an icon.
    assert.ok(api.statusBar.text.startsWith('$(server) \\$(check) stage · 0 failed · '), api.statusBar.text);
    await setServers(bothServers());
    await settled(['staging', 'production']);
  });

  it('the active server stays the one chosen: editing cronOps.serverUrl does not move it; once removed, re-adding it does not bring it back', async () => {
    assert.equal(await vscode.commands.executeCommand('cronOps.switchServer', 'staging'), 'staging');
    // cronOps.serverUrl now names production (the CodeLens server); the list is the same.
    await setSetting('serverUrl', production.url);
    await until(api.servers.onDidChange, () => api.servers.default.entry.url === production.url, 'production as the cronOps.serverUrl server', 30_000, describeServers);
    assert.equal(api.servers.active.name, 'staging');
    assert.match(api.statusBar.text, /^\$\(server\) staging · /);
    await setSetting('serverUrl', staging.url);
    await until(api.servers.onDidChange, () => api.servers.default.entry.url === staging.url, 'staging as the cronOps.serverUrl server again', 30_000, describeServers);
    await settled(['staging', 'production']);
    assert.equal(api.servers.active.name, 'staging');

    assert.equal(await vscode.commands.executeCommand('cronOps.switchServer', 'production'), 'production');
    await setServers([{ name: 'staging', url: staging.url }]);
    await until(api.servers.onDidChange, () => !api.servers.several, 'production removed', 30_000, describeServers);
    assert.equal(api.servers.active.name, 'staging', 'the active server removed: the cronOps.serverUrl one');
    await setServers(bothServers());
    await settled(['staging', 'production']);
    assert.equal(api.servers.active.name, 'staging', 'the server listed again does not become active on its own');
  });

  it('credentials in a server URL: a listed one is left out saying to use Sign In; in cronOps.serverUrl they are never sent, and never shown', async () => {
    recorder.messages.length = 0;
    await setServers([...bothServers(), { name: 'with-password', url: `http://alice:${SECRET}@127.0.0.1:1` }]);
    await warningUntil(/cronOps\.servers\[2\]: "http:\/\/\*\*\*@127\.0\.0\.1:1" holds a user name or password; it was left out\. .*Sign In/, 'the warning about the credentials');
    assert.equal(api.servers.find('with-password'), undefined);

    await setSetting('serverUrl', staging.url.replace('http://', `http://alice:${SECRET}@`));
    await warningUntil(/cronOps\.serverUrl holds a user name or password: they are not sent\. .*Sign In/, 'the warning about cronOps.serverUrl');
    assert.equal(server('staging').entry.url, staging.url);
    const report = await vscode.commands.executeCommand<{ ok: boolean; message: string }>('cronOps.checkConnection', { server: 'staging' });
    assert.equal(report.ok, true, report.message);
    await serversUntil(() => server('staging').state.connection === 'connected', 'staging connected without the credentials');
    const shown = [
      report.message,
      markdownText((await root('staging')).tooltip),
      String((await root('staging')).description),
      api.statusBar.text,
      markdownText(api.statusBar.item.tooltip as vscode.MarkdownString),
      ...recorder.messages,
    ].join('\n');
    assert.equal(shown.includes(SECRET), false, shown);
    await setSetting('serverUrl', staging.url);
    await setServers(bothServers());
    await settled(['staging', 'production']);
  });

  it('a server removed from the list, even by a quick add-and-remove, keeps no connection open to it (its event stream is closed)', async () => {
    const extra = await startServer({ config: { crons: [nodeCron('extra-cron', "console.log('x')")] } });
    /** Established TCP connections from this window to the extra server (its event stream stays open while it is watched). */
    const openConnections = () => execFileSync('ss', ['-tnH', 'state', 'established', 'dst', `127.0.0.1:${extra.port}`], { encoding: 'utf8' }).split('\n').filter((line) => line.trim()).length;
    /** No event says a socket closed: the kernel's table is read until it holds none (bounded). */
    const noneOpen = async (what: string) => {
      const deadline = Date.now() + 45_000;
      while (openConnections() > 0) {
        if (Date.now() > deadline) throw new Error(`${openConnections()} connection(s) still open to the removed server (${what})`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    try {
      await setServers([...bothServers(), { name: 'extra', url: extra.url }]);
      await until(api.servers.onDidChange, () => api.servers.find('extra'), 'extra listed', 30_000, describeServers);
      assert.equal(await vscode.commands.executeCommand<boolean>('cronOps.signIn', { server: 'extra', token: extra.token }), true);
      await serversUntil(() => server('extra').state.connection === 'connected', 'extra connected');
      assert.ok(openConnections() >= 1, 'its event stream is open while it is listed');
      await setServers(bothServers());
      await until(api.servers.onDidChange, () => !api.servers.find('extra'), 'extra removed', 30_000, describeServers);
      await noneOpen('removed');
      // A quick edit of settings.json: added and removed at once, several times.
      for (let round = 0; round < 5; round++) await Promise.all([setServers([...bothServers(), { name: 'extra', url: extra.url }]), setServers(bothServers())]);
      await setServers(bothServers());
      await until(api.servers.onDidChange, () => !api.servers.find('extra'), 'extra removed after the quick edits', 30_000, describeServers);
      await noneOpen('after the quick edits');
    } finally {
      await setServers(bothServers());
      await extra.stop();
    }
  });

  it('cronOps.servers and cronOps.serverUrl of a workspace are ignored (user settings only: a workspace cannot send a token elsewhere)', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(folder, 'a workspace folder');
    const settingsFile = join(folder, '.vscode', 'settings.json');
    mkdirSync(dirname(settingsFile), { recursive: true });
    const existed = existsSync(settingsFile) ? readFileSync(settingsFile, 'utf8') : undefined;
    writeFileSync(settingsFile, JSON.stringify({ 'cronOps.servers': [{ name: 'evil', url: 'http://127.0.0.1:1' }], 'cronOps.serverUrl': 'http://127.0.0.1:2', 'cronOps.historyLimit': 7 }));
    try {
      // A window-scoped setting of the same file proves VS Code read it (the extension hears the same change).
      await until(vscode.workspace.onDidChangeConfiguration, () => vscode.workspace.getConfiguration('cronOps').inspect('historyLimit')?.workspaceValue === 7, 'VS Code to read the workspace settings', 20_000);
      assert.deepEqual(
        api.servers.all.map((each) => each.displayUrl),
        [staging.url, production.url],
      );
    } finally {
      if (existed === undefined) rmSync(settingsFile);
      else writeFileSync(settingsFile, existed);
      await until(vscode.workspace.onDidChangeConfiguration, () => vscode.workspace.getConfiguration('cronOps').inspect('historyLimit')?.workspaceValue === undefined, 'VS Code to drop the workspace settings', 20_000).catch(() => undefined);
    }
  });

  it('the dashboard showing a server that is then removed shows the active one, titled so', async () => {
    await vscode.commands.executeCommand('cronOps.openDashboard', 'production');
    assert.equal(api.dashboard.panel?.title, 'Cron Ops Dashboard: production');
    await setServers([{ name: 'staging', url: staging.url }]);
    await until(api.servers.onDidChange, () => !api.servers.several, 'production removed', 30_000, describeServers);
    assert.equal(api.dashboard.server.name, 'staging');
    assert.equal(api.dashboard.panel?.title, 'Cron Ops Dashboard');
    api.dashboard.panel?.dispose();
    await setServers(bothServers());
    await settled(['staging', 'production']);
  });

  it('under mine, a failing run triggered from the other server\'s row is announced naming that server', async () => {
    await setSetting('notify', 'mine');
    assert.equal(api.servers.active.name, 'staging');
    const row = (await cronsUnder('production')).find((item) => item.cron.name === 'billing-sync');
    assert.ok(row);
    const outcome = await vscode.commands.executeCommand<TriggerOutcome>('cronOps.triggerCron', row);
    assert.equal(outcome.kind, 'started', JSON.stringify(outcome));
    if (outcome.kind !== 'started') return;
    const announced = await until(api.notifications.onDidNotify, () => notified.find(({ execution }) => execution.id === outcome.reply.executionId), 'the announcement', 60_000);
    assert.equal(announced.server, 'production');
    assert.match(announced.summary, /^production: billing-sync failed/);
    await setSetting('notify', 'failures');
  });

  it('Sign Out of one server leaves the other signed in; a server moved to another port asks for a new sign-in (its old token is not sent there)', async () => {
    await vscode.commands.executeCommand('cronOps.signOut', { server: 'production' });
    await serversUntil(() => server('production').state.connection === 'signedOut', 'production signed out');
    assert.equal(server('staging').state.connection, 'connected');
    assert.equal(await server('staging').tokens.get(), staging.token);
    assert.equal(await server('production').tokens.get(), undefined);
    assert.match(String((await root('production')).description), /signed out/);
    assert.equal(await vscode.commands.executeCommand<boolean>('cronOps.signIn', { server: 'production', token: production.token }), true);
    await settled(['staging', 'production']);

    const moved = await startServer({ config: { crons: [nodeCron('moved-cron', "console.log('m')")] } });
    try {
      await setServers([
        { name: 'staging', url: staging.url },
        { name: 'production', url: moved.url },
      ]);
      await serversUntil(() => api.servers.find('production')?.entry.url === moved.url && server('production').state.connection === 'signedOut', 'production at its new port, signed out');
      assert.equal(await server('production').tokens.get(), undefined);
    } finally {
      await setServers(bothServers());
      await moved.stop();
    }
    await settled(['staging', 'production']);
  });

  it('a server that stops answering shows as unreachable with the reason on its root; the other stays connected', async () => {
    await production.stop();
    await serversUntil(() => server('production').state.connection === 'disconnected', 'production to be seen as unreachable');
    const productionRow = () => api.tree.provider.serverItem(server('production').id);
    await root('production');
    await until(api.tree.provider.onDidChangeTreeData, () => /^unreachable · /.test(String(productionRow()?.description ?? '')), 'the production root to say unreachable', 30_000, () => String(productionRow()?.description));
    const row = await root('production');
    assert.match(markdownText(row.tooltip), /does not answer|unreachable|refused/i);
    assert.equal(server('staging').state.connection, 'connected');
    assert.match(String((await root('staging')).description), /^active · connected · /);
  });
});
