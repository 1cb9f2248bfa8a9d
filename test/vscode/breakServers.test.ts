// Tester's attack on "Several servers" (issue 13, capability 1): what a new user can type into cronOps.servers and
// do with two servers, checked against the README's promises. Each `it` states the promise it checks.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { API_PATHS } from '../../src/shared/api';
import type { CronOpsApi } from '../../src/extension/extension';
import type { CronTreeItem, ServerTreeItem } from '../../src/extension/cronTree';
import type { ServerConnection } from '../../src/extension/servers';
import { nodeCron, startServer, type ServerProcess } from '../support/serverProcess';
import { HARNESS_DIR_ENV, REPORT_FILE } from './harness/protocol';
import { cronOpsApi, disconnect, markdownText, setSetting, until } from './cronOpsTestKit';

const SECRET = 's3cretPW';
const FAILING = "console.error('boom'); process.exit(3)";
/** A line in the harness's report (console.log from the extension host goes nowhere visible). */
function note(text: string): void {
  const harness = process.env[HARNESS_DIR_ENV];
  if (harness) appendFileSync(join(harness, REPORT_FILE), text + '\n');
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every notification the extension shows, recorded by wrapping vscode.window's show*Message. */
const messages: string[] = [];
function recordMessages(): vscode.Disposable {
  const window = vscode.window as unknown as Record<string, (...args: unknown[]) => unknown>;
  const names = ['showInformationMessage', 'showWarningMessage', 'showErrorMessage'];
  const originals = names.map((name) => window[name]);
  for (const [index, name] of names.entries()) {
    window[name] = (...args: unknown[]) => {
      messages.push(`${name}: ${String(args[0])}`);
      return originals[index].apply(vscode.window, args);
    };
  }
  return { dispose: () => names.forEach((name, index) => (window[name] = originals[index])) };
}

/** The "Cron Ops" log channel's files (the extension host writes them under the user-data folder). */
function extensionLogText(): string {
  const harness = process.env[HARNESS_DIR_ENV];
  if (!harness) return '';
  const logs = join(dirname(harness), 'user-data', 'logs');
  const files: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/cron ops/i.test(name) && name.endsWith('.log')) files.push(path);
    }
  };
  walk(logs);
  return files.map((file) => readFileSync(file, 'utf8')).join('\n');
}

/** Bytes received per local port on the established TCP connections to a server port. */
function receivedTo(port: number): Map<string, number> {
  const out = execFileSync('ss', ['-tniH', 'state', 'established', 'dst', `127.0.0.1:${port}`], { encoding: 'utf8' });
  const result = new Map<string, number>();
  let local: string | undefined;
  for (const line of out.split('\n')) {
    const address = /^\s*\S+\s+\S+\s+(\S+)\s+127\.0\.0\.1:\d+/.exec(line) ?? /^\s*\d+\s+\d+\s+(\S+)\s+\S+/.exec(line);
    if (address && !line.includes('bytes')) local = address[1];
    const bytes = /bytes_received:(\d+)/.exec(line);
    if (bytes && local) result.set(local, Number(bytes[1]));
  }
  return result;
}

/** Connections to a server port that received bytes during 17 s (the server sends a heartbeat every 15 s on each event stream). */
async function liveStreams(port: number): Promise<number> {
  const before = receivedTo(port);
  await sleep(17_000);
  const after = receivedTo(port);
  return [...after].filter(([local, bytes]) => bytes > (before.get(local) ?? 0)).length;
}

function extraRequests(server: ServerProcess): number {
  return server.output().split('\n').length;
}

