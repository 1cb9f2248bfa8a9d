// Shows a failure as a notification with the buttons that lead to the fix (Sign In, Check Connection…).
import * as vscode from 'vscode';
import { ApiError } from './apiClient';
import { t } from './l10n';
import type { Logger } from './logger';
import { errorText } from './serverOrigin';

/** Logs the failure and shows it; resolves once shown (not when dismissed), so commands never hang on it. */
export function showFailure(error: unknown, log: Logger, doing: string): void {
  // ApiErrors are redacted already; any other error (a TypeError from fetch, a parser's) may quote a URL too.
  const message = errorText(error);
  log.error(`${doing} failed`, message);
  const actions: Array<{ title: string; run: () => unknown }> = [];
  if (error instanceof ApiError && error.isAuthFailure) {
    actions.push({ title: t('Sign In'), run: () => vscode.commands.executeCommand('cronOps.signIn') });
  } else if (error instanceof ApiError && error.isUnreachable) {
    actions.push(
      { title: t('Check Connection'), run: () => vscode.commands.executeCommand('cronOps.checkConnection') },
      { title: t('Open Settings'), run: () => vscode.commands.executeCommand('workbench.action.openSettings', 'cronOps.serverUrl') },
    );
  } else {
    actions.push({ title: t('Show Extension Log'), run: () => vscode.commands.executeCommand('cronOps.showExtensionLog') });
  }
  const show = error instanceof ApiError && (error.status === 409 || error.status === 429) ? vscode.window.showWarningMessage : vscode.window.showErrorMessage;
  void show(message, ...actions.map((action) => action.title)).then((picked) => actions.find((action) => action.title === picked)?.run());
}
