// The Crons view, sign-in and Check Connection against a live backend: what an operator sees before
// triggering anything, and how the extension recovers when the server goes away or refuses the token.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { CronOpsApi } from '../../src/extension/extension';
import type { ConnectionReport } from '../../src/extension/authCommands';
import { nodeCron, startServer, type ServerProcess, type TestConfig } from '../support/serverProcess';
import { requestScreenshot } from './harness/protocol';
import { childrenOf, connectTo, cronOpsApi, cronRow, cronRows, disconnect, iconId, setSetting, stateUntil, tooltipText } from './cronOpsTestKit';

const config: TestConfig = {
  crons: [
    nodeCron('monitor-openai', "console.log('OpenAI usage: $3.24 / $10.00 (32.4%)')", { description: 'Monitoring Budget OpenAI', schedule: '0 8 * * *', estimatedDurationMs: 5000 }),
    nodeCron('check-alerts', "console.log('no alert')", { description: 'Vérification Alertes Système', schedule: '*/30 * * * *', estimatedDurationMs: 2000 }),
    nodeCron('cleanup-executions', "console.log('cleaned')", { description: 'Nettoyage Anciennes Exécutions', schedule: '0 3 * * *', estimatedDurationMs: 1000 }),
  ],
};
const NAMES = config.crons.map((cron) => cron.name);

describe('Crons view and connection', () => {
  let server: ServerProcess;
  let api: CronOpsApi;

  before(async () => {
    [server, api] = await Promise.all([startServer({ config }), cronOpsApi()]);
    await vscode.commands.executeCommand('cronOps.signOut');
    await setSetting('serverUrl', server.url);
  });

  after(async () => {
    await disconnect();
    await server?.stop();
  });

  it('signed out, the view is empty (its welcome view offers Sign In) and the status bar says so', async () => {
    await stateUntil(api, () => api.state.connection === 'signedOut', 'the signed-out state');
    assert.deepEqual(await cronRows(api), []);
    assert.match(api.statusBar.text, /sign in/);
    assert.equal(api.statusBar.item.command, 'cronOps.signIn');
  });

  it('a wrong token is refused and not stored', async () => {
    const signedIn = await vscode.commands.executeCommand<boolean>('cronOps.signIn', 'not-a-valid-token-123');
    assert.equal(signedIn, false);
    assert.equal(api.state.connection, 'signedOut');
  });

  it('Sign In stores the token and the view lists the crons of the config', async () => {
    await connectTo(api, server, NAMES.length);
    const rows = await cronRows(api);
    assert.deepEqual(rows.map((row) => row.label), NAMES);
    const monitor = await cronRow(api, 'monitor-openai');
    assert.equal(monitor.description, 'never run');
    assert.equal(iconId(monitor), 'circle-outline');
    assert.match(monitor.contextValue ?? '', /^cron\b.*\bscheduled\b/);
    const tooltip = tooltipText(monitor);
    assert.match(tooltip, /Monitoring Budget OpenAI/);
    assert.match(tooltip, new RegExp(api.state.cron('monitor-openai')!.scheduleText.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.match(tooltip, /Estimated duration/);
    assert.deepEqual(
      (await childrenOf(api, 'monitor-openai')).map((child) => child.contextValue),
      ['message'],
      'no executions yet: one explanatory row',
    );
    await stateUntil(api, () => /running · 0 failed · next in /.test(api.statusBar.text), `the status bar to show the KPIs (now "${api.statusBar.text}")`);
    await requestScreenshot('crons-view', { waitForSelector: '#workbench\\.parts\\.sidebar .monaco-list-row' });
  });

  it('Check Connection with the server up reports its version and the crons', async () => {
    const report = await vscode.commands.executeCommand<ConnectionReport>('cronOps.checkConnection');
    assert.equal(report.ok, true, report.message);
    assert.match(report.message, new RegExp(`Connected to ${server.url.replace(/\./g, '\\.')}: server .*, 3 crons`));
  });

  it('Refresh reloads without losing anything', async () => {
    await vscode.commands.executeCommand('cronOps.refresh');
    assert.deepEqual((await cronRows(api)).map((row) => row.label), NAMES);
    assert.equal(api.state.lastError, undefined);
  });

  it('with the server down, Check Connection gives the URL and how to start it; the view and status bar say disconnected', async () => {
    await server.stop();
    const report = await vscode.commands.executeCommand<ConnectionReport>('cronOps.checkConnection');
    assert.equal(report.ok, false);
    assert.equal(report.problem, 'down');
    assert.ok(report.message.includes(server.url), report.message);
    assert.match(report.message, /npm start/);
    // The state may read disconnected (the stream dropped) before the reload that follows repaints the views: wait for both.
    await stateUntil(api, () => api.state.connection === 'disconnected' && api.statusBar.text.includes('disconnected'), `the disconnected state (now ${api.state.connection}, "${api.statusBar.text}")`, 20_000);
    assert.match(api.statusBar.text, /\$\(debug-disconnect\) Cron Ops: disconnected/);
    await vscode.commands.executeCommand('cronOps.refresh');
    assert.deepEqual(await cronRows(api), [], 'no stale rows: the unreachable welcome view shows instead');
    assert.ok(api.state.lastError?.includes(server.url));
  });

  it('recovers by itself when the server is back on the same address', async () => {
    server = await startServer({ config, args: ['--port', String(server.port)] });
    await stateUntil(api, () => api.state.connection === 'connected' && api.state.crons.length === NAMES.length, `reconnection (now ${api.state.connection})`, 45_000);
    assert.deepEqual((await cronRows(api)).map((row) => row.label), NAMES);
  });

  it('a token the server stops accepting leads to Sign In, and signing in again recovers without a reload', async () => {
    const port = server.port;
    await server.stop();
    server = await startServer({ config, args: ['--port', String(port)], env: { CRON_OPS_ADMIN_TOKEN: 'a-new-admin-token-after-rotation' } });
    await vscode.commands.executeCommand('cronOps.refresh');
    await stateUntil(api, () => api.state.connection === 'signedOut', `the signed-out state after the token was refused (now ${api.state.connection})`, 45_000);
    assert.match(api.state.lastError ?? '', /Sign In/);
    assert.equal(await vscode.commands.executeCommand<boolean>('cronOps.signIn', 'a-new-admin-token-after-rotation'), true);
    await stateUntil(api, () => api.state.connection === 'connected' && api.state.crons.length === NAMES.length, `connected again (now ${api.state.connection})`, 30_000);
    server.token = 'a-new-admin-token-after-rotation';
  });

  it('Sign Out forgets the token', async () => {
    await vscode.commands.executeCommand('cronOps.signOut');
    await stateUntil(api, () => api.state.connection === 'signedOut', 'the signed-out state');
    assert.deepEqual(await cronRows(api), []);
  });
});
