// Pause Schedule / Resume Schedule (manual triggers stay allowed) and Open Script.
import * as vscode from 'vscode';
import type { ApiClient } from './apiClient';
import { showFailure } from './errorNotifications';
import { scriptPath, type Translate } from './format';
import type { Logger } from './logger';
import { resolveCron } from './pickers';
import type { CronOpsState } from './state';

const t: Translate = (message, ...args) => vscode.l10n.t(message, ...args);

export function registerScheduleCommands(context: vscode.ExtensionContext, deps: { client: ApiClient; state: CronOpsState; log: Logger }): void {
  const { client, state } = deps;
  const log = deps.log.child('Scheduler');

  const setPaused = async (arg: unknown, paused: boolean) => {
    try {
      const name = await resolveCron(arg, state, paused ? t('Pause the schedule of which cron?') : t('Resume the schedule of which cron?'), (cron) => cron.paused !== paused);
      if (!name) return undefined;
      const cron = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: paused ? t('Pausing {0}…', name) : t('Resuming {0}…', name) }, () =>
        paused ? client.pause(name) : client.resume(name),
      );
      state.applyCron(cron);
      log.info(`${name} ${paused ? 'paused' : 'resumed'}`);
      void vscode.window.showInformationMessage(
        paused ? t('Schedule of {0} paused: it runs only when triggered by hand.', name) : t('Schedule of {0} resumed: {1}.', name, cron.scheduleText),
      );
      return cron;
    } catch (error) {
      showFailure(error, log, paused ? 'Pause' : 'Resume');
      return undefined;
    }
  };

  const openScript = async (arg?: unknown) => {
    const name = await resolveCron(arg, state, t('Open the script of which cron?'), (cron) => scriptPath(cron.command) !== undefined);
    if (!name) return undefined;
    const cron = state.cron(name);
    const path = cron ? scriptPath(cron.command) : undefined;
    if (!cron || !path) {
      void vscode.window.showInformationMessage(t('{0} runs {1}: no script file to open.', name, cron?.command.join(' ') ?? '?'));
      return undefined;
    }
    const uri = vscode.Uri.file(path);
    try {
      await vscode.workspace.fs.stat(uri);
    } catch {
      void vscode.window.showWarningMessage(t('{0} is not on this machine: the server that runs {1} reads it on its own host.', path, name));
      return undefined;
    }
    return vscode.window.showTextDocument(uri, { preview: true });
  };

  context.subscriptions.push(
    vscode.commands.registerCommand('cronOps.pauseSchedule', (arg?: unknown) => setPaused(arg, true)),
    vscode.commands.registerCommand('cronOps.resumeSchedule', (arg?: unknown) => setPaused(arg, false)),
    vscode.commands.registerCommand('cronOps.openScript', openScript),
  );
}