describe('Break several servers', () => {
  let staging: ServerProcess;
  let production: ServerProcess;
  let api: CronOpsApi;
  const subscriptions: vscode.Disposable[] = [];

  const setServers = (value: unknown) => vscode.workspace.getConfiguration('cronOps').update('servers', value, vscode.ConfigurationTarget.Global);
  const describeServers = () => api.servers.all.map((each) => `${each.name}<${each.displayUrl}>: ${each.state.connection}, ${each.state.crons.length} crons, ${each.state.lastError ?? 'no error'}`).join('; ');
  const serversUntil = <T>(probe: () => T | undefined | null | false, what: string, ms = 60_000) => until(api.servers.onDidChangeAnyState, probe, what, ms, describeServers);
  const listUntil = <T>(probe: () => T | undefined | null | false, what: string) => until(api.servers.onDidChange, probe, what, 30_000, describeServers);
  const server = (name: string): ServerConnection => {
    const found = api.servers.all.find((each) => each.name === name);
    if (!found) throw new Error(`no server ${name}: ${describeServers()}`);
    return found;
  };
  const roots = async () => (await api.tree.provider.getChildren()) as ServerTreeItem[];
  const root = async (name: string) => {
    const found = (await roots()).find((item) => item.label === name);
    if (!found) throw new Error(`no root ${name}: ${(await roots()).map((item) => item.label).join(', ')}`);
    return found;
  };
  const rootText = async (name: string) => {
    const row = await root(name);
    return `${String(row.label)} | ${String(row.description)} | ${markdownText(row.tooltip)}`;
  };
  const cronsUnder = async (name: string) => (await api.tree.provider.getChildren(await root(name))) as CronTreeItem[];
  const twoServers = async () => {
    await setSetting('serverUrl', staging.url);
    await setServers([
      { name: 'staging', url: staging.url },
      { name: 'production', url: production.url },
    ]);
    await listUntil(() => api.servers.several && api.servers.all.some((each) => each.name === 'production' && each.entry.url === production.url), 'two servers');
    for (const [name, backend] of [['staging', staging], ['production', production]] as const) {
      assert.equal(await vscode.commands.executeCommand<boolean>('cronOps.signIn', { server: name, token: backend.token }), true, `signed in to ${name}`);
    }
    await serversUntil(() => api.servers.all.length === 2 && api.servers.all.every((each) => each.state.connection === 'connected' && each.state.crons.length === 2), 'both connected');
  };

  before(async () => {
    [staging, production, api] = await Promise.all([
      startServer({ config: { crons: [nodeCron('shared-report', "note('staging')"), nodeCron('staging-only', "note('s')")] } }),
      startServer({ config: { rateLimits: { perCronSeconds: 0, globalPerMinute: 100 }, crons: [nodeCron('shared-report', "note('production')"), nodeCron('billing-sync', FAILING, { estimatedDurationMs: 200 })] } }),
      cronOpsApi(),
    ]);
    api.dashboard.panel?.dispose();
    subscriptions.push(recordMessages());
    await setSetting('confirmBeforeTrigger', false);
  });

  afterEach(async () => {
    await setSetting('notify', undefined);
  });

  after(async () => {
    for (const subscription of subscriptions) subscription.dispose();
    api.dashboard.panel?.dispose();
    for (const each of [...api.servers.all]) await vscode.commands.executeCommand('cronOps.signOut', { server: each.id });
    await setServers(undefined);
    await disconnect();
    await Promise.all([staging?.stop(), production?.stop()]);
  });

  it('README "Credentials written into a server URL are redacted wherever the URL is shown": a cronOps.servers URL with user:password', async () => {
    await setSetting('serverUrl', staging.url);
    const withCredentials = production.url.replace('http://', `http://alice:${SECRET}@`);
    messages.length = 0;
    await setServers([{ name: 'production', url: withCredentials }]);
    await listUntil(() => api.servers.several && api.servers.find('production'), 'the production entry');
    const signedIn = await vscode.commands.executeCommand<boolean>('cronOps.signIn', { server: 'production', token: production.token });
    await serversUntil(() => server('production').state.connection !== 'connecting' && server('production').state.connection !== 'signedOut', 'production to settle', 30_000).catch(() => undefined);
    const report = await vscode.commands.executeCommand<{ message: string }>('cronOps.checkConnection', { server: 'production' });
    await vscode.commands.executeCommand('cronOps.switchServer', 'production');
    await sleep(1500);
    const shown = [
      `sign-in returned ${signedIn}`,
      `root: ${await rootText('production')}`,
      `state: ${server('production').state.connection} / ${server('production').state.lastError}`,
      `check: ${report?.message}`,
      `status bar: ${api.statusBar.text} | ${markdownText(api.statusBar.item.tooltip as vscode.MarkdownString)}`,
      ...messages.map((message) => `message ${message}`),
    ].join('\n');
    const log = extensionLogText();
    await vscode.commands.executeCommand('cronOps.switchServer', 'default');
    await vscode.commands.executeCommand('cronOps.signOut', { server: 'production' });
    await setServers(undefined);
    await listUntil(() => !api.servers.several, 'one server again');
    note(`      [what the user saw]\n${shown.replace(/^/gm, '        ')}`);
    const logLeaks = log.split('\n').filter((line) => line.includes(SECRET));
    assert.equal(shown.includes(SECRET), false, `the password shows in the UI:\n${shown.split('\n').filter((line) => line.includes(SECRET)).join('\n')}`);
    assert.deepEqual(logLeaks, [], 'the password shows in the Cron Ops log');
  });

  it('a left-out entry (non-http URL) with credentials: the warning must not show the password', async () => {
    messages.length = 0;
    await setServers([{ name: 'ftp', url: `ftp://alice:${SECRET}@files.example.com/crons` }, { name: 'typo', url: `http//bob:${SECRET}@cron.example.com` }]);
    await sleep(1500);
    const warnings = messages.filter((message) => message.startsWith('showWarningMessage'));
    const log = extensionLogText();
    await setServers(undefined);
    await sleep(500);
    note(`      [warnings]\n${warnings.join('\n').replace(/^/gm, '        ')}`);
    assert.ok(warnings.length > 0, 'a warning says the entries were left out');
    assert.equal(warnings.join('\n').includes(SECRET), false, `the password shows in the warning: ${warnings.join('\n')}`);
    assert.deepEqual(log.split('\n').filter((line) => line.includes(SECRET)), [], 'the password shows in the Cron Ops log');
  });

  it('a password with an unencoded "@" is redacted whole (the URL parser accepts it)', async () => {
    await setSetting('serverUrl', staging.url);
    const url = production.url.replace('http://', 'http://alice:pa@ss@');
    assert.ok(new URL(url).password, 'the URL parser takes it as a password');
    await setServers([{ name: 'at', url }]);
    await listUntil(() => api.servers.find('at'), 'the entry');
    const display = server('at').displayUrl;
    const text = await rootText('at');
    await setServers(undefined);
    await listUntil(() => !api.servers.several, 'one server again');
    assert.equal(/pa@ss|ss@127/.test(display), false, `displayUrl shows part of the password: ${display}`);
    assert.equal(/ss@127/.test(text), false, `the root shows part of the password: ${text}`);
  });

  it('a workspace-level cronOps.servers / cronOps.serverUrl is ignored (user settings only)', async () => {
    await setServers(undefined);
    await setSetting('serverUrl', staging.url);
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(folder, 'a workspace folder');
    const settingsFile = join(folder, '.vscode', 'settings.json');
    mkdirSync(dirname(settingsFile), { recursive: true });
    const existed = existsSync(settingsFile) ? readFileSync(settingsFile, 'utf8') : undefined;
    writeFileSync(settingsFile, JSON.stringify({ 'cronOps.servers': [{ name: 'evil', url: 'http://127.0.0.1:1' }], 'cronOps.serverUrl': 'http://127.0.0.1:2', 'cronOps.historyLimit': 7 }));
    try {
      // A window-scoped setting of the same file proves VS Code read it.
      await until(vscode.workspace.onDidChangeConfiguration, () => vscode.workspace.getConfiguration('cronOps').inspect('historyLimit')?.workspaceValue === 7, 'VS Code to read the workspace settings', 20_000);
      await sleep(1000);
      const inspected = vscode.workspace.getConfiguration('cronOps').inspect('servers');
      note(`      [inspect] workspace=${JSON.stringify(inspected?.workspaceValue)} effective=${JSON.stringify(vscode.workspace.getConfiguration('cronOps').get('servers'))}`);
      assert.deepEqual(
        api.servers.all.map((each) => each.displayUrl),
        [staging.url],
      );
    } finally {
      if (existed === undefined) rmSync(settingsFile);
      else writeFileSync(settingsFile, existed);
    }
  });

  it('odd entries: trailing slash, same origin with another path, duplicate names, name "default"', async () => {
    await setSetting('serverUrl', staging.url);
    messages.length = 0;
    await setServers([
      { name: 'prod', url: `${production.url}/` },
      { name: 'prod', url: `${production.url}/other/path` },
      { name: 'prod', url: production.url.replace('127.0.0.1', 'localhost') },
      { name: 'default', url: `${production.url.replace('127.0.0.1', '127.0.0.2')}` },
    ]);
    await listUntil(() => api.servers.all.length >= 3, 'the entries');
    const listed = api.servers.all.map((each) => `${each.name}=${each.displayUrl}`);
    const warnings = messages.filter((message) => message.startsWith('showWarningMessage'));
    // Referring to the server the user named "default" (README: commands accept a server's name).
    const switched = await vscode.commands.executeCommand<string>('cronOps.switchServer', 'default');
    await vscode.commands.executeCommand('cronOps.switchServer', staging.url);
    await setServers(undefined);
    await listUntil(() => !api.servers.several, 'one server again');
    note(`      [listed] ${listed.join(' ; ')}\n      [warnings] ${warnings.join('\n')}`);
    assert.equal(listed.filter((entry) => entry.includes(`${production.url}`)).length, 1, 'one entry per origin');
    assert.ok(warnings.some((message) => message.includes('already listed')), 'a warning for the same origin');
    assert.equal(switched, 'default', `Switch Server "default" went to "${switched}", not to the server named default`);
  });

  it('a viewer token on one server, admin on the other: the viewer server\'s rows must not offer Execute/Pause (README: a viewer sees no trigger…)', async () => {
    await twoServers();
    const created = await fetch(`${production.url}${API_PATHS.tokens}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${production.token}` },
      body: JSON.stringify({ name: `viewer-${Date.now()}`, role: 'viewer' }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const { token } = (await created.json()) as { token: string };
    assert.equal(await vscode.commands.executeCommand<boolean>('cronOps.signIn', { server: 'production', token }), true);
    await serversUntil(() => server('production').state.role === 'viewer' && server('production').state.connection === 'connected', 'production as viewer');
    await serversUntil(() => server('staging').state.role === 'super-admin', 'staging as super-admin');
    const row = (await cronsUnder('production'))[0];
    const rootRow = await root('production');
    const canAct = api.contextKeys.get('cronOps.canAct');
    const superAdmin = api.contextKeys.get('cronOps.isSuperAdmin');
    note(`      [menus] production cron row contextValue="${row.contextValue}", root contextValue="${rootRow.contextValue}", cronOps.canAct=${canAct}, cronOps.isSuperAdmin=${superAdmin}`);
    // package.json: ▶ Execute shows when `viewItem =~ /^cron\b/ && cronOps.canAct`; Manage Tokens on a root when `connected && cronOps.isSuperAdmin`.
    const executeShown = /^cron\b/.test(row.contextValue ?? '') && canAct === true;
    const manageTokensShown = /^server\b/.test(rootRow.contextValue ?? '') && /\bconnected\b/.test(rootRow.contextValue ?? '') && superAdmin === true;
    // What ▶ on that row does (the inline action is there): refused before anything runs?
    const refused = await vscode.commands.executeCommand<{ kind: string }>('cronOps.triggerCron', row);
    note(`      [viewer row ▶] outcome ${JSON.stringify(refused)}`);
    // Restore the admin token for the next tests.
    assert.equal(await vscode.commands.executeCommand<boolean>('cronOps.signIn', { server: 'production', token: production.token }), true);
    assert.equal(executeShown, false, '▶ Execute is offered on a row of the server where the token is a viewer');
    assert.equal(manageTokensShown, false, 'Manage Tokens is offered on the root of the server where the token is a viewer');
  });

  it('a failure on the other server: the status bar click (the dashboard) clears the unseen count (README: "until you open the dashboard (clears all)")', async () => {
    await twoServers();
    await vscode.commands.executeCommand('cronOps.switchServer', 'staging');
    await setSetting('notify', 'failures');
    const response = await fetch(`${production.url}${API_PATHS.trigger}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${production.token}` },
      body: JSON.stringify({ cronName: 'billing-sync' }),
    });
    assert.equal(response.status, 202);
    await until(api.notifications.onDidChangeUnseen, () => api.notifications.unseenCount >= 1, 'the unseen failure', 60_000);
    const before = api.statusBar.text;
    // What a click on the status bar runs.
    const command = api.statusBar.item.command as vscode.Command;
    await vscode.commands.executeCommand(command.command, ...(command.arguments ?? []));
    await sleep(1500);
    const after = api.statusBar.text;
    const shows = api.dashboard.server.name;
    const unseenAfterClick = api.notifications.unseenCount;
    api.dashboard.panel?.dispose();
    // Show Logs of that failure as the notification's button runs it: the production run's logs.
    const failed = (await (await fetch(`${production.url}${API_PATHS.executions}?cronName=billing-sync`, { headers: { authorization: `Bearer ${production.token}` } })).json()) as { executions: Array<{ id: string }> };
    const tail = await vscode.commands.executeCommand<{ finished: Promise<{ id: string; status: string } | undefined> }>('cronOps.showLogs', { server: server('production').id, executionId: failed.executions[0].id });
    const ended = await tail.finished;
    assert.equal(ended?.status, 'failed', 'Show Logs of the notification opens the production run');
    note(`      [status bar] before "${before}" → after the click "${after}" (dashboard shows ${shows}), unseen=${unseenAfterClick}, after Show Logs ${api.notifications.unseenCount}`);
    assert.equal(unseenAfterClick, 0, `after opening the dashboard from the status bar, ${unseenAfterClick} unseen failure(s) remain: "${after}"`);
  });

  it('a same-named cron on both servers: Trigger Cron with the name from the palette asks, does not silently pick', async () => {
    await twoServers();
    await vscode.commands.executeCommand('cronOps.switchServer', 'staging');
    const countOn = async (target: ServerProcess) => {
      const reply = await fetch(`${target.url}${API_PATHS.executions}?cronName=shared-report`, { headers: { authorization: `Bearer ${target.token}` } });
      return ((await reply.json()) as { executions: unknown[] }).executions.length;
    };
    const [s0, p0] = [await countOn(staging), await countOn(production)];
    // The command asks with a quick pick; close it, as a user pressing Escape.
    const pending = vscode.commands.executeCommand('cronOps.triggerCron', 'shared-report');
    await sleep(1500);
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    await pending;
    await sleep(500);
    assert.deepEqual([await countOn(staging), await countOn(production)], [s0, p0], 'dismissing the question runs nothing');
  });

  it('removing a server closes its event stream (no heartbeat keeps arriving on any socket to it)', async () => {
    const extra = await startServer({ config: { crons: [nodeCron('extra-cron', "note('x')")] } });
    try {
      await setSetting('serverUrl', staging.url);
      await setServers([
        { name: 'staging', url: staging.url },
        { name: 'extra', url: extra.url },
      ]);
      await listUntil(() => api.servers.find('extra'), 'extra listed');
      assert.equal(await vscode.commands.executeCommand<boolean>('cronOps.signIn', { server: 'extra', token: extra.token }), true);
      await serversUntil(() => server('extra').state.connection === 'connected', 'extra connected');
      const live = await liveStreams(extra.port);
      assert.ok(live >= 1, `a live event stream to extra while it is listed (${live})`);
      await setServers([{ name: 'staging', url: staging.url }]);
      await listUntil(() => !api.servers.find('extra'), 'extra removed');
      const left = await liveStreams(extra.port);
      assert.equal(left, 0, `${left} live stream(s) to the removed server remain`);
    } finally {
      await extra.stop();
    }
  });

  it('a server added then removed at once (a quick edit of settings.json) leaves no stream nor reload loop behind', async () => {
    const extra = await startServer({ config: { crons: [nodeCron('extra-cron', "note('x')")] } });
    try {
      await setSetting('serverUrl', staging.url);
      // Signed in beforehand (tokens are per origin), as a user who had it listed before.
      await setServers([{ name: 'staging', url: staging.url }, { name: 'extra', url: extra.url }]);
      await listUntil(() => api.servers.find('extra'), 'extra listed');
      assert.equal(await vscode.commands.executeCommand<boolean>('cronOps.signIn', { server: 'extra', token: extra.token }), true);
      await serversUntil(() => server('extra').state.connection === 'connected', 'extra connected');
      for (let round = 0; round < 5; round++) {
        await setServers([{ name: 'staging', url: staging.url }]);
        const adding = setServers([{ name: 'staging', url: staging.url }, { name: 'extra', url: extra.url }]);
        const removing = setServers([{ name: 'staging', url: staging.url }]);
        await Promise.all([adding, removing]);
      }
      await listUntil(() => !api.servers.find('extra'), 'extra removed');
      const requestsBefore = extraRequests(extra);
      const left = await liveStreams(extra.port);
      const requestsAfter = extraRequests(extra);
      note(`      [after the quick edits] live streams ${left}, server log lines ${requestsBefore} → ${requestsAfter}`);
      assert.equal(left, 0, `${left} live stream(s) to a server no longer listed`);
    } finally {
      await extra.stop();
    }
  });

  it('one server only: cronOps.serverUrl with user:password (README: redacted wherever the URL is shown)', async () => {
    await setServers(undefined);
    messages.length = 0;
    await setSetting('serverUrl', production.url.replace('http://', `http://alice:${SECRET}@`));
    await vscode.commands.executeCommand<boolean>('cronOps.signIn', production.token);
    await until(api.state.onDidChange, () => api.state.connection === 'disconnected' || api.state.connection === 'connected', 'the default server to settle', 20_000).catch(() => undefined);
    const shown = [api.state.connection, api.state.lastError ?? '', api.statusBar.text, markdownText(api.statusBar.item.tooltip as vscode.MarkdownString), ...messages].join('\n');
    await vscode.commands.executeCommand('cronOps.signOut');
    await setSetting('serverUrl', staging.url);
    note(`      [single server]\n${shown.replace(/^/gm, '        ')}`);
    assert.equal(shown.includes(SECRET), false, 'the password shows');
  });

  it('changing cronOps.serverUrl (for CodeLens) must not silently change the active server the palette acts on', async () => {
    await twoServers();
    assert.equal(await vscode.commands.executeCommand('cronOps.switchServer', 'staging'), 'staging');
    assert.equal(api.servers.active.name, 'staging');
    // Same list; cronOps.serverUrl now names production (the README: it takes the name given and keeps its place).
    await setSetting('serverUrl', production.url);
    await listUntil(() => api.servers.default.entry.url === production.url, 'production as the default entry');
    const active = api.servers.active.name;
    const bar = api.statusBar.text;
    await setSetting('serverUrl', staging.url);
    await listUntil(() => api.servers.default.entry.url === staging.url, 'staging as the default entry again');
    assert.equal(active, 'staging', `the user switched to staging; after editing cronOps.serverUrl the active server is "${active}" (${bar})`);
  });

  it('a server name with codicons and odd characters is shown as text, not as icons that fake a state', async () => {
    await setSetting('serverUrl', staging.url);
    await setServers([{ name: 'staging', url: staging.url }, { name: '$(check) prod · 0 failed', url: production.url }]);
    await listUntil(() => api.servers.several && api.servers.all.length === 2, 'two servers');
    await vscode.commands.executeCommand('cronOps.switchServer', production.url);
    const bar = api.statusBar.text;
    await vscode.commands.executeCommand('cronOps.switchServer', 'staging');
    await setServers(undefined);
    await listUntil(() => !api.servers.several, 'one server again');
    note(`      [status bar with that name] ${bar}`);
    assert.equal(bar.includes('$(check)'), false, `the name's "$(check)" renders as an icon in the status bar: ${bar}`);
  });

  it('the dashboard opened on a server that is then removed from the list shows the active one, titled so', async () => {
    await twoServers();
    await vscode.commands.executeCommand('cronOps.switchServer', 'staging');
    await vscode.commands.executeCommand('cronOps.openDashboard', 'production');
    assert.equal(api.dashboard.panel?.title, 'Cron Ops Dashboard: production');
    await setServers([{ name: 'staging', url: staging.url }]);
    await listUntil(() => !api.servers.several, 'production removed');
    await sleep(500);
    const title = api.dashboard.panel?.title;
    const shown = api.dashboard.server.name;
    api.dashboard.panel?.dispose();
    note(`      [dashboard after removal] title "${title}", shows ${shown}`);
    assert.equal(shown, 'staging');
    assert.equal(title, 'Cron Ops Dashboard');
  });

  it('the removed active server: the status bar falls back; re-adding the server later does not silently make it active again', async () => {
    await twoServers();
    await vscode.commands.executeCommand('cronOps.switchServer', 'production');
    await setServers([{ name: 'staging', url: staging.url }]);
    await listUntil(() => !api.servers.several, 'production removed');
    const fallback = api.servers.active.name;
    await setServers([{ name: 'staging', url: staging.url }, { name: 'production', url: production.url }]);
    await listUntil(() => api.servers.several, 'production back');
    const after = api.servers.active.name;
    await vscode.commands.executeCommand('cronOps.switchServer', 'staging');
    note(`      [active] after removal: ${fallback}; after re-adding: ${after}`);
    assert.equal(fallback, 'staging');
    assert.equal(after, 'staging', 'the server re-added hours later becomes the active one again without the user switching to it');
  });

  it('a URL pasted from a browser with a fragment or a query ("…/#/crons", "?tab=1") is refused or cleaned, not silently broken', async () => {
    await setSetting('serverUrl', staging.url);
    messages.length = 0;
    await setServers([
      { name: 'staging', url: staging.url },
      { name: 'hash', url: `${production.url}/#/crons` },
    ]);
    await listUntil(() => api.servers.find('hash'), 'the entry');
    await vscode.commands.executeCommand<boolean>('cronOps.signIn', { server: 'hash', token: production.token });
    await serversUntil(() => ['connected', 'disconnected'].includes(server('hash').state.connection) && (server('hash').state.connection !== 'connected' || server('hash').state.crons.length > 0), 'hash to settle', 20_000).catch(() => undefined);
    const hash = `${server('hash').state.connection} · ${server('hash').state.crons.length} crons · ${server('hash').state.lastError ?? ''}`;
    const warnings = messages.filter((message) => message.startsWith('showWarningMessage')).join(' | ');
    await vscode.commands.executeCommand('cronOps.signOut', { server: 'hash' });
    await setServers(undefined);
    await listUntil(() => !api.servers.several, 'one server again');
    note(`      [#/crons entry] ${hash}\n      [warnings] ${warnings}`);
    assert.ok(/^connected · 2 crons/.test(hash) || warnings.includes('#'), `the entry is accepted without a warning and does not work: ${hash}`);
  });

  it('renaming a server in the settings renames its root and status bar, keeps its connection (no new sign-in)', async () => {
    await twoServers();
    await vscode.commands.executeCommand('cronOps.switchServer', 'production');
    await vscode.commands.executeCommand('cronOps.openDashboard');
    const before = server('production');
    let listChanged = 0;
    const counting = api.servers.onDidChange(() => listChanged++);
    await setServers([
      { name: 'stage', url: staging.url },
      { name: 'prod-eu', url: production.url },
    ]);
    await until(vscode.workspace.onDidChangeConfiguration, () => api.servers.all.some((each) => each.name === 'prod-eu') && api.servers.all.some((each) => each.name === 'stage'), 'renamed');
    await sleep(3000);
    counting.dispose();
    const title = api.dashboard.panel?.title;
    api.dashboard.panel?.dispose();
    const labels = (await roots()).map((row) => String(row.label));
    const bar = api.statusBar.text;
    const same = api.servers.find('prod-eu') === before;
    const connection = server('prod-eu').state.connection;
    await vscode.commands.executeCommand('cronOps.switchServer', 'stage');
    note(`      [after rename, 3 s later] roots ${labels.join(', ')}; status bar ${bar}; dashboard title "${title}"; servers.onDidChange fired ${listChanged}×; same connection ${same}; ${connection}`);
    assert.equal(title, 'Cron Ops Dashboard: prod-eu', 'the dashboard title keeps the old name');
    assert.deepEqual(labels, ['stage', 'prod-eu']);
    assert.match(bar, /^\$\(server\) prod-eu · /);
    assert.ok(same, 'a new connection for a rename');
    assert.equal(connection, 'connected');
  });

  it('under notify=mine, a failing run triggered from the non-active server\'s row is announced once, naming that server', async () => {
    await twoServers();
    await vscode.commands.executeCommand('cronOps.switchServer', 'staging');
    await setSetting('notify', 'mine');
    const announced: Array<{ summary: string; server: string; id: string }> = [];
    const listening = api.notifications.onDidNotify(({ execution, summary, server: name }) => announced.push({ summary, server: name, id: execution.id }));
    try {
      const row = (await cronsUnder('production')).find((item) => item.cron.name === 'billing-sync');
      assert.ok(row);
      const outcome = await vscode.commands.executeCommand<{ kind: string; reply?: { executionId: string } }>('cronOps.triggerCron', row);
      assert.equal(outcome.kind, 'started', JSON.stringify(outcome));
      const id = outcome.reply!.executionId;
      await until(api.notifications.onDidNotify, () => announced.find((each) => each.id === id), 'the announcement', 60_000);
      await sleep(1500);
      const mine = announced.filter((each) => each.id === id);
      note(`      [mine] ${mine.map((each) => `${each.server}: ${each.summary}`).join(' | ')}`);
      assert.equal(mine.length, 1);
      assert.equal(mine[0].server, 'production');
      assert.match(mine[0].summary, /^production: billing-sync failed/);
    } finally {
      listening.dispose();
    }
  });

  it('Sign Out of one server leaves the other signed in and connected, and does not touch its token', async () => {
    await twoServers();
    await vscode.commands.executeCommand('cronOps.signOut', { server: 'production' });
    await serversUntil(() => server('production').state.connection === 'signedOut', 'production signed out');
    await sleep(1000);
    assert.equal(server('staging').state.connection, 'connected');
    assert.equal(await server('staging').tokens.get(), staging.token);
    assert.equal(await server('production').tokens.get(), undefined);
    assert.match(String((await root('production')).description), /signed out/);
  });

  it('a server that restarts on another port: editing its URL asks for a new sign-in, the old origin\'s token is not sent to the new one', async () => {
    await twoServers();
    const moved = await startServer({ config: { crons: [nodeCron('moved-cron', "note('m')")] } });
    try {
      await setServers([
        { name: 'staging', url: staging.url },
        { name: 'production', url: moved.url },
      ]);
      await serversUntil(() => api.servers.find('production')?.entry.url === moved.url && server('production').state.connection === 'signedOut', 'production at its new port, signed out');
      assert.equal(await server('production').tokens.get(), undefined);
    } finally {
      await moved.stop();
    }
  });
});
