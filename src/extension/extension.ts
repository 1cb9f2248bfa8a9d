// Activation reads like a table of contents: logger, settings, clock, API client, event stream and state, then
// one register…() per feature. The returned object is the extension's API (the VS Code test suite uses it).
import * as vscode from 'vscode';
import { ApiClient } from './apiClient';
import { registerAuthCommands } from './authCommands';
import { Clock } from './clock';
import { ContextKeys } from './contextKeys';
import { registerCronTree, type CronTree } from './cronTree';
import { registerDashboard, type Dashboard } from './dashboard/dashboardPanel';
import { registerCronCodeLens, type CronCodeLensProvider } from './definitions/cronCodeLens';
import { EventStream } from './eventStream';
import { registerExecutionCommands } from './executionCommands';
import { displayLanguage, t } from './l10n';
import { Logger } from './logger';
import { registerLogTails, type LogTails } from './logTail';
import { registerFailureDiagnostics, type FailureDiagnostics } from './problems/failureDiagnostics';
import { registerRunNotifications, type RunNotifications } from './runNotifications';
import { registerScheduleCommands } from './scheduleCommands';
import { registerScriptCompare, type ScriptCompare } from './scriptCompare';
import { Settings } from './settings';
import { CronOpsState } from './state';
import { CronOpsStatusBar, registerStatusBar } from './statusBar';
import { registerTokenCommands } from './tokenCommands';
import { TokenStore } from './tokenStore';
import { registerTriggerCommands, type TriggerCommands } from './triggerCommand';

export interface CronOpsApi {
  client: ApiClient;
  state: CronOpsState;
  clock: Clock;
  contextKeys: ContextKeys;
  tree: CronTree;
  statusBar: CronOpsStatusBar;
  logTails: LogTails;
  triggers: TriggerCommands;
  notifications: RunNotifications;
  dashboard: Dashboard;
  codeLens: CronCodeLensProvider;
  failures: FailureDiagnostics;
  scriptCompare: ScriptCompare;
}

export function activate(context: vscode.ExtensionContext): CronOpsApi {
  const channel = vscode.window.createOutputChannel('Cron Ops', { log: true });
  const log = Logger.forChannel(channel);
  const settings = new Settings();
  const clock = new Clock();
  const contextKeys = new ContextKeys();
  const tokens = new TokenStore(context.secrets, () => settings.serverUrl);
  const client = new ApiClient(() => settings.serverUrl, () => tokens.get(), t, undefined, displayLanguage);
  const stream = new EventStream({ url: () => client.eventsUrl(), token: () => tokens.get(), log });
  const state = new CronOpsState(client, stream, tokens, settings, log, clock);
  context.subscriptions.push(channel, settings, clock, tokens, stream, state);
  context.subscriptions.push(vscode.commands.registerCommand('cronOps.showExtensionLog', () => channel.show()));

  const tree = registerCronTree(context, state, clock, contextKeys);
  const logTails = registerLogTails(context, { client, state, log });
  const triggers = registerTriggerCommands(context, { client, state, settings, tails: logTails, log, clock });
  registerExecutionCommands(context, { client, state, settings, log, clock });
  registerScheduleCommands(context, { client, state, log });
  registerAuthCommands(context, { client, state, tokens, log });
  registerTokenCommands(context, { client, clock, log });
  const dashboard = registerDashboard(context, { state, settings, clock, log: channel });
  const scriptCompare = registerScriptCompare(context, { client, state, log });
  const notifications = registerRunNotifications(context, {
    state,
    settings,
    log,
    startedHere: () => triggers.startedHere,
    dashboardVisible: () => dashboard.visible,
    onDashboardShown: dashboard.onDidShow,
    onLogsOpened: logTails.onDidOpen,
    logsOpened: (executionId) => logTails.get(executionId) !== undefined,
    failureAction: (execution) => scriptCompare.failureAction(execution),
  });
  const statusBar = registerStatusBar(context, state, clock, notifications);
  const codeLens = registerCronCodeLens(context, { client, state, clock, settings });
  const failures = registerFailureDiagnostics(context, { client, state, settings, log });

  log.info(`[Activation] Cron Ops ${context.extension.packageJSON.version ?? ''} using ${client.displayUrl}`);
  void state.restart();
  return { client, state, clock, contextKeys, tree, statusBar, logTails, triggers, notifications, dashboard, codeLens, failures, scriptCompare };
}

export function deactivate(): void {}
