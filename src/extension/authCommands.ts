// Sign In (a token into SecretStorage, checked against the server first), Sign Out, Check Connection.
import * as vscode from 'vscode';
import { ApiError } from './apiClient';
import { showFailure } from './errorNotifications';
import { t } from './l10n';
import type { Logger } from './logger';
import { errorText, redactUrl } from './serverOrigin';
import type { ServerConnection, Servers } from './servers';
import { isServerScoped } from './serverTarget';

/** What Check Connection found; the command returns it (tests read it) and shows `message`. */
export interface ConnectionReport {
  ok: boolean;
  /** 'down': no reply; 'degraded': the store is unavailable; 'token': refused or missing token. */
  problem?: 'down' | 'degraded' | 'token' | 'other';
  message: string;
}

export function registerAuthCommands(context: vscode.ExtensionContext, deps: { servers: Servers; log: Logger }): void {
  const { servers } = deps;
  const log = deps.log.child('Auth');

  // Sign In takes a token (a string), a server (a tree root, `{ server, token? }`), or asks which server when there are several.
  const signIn = async (arg?: unknown): Promise<boolean> => {
    const server = await servers.ask(typeof arg === 'string' ? undefined : arg, t('Sign in to which server?'));
    if (!server) return false;
    const given = typeof arg === 'string' ? arg : isServerScoped(arg) ? arg.token : undefined;
    const { client, state, tokens } = server;
    // The token belongs to the server it is checked with, even if the URL changes meanwhile.
    const origin = tokens.origin;
    const shown = servers.several ? `${server.name} (${redactUrl(origin)})` : redactUrl(origin);
    const token =
      typeof given === 'string'
        ? given.trim()
        : (
            await vscode.window.showInputBox({
              title: t('Cron Ops: Sign In to {0}', shown),
              prompt: t('Paste an API token. Create one on the server with: cron-ops-server token create --name NAME --role admin'),
              password: true,
              ignoreFocusOut: true,
              validateInput: (value) => (/^\S{8,}$/.test(value.trim()) ? undefined : t('A token is at least 8 characters, without spaces.')),
            })
          )?.trim();
    if (!token) return false;
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Checking the token with {0}…', shown) }, () => client.crons({ token }));
    } catch (error) {
      if (error instanceof ApiError && error.isUnreachable) {
        // Keep it: the server may just be stopped; the view says so and recovers when it is back.
        await tokens.set(token, origin);
        await state.restart();
        log.warn('Token stored without a check: the server did not answer', error);
        showFailure(error, log, 'Sign in check');
        return true;
      }
      showFailure(error, log, 'Sign in');
      return false;
    }
    await tokens.set(token, origin);
    log.info(`Signed in to ${shown}`);
    await state.restart();
    void vscode.window.showInformationMessage(t('Signed in to Cron Ops at {0}.', shown));
    return true;
  };

  const signOut = async (arg?: unknown): Promise<void> => {
    const server = await servers.ask(arg, t('Sign out of which server?'));
    if (!server) return;
    const { state, tokens } = server;
    await tokens.clear();
    log.info(`Signed out of ${redactUrl(tokens.origin)}: its token removed from SecretStorage`);
    await state.restart();
    void vscode.window.showInformationMessage(
      servers.several ? t('Signed out of {0}: its token was removed from this machine.', server.name) : t('Signed out of Cron Ops: the token was removed from this machine.'),
    );
  };

  const check = async ({ client, state, tokens }: ServerConnection): Promise<ConnectionReport> => {
    const url = client.displayUrl;
    try {
      const health = await client.health();
      if (health.status !== 'ok') return { ok: false, problem: 'degraded', message: t('The server at {0} is up but its store is unavailable: check its log and its database, then retry.', url) };
      if (!(await tokens.get())) return { ok: false, problem: 'token', message: t('The server at {0} is up (version {1}), but you are not signed in: run "Cron Ops: Sign In".', url, health.version) };
      const { crons } = await client.crons();
      await state.refresh();
      return { ok: true, message: t('Connected to {0}: server {1}, store {2}, {3} crons; live updates {4}.', url, health.version, health.store, crons.length, state.connection === 'connected' ? t('on') : t('reconnecting')) };
    } catch (error) {
      const message = errorText(error);
      if (error instanceof ApiError) {
        if (error.isUnreachable) return { ok: false, problem: 'down', message };
        if (error.isAuthFailure) return { ok: false, problem: 'token', message };
      }
      return { ok: false, problem: 'other', message };
    }
  };

  // The server of a tree root (or `{ server }`), else the active one.
  const checkConnection = async (arg?: unknown): Promise<ConnectionReport> => {
    const server = (await servers.target(arg)) ?? servers.active;
    const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Checking the connection to {0}…', server.displayUrl) }, () => check(server));
    log.info(`Check connection: ${report.message}`);
    if (report.ok) void vscode.window.showInformationMessage(report.message);
    else {
      const signInAction = t('Sign In');
      const settingsAction = t('Open Settings');
      const actions = report.problem === 'token' ? [signInAction] : report.problem === 'down' ? [settingsAction] : [];
      void vscode.window.showErrorMessage(report.message, ...actions).then((picked) => {
        if (picked === signInAction) void vscode.commands.executeCommand('cronOps.signIn', { server: server.id });
        if (picked === settingsAction) void vscode.commands.executeCommand('workbench.action.openSettings', server.entry.isDefault ? 'cronOps.serverUrl' : 'cronOps.servers');
      });
    }
    return report;
  };

  context.subscriptions.push(
    vscode.commands.registerCommand('cronOps.signIn', signIn),
    vscode.commands.registerCommand('cronOps.signOut', signOut),
    vscode.commands.registerCommand('cronOps.checkConnection', checkConnection),
  );
}
