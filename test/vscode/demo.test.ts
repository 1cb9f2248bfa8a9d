// The demo an operator meets first (`npm start`): the guide's seven crons in the Crons view, a manual run
// of check-alerts seen end to end, and the README's screenshots taken from that real window.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { CronOpsApi } from '../../src/extension/extension';
import type { TriggerOutcome } from '../../src/extension/triggerCommand';
import { startServer, type ServerProcess } from '../support/serverProcess';
import { requestScreenshot } from './harness/protocol';
import { connectTo, cronOpsApi, cronRows, disconnect, stateUntil, tooltipText } from './cronOpsTestKit';
import { DashboardRecorder } from './dashboardRecorder';

const GUIDE_CRONS: Array<[string, string]> = [
  ['monitor-openai', 'Monitoring Budget OpenAI'],
  ['check-alerts', 'Vérification Alertes Système'],
  ['refresh-mv-metadata', 'Rafraîchissement Vues Matérialisées'],
  ['reanalyze-kb-failures', 'Réanalyse Échecs KB'],
  ['index-kb-progressive', 'Indexation KB Progressive'],
  ['acquisition-weekly', 'Acquisition Hebdomadaire'],
  ['cleanup-executions', 'Nettoyage Anciennes Exécutions'],
];

describe('The demo crons (npm start)', () => {
  let server: ServerProcess;
  let api: CronOpsApi;

  before(async () => {
    [server, api] = await Promise.all([startServer(), cronOpsApi()]);
    await connectTo(api, server, GUIDE_CRONS.length);
  });

  after(async () => {
    api?.dashboard.panel?.dispose();
    await disconnect();
    await server?.stop();
  });

  it("lists the guide's seven crons with their descriptions and schedules in Africa/Tunis", async () => {
    const rows = await cronRows(api);
    assert.deepEqual(
      rows.map((row) => row.cron.name),
      GUIDE_CRONS.map(([name]) => name),
    );
    for (const [name, description] of GUIDE_CRONS) {
      const row = rows.find((candidate) => candidate.cron.name === name)!;
      assert.ok(tooltipText(row).includes(description), `${name}'s tooltip shows "${description}"`);
      assert.equal(row.cron.timezone, 'Africa/Tunis');
      assert.match(tooltipText(row), /\(Africa\/Tunis\)/, `${name}'s schedule says its time zone`);
    }
  });

  it('runs check-alerts by hand to completion, then shows it in the view, the status bar and the dashboard', async () => {
    const outcome = await vscode.commands.executeCommand<TriggerOutcome>('cronOps.triggerCron', 'check-alerts');
    assert.equal(outcome.kind, 'started', JSON.stringify(outcome));
    const id = outcome.kind === 'started' ? outcome.reply.executionId : '';
    await stateUntil(api, () => api.state.cron('check-alerts')?.runningExecution?.id === id, 'check-alerts to show as running');
    await vscode.commands.executeCommand('workbench.view.extension.cronOps');
    await vscode.commands.executeCommand('notifications.clearAll');
    await vscode.commands.executeCommand('workbench.action.closePanel');
    await requestScreenshot('readme-running', { waitForSelector: '#workbench\\.parts\\.sidebar .monaco-list-row' });
    const ended = await stateUntil(api, () => {
      const last = api.state.cron('check-alerts')?.lastExecution;
      return last?.id === id && last.status !== 'running' ? last : undefined;
    }, 'check-alerts to end');
    assert.equal(ended.status, 'completed');

    const hooks = new DashboardRecorder(api.dashboard);
    await vscode.commands.executeCommand('cronOps.openDashboard');
    const view = await hooks.waitForMessage('rendered', (message) => (message.view.executions ?? 0) >= 1 && message.view.kpis?.executions24h === 1, { timeoutMs: 30_000 });
    assert.equal(view.view.kpis?.executions24h, 1);
    await vscode.commands.executeCommand('notifications.clearAll');
    await vscode.commands.executeCommand('workbench.action.closePanel');
    await requestScreenshot('readme-dashboard');
    hooks.dispose();
  });
});
