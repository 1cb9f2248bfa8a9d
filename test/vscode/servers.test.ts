// Several servers (cronOps.servers): two real backends in one window. One root per server in the Crons view,
// a cron triggered from the second root runs on the second server, Switch Server moves the status bar, the
// dashboard shows any server, and a failure on the server not looked at reaches the user under `failures`.
import assert from 'node:assert/strict';
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

describe('Several servers (cronOps.servers)', () => {
  let staging: ServerProcess;
  let production: ServerProcess;
  let api: CronOpsApi;
  const notified: Array<{ execution: Execution; summary: string; server: string }> = [];
  const subscriptions: vscode.Disposable[] = [];

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
    subscriptions.push(api.notifications.onDidNotify((announced) => notified.push(announced)));
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
