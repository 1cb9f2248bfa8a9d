// Pause Schedule / Resume Schedule (manual triggers stay allowed) and Open Script.
import * as vscode from 'vscode';
import { describeSchedule } from '../shared/schedule';
import { showFailure } from './errorNotifications';
import { scriptPath } from './format';
import { displayLanguage, t } from './l10n';
import type { Logger } from './logger';
import { resolveCron } from './pickers';
import { BUILD_FOLDERS, locateScript } from './scriptLocation';
import type { Servers } from './servers';
import { innerArg } from './serverTarget';

export function registerScheduleCommands(context: vscode.ExtensionContext, deps: { servers: Servers; log: Logger }): void {
  const { servers } = deps;
  const log = deps.log.child('Scheduler');

  const setPaused = async (arg: unknown, paused: boolean) => {
    try {
      const server = await servers.forCron(arg);
      if (!server) return undefined;
      const { client, state } = server;
      const name = await resolveCron(innerArg(arg), state, paused ? t('Pause the schedule of which cron?') : t('Resume the schedule of which cron?'), (cron) => cron.paused !== paused);
      if (!name) return undefined;
      const cron = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: paused ? t('Pausing {0}…', name) : t('Resuming {0}…', name) }, () =>
        paused ? client.pause(name) : client.resume(name),
      );
      state.applyCron(cron);
      log.info(`${name} ${paused ? 'paused' : 'resumed'}`);
      void vscode.window.showInformationMessage(
        paused ? t('Schedule of {0} paused: it runs only when triggered by hand.', name) : t('Schedule of {0} resumed: {1}.', name, describeSchedule(cron.schedule, cron.timezone, displayLanguage())),
      );
      return cron;
    } catch (error) {
      showFailure(error, log, paused ? 'Pause' : 'Resume');
      return undefined;
    }
  };

  const openScript = async (arg?: unknown) => {
    const server = await servers.forCron(arg);
    if (!server) return undefined;
    const { state } = server;
    const name = await resolveCron(innerArg(arg), state, t('Open the script of which cron?'), (cron) => scriptPath(cron.command) !== undefined);
    if (!name) return undefined;
    const cron = state.cron(name);
    const path = cron ? scriptPath(cron.command) : undefined;
    if (!cron || !path) {
      void vscode.window.showInformationMessage(t('{0} runs {1}: no script file to open.', name, cron?.command.join(' ') ?? '?'));
      return undefined;
    }
    const folders = (vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri.fsPath);
    const exclude = `**/{${BUILD_FOLDERS.join(',')}}/**`;
    const found = await locateScript(path, folders, async (suffix) => (await vscode.workspace.findFiles(`**/${suffix}`, exclude, 10)).map((uri) => uri.fsPath));
    if (found) {
      log.info(`Opening ${found} for ${name}${found !== path ? ` (the server runs ${path})` : ''}`);
      return vscode.window.showTextDocument(vscode.Uri.file(found), { preview: true });
    }
    const uri = vscode.Uri.file(path);
    try {
      await vscode.workspace.fs.stat(uri);
    } catch {
      void vscode.window.showWarningMessage(t('{0} is not on this machine: the server that runs {1} reads it on its own host.', path, name));
      return undefined;
    }
    // A file outside the workspace is opened only when the operator says so.
    const open = t('Open');
    const picked = await vscode.window.showWarningMessage(
      t('The script of {0} is outside this workspace: {1}. Open it anyway?', name, path),
      { modal: true, detail: t('Only files of the workspace open without asking: a server configuration can name any file of this machine.') },
      open,
    );
    return picked === open ? vscode.window.showTextDocument(uri, { preview: true }) : undefined;
  };

  context.subscriptions.push(
    vscode.commands.registerCommand('cronOps.pauseSchedule', (arg?: unknown) => setPaused(arg, true)),
    vscode.commands.registerCommand('cronOps.resumeSchedule', (arg?: unknown) => setPaused(arg, false)),
    vscode.commands.registerCommand('cronOps.openScript', openScript),
  );
}
