// Activation reads like a table of contents: logger, settings, API client, event stream and state, then
// one register…() per feature. The returned object is the extension's API (the VS Code test suite uses it).
import * as vscode from 'vscode';
import { ApiClient } from './apiClient';
import { registerAuthCommands } from './authCommands';
import { registerCronTree, type CronTree } from './cronTree';
import { registerDashboard } from './dashboard/dashboardPanel';
import { EventStream } from './eventStream';
import { registerExecutionCommands } from './executionCommands';
import { Logger } from './logger';
import { registerLogTails, type LogTails } from './logTail';
import { registerScheduleCommands } from './scheduleCommands';
import { Settings } from './settings';
import { CronOpsState } from './state';
import { CronOpsStatusBar, registerStatusBar } from './statusBar';
import { TokenStore } from './tokenStore';
import { registerTriggerCommands, type TriggerCommands } from './triggerCommand';

export interface CronOpsApi {
  client: ApiClient;
  state: CronOpsState;
  tree: CronTree;
  statusBar: CronOpsStatusBar;
  logTails: LogTails;
  triggers: TriggerCommands;
}

export function activate(context: vscode.ExtensionContext): CronOpsApi {
  const channel = vscode.window.createOutputChannel('Cron Ops', { log: true });
  const log = Logger.forChannel(channel);
  const settings = new Settings();
  const tokens = new TokenStore(context.secrets);
  const translate = (message: string, ...args: Array<string | number | boolean>) => vscode.l10n.t(message, ...args);
  const client = new ApiClient(() => settings.serverUrl, () => tokens.get(), translate);
  const stream = new EventStream({ url: () => client.eventsUrl(), token: () => tokens.get(), log });
  const state = new CronOpsState(client, stream, tokens, settings, log);
  context.subscriptions.push(channel, settings, tokens, stream, state);
  context.subscriptions.push(vscode.commands.registerCommand('cronOps.showExtensionLog', () => channel.show()));

  const tree = registerCronTree(context, state);
  const logTails = registerLogTails(context, { client, state, log });
  const triggers = registerTriggerCommands(context, { client, state, settings, tails: logTails, log });
  registerExecutionCommands(context, { client, state, settings, log });
  registerScheduleCommands(context, { client, state, log });
  registerAuthCommands(context, { client, state, tokens, log });
  const statusBar = registerStatusBar(context, state);
  registerDashboard(context, { client, state, log: channel });

  log.info(`[Activation] Cron Ops ${context.extension.packageJSON.version ?? ''} using ${settings.serverUrl}`);
  void state.restart();
  return { client, state, tree, statusBar, logTails, triggers };
}

export function deactivate(): void {}
