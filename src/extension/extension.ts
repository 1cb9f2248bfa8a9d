// Activation reads like a table of contents: logger, settings, clock, the servers (each with its API client,
// event stream and state), then one register…() per feature. The returned object is the extension's API (the
// VS Code test suite uses it).
import * as vscode from 'vscode';
import type { ApiClient } from './apiClient';
import { registerAuthCommands } from './authCommands';
import { Clock } from './clock';
import { ContextKeys } from './contextKeys';
import { registerCronTree, type CronTree } from './cronTree';
import { registerDashboard, type Dashboard } from './dashboard/dashboardPanel';
import { registerCronCodeLens, type CronCodeLensProvider } from './definitions/cronCodeLens';
import { registerReloadDiagnostics } from './definitions/reloadDiagnostics';
import { registerExecutionCommands } from './executionCommands';
import { Logger } from './logger';
import { registerLogTails, type LogTails } from './logTail';
import { registerFailureDiagnostics, type FailureDiagnostics } from './problems/failureDiagnostics';
import { registerRunNotifications, type RunNotifications } from './runNotifications';
import { registerScheduleCommands } from './scheduleCommands';
import { registerScriptCompare, type ScriptCompare } from './scriptCompare';
import { Settings } from './settings';
import { Servers } from './servers';
import type { CronOpsState } from './state';
import { CronOpsStatusBar, registerStatusBar } from './statusBar';
import { registerTokenCommands } from './tokenCommands';
import { registerTriggerCommands, type TriggerCommands } from './triggerCommand';

export interface CronOpsApi {
  /** Every configured server; `servers.active` is the one the status bar and the palette use. */
  servers: Servers;
  /** The active server's API client and state. */
  readonly client: ApiClient;
  readonly state: CronOpsState;
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
  const servers = new Servers({ secrets: context.secrets, memento: context.globalState, settings, log, clock });
  context.subscriptions.push(channel, settings, clock, servers);
  context.subscriptions.push(vscode.commands.registerCommand('cronOps.showExtensionLog', () => channel.show()));

  const tree = registerCronTree(context, servers, clock, contextKeys);
  const logTails = registerLogTails(context, { servers, log });
  const triggers = registerTriggerCommands(context, { servers, settings, tails: logTails, log, clock });
  registerExecutionCommands(context, { servers, settings, log, clock });
  registerScheduleCommands(context, { servers, log });
  registerAuthCommands(context, { servers, log });
  registerTokenCommands(context, { servers, clock, log });
  const dashboard = registerDashboard(context, { servers, settings, clock, log: channel });
  const scriptCompare = registerScriptCompare(context, { servers, log });
  const notifications = registerRunNotifications(context, {
    servers,
    settings,
    log,
    startedHere: () => triggers.startedHere,
    dashboardShowing: () => dashboard.showing,
    onDashboardShown: dashboard.onDidShow,
    onLogsOpened: logTails.onDidOpen,
    logsOpened: (executionId) => logTails.get(executionId) !== undefined,
    failureAction: (execution, server) => scriptCompare.failureAction(execution, server),
  });
  const statusBar = registerStatusBar(context, servers, clock, notifications);
  // The lenses and the failure diagnostics read the cronOps.serverUrl server (the only one unless cronOps.servers lists more).
  const { client: defaultClient, state: defaultState, stream: defaultStream } = servers.default;
  const codeLens = registerCronCodeLens(context, { client: defaultClient, state: defaultState, clock, settings });
  const failures = registerFailureDiagnostics(context, { client: defaultClient, state: defaultState, settings, log });
  registerReloadDiagnostics(context, { client: defaultClient, stream: defaultStream, settings, log });

  log.info(`[Activation] Cron Ops ${context.extension.packageJSON.version ?? ''} using ${servers.all.map((server) => server.displayUrl).join(', ')}`);
  servers.start();
  return {
    servers,
    get client() {
      return servers.active.client;
    },
    get state() {
      return servers.active.state;
    },
    clock,
    contextKeys,
    tree,
    statusBar,
    logTails,
    triggers,
    notifications,
    dashboard,
    codeLens,
    failures,
    scriptCompare,
  };
}

export function deactivate(): void {}
