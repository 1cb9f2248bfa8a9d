// Cancel Execution (ends a live run) and Mark Stuck Execution as Failed (ends a run past its timeout
// whose process may be gone): both confirm, call the API and apply the reply at once.
import * as vscode from 'vscode';
import { MANUAL_FAILURE_REASON, type Execution } from '../shared/api';
import type { ApiClient } from './apiClient';
import { showFailure } from './errorNotifications';
import { runDurationMs } from '../shared/timing';
import type { Clock } from './clock';
import { formatDuration } from './format';
import { displayLanguage, t } from './l10n';
import type { Logger } from './logger';
import { resolveExecution } from './pickers';
import type { Servers } from './servers';
import { innerArg } from './serverTarget';
import type { Settings } from './settings';
import { isStuck } from './stateReducer';

async function runningExecutions(client: ApiClient): Promise<Execution[]> {
  return (await client.executions({ status: 'running', limit: 1000 })).executions;
}

export function registerExecutionCommands(context: vscode.ExtensionContext, deps: { servers: Servers; settings: Settings; log: Logger; clock: Clock }): void {
  const { servers, settings, clock } = deps;
  const log = deps.log.child('Executions');

  // The buttons say what they do: the action, and "Keep Running" as the way out (no ambiguous "Cancel").
  const confirm = async (question: string, detail: string, action: string): Promise<boolean> => {
    if (!settings.confirmBeforeTrigger) return true;
    const act: vscode.MessageItem = { title: action };
    const keep: vscode.MessageItem = { title: t('Keep Running'), isCloseAffordance: true };
    return (await vscode.window.showWarningMessage(question, { modal: true, detail }, act, keep)) === act;
  };
  const elapsedOf = (execution: Execution) => formatDuration(runDurationMs(execution, clock.now()) ?? 0, displayLanguage());

  const cancel = async (arg?: unknown): Promise<Execution | undefined> => {
    try {
      const server = await servers.forExecution(arg);
      if (!server) return undefined;
      const { client, state } = server;
      const execution = await resolveExecution(innerArg(arg), state, client, {
        candidates: () => runningExecutions(client),
        placeHolder: t('Cancel which running execution?'),
        empty: t('No execution is running.'),
        fromCron: (cron) => cron.runningExecution,
      });
      if (!execution) return undefined;
      if (execution.status !== 'running') {
        void vscode.window.showInformationMessage(t('{0} is no longer running (status {1}): nothing to cancel.', execution.cronName, execution.status));
        return undefined;
      }
      const elapsed = elapsedOf(execution);
      const action = t('Stop Run');
      if (!(await confirm(t('Cancel {0} (running for {1})?', execution.cronName, elapsed), t('Its process gets SIGTERM, then SIGKILL after a grace period; the run is recorded as cancelled.'), action))) return undefined;
      const ended = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Cancelling {0}…', execution.cronName) }, () => client.cancel(execution.id));
      state.applyExecution(ended);
      log.info(`Cancelled ${ended.cronName} ${ended.id}`);
      void vscode.window.showInformationMessage(t('{0} cancelled.', ended.cronName));
      return ended;
    } catch (error) {
      showFailure(error, log, 'Cancel');
      return undefined;
    }
  };

  const markFailed = async (arg?: unknown): Promise<Execution | undefined> => {
    try {
      const server = await servers.forExecution(arg);
      if (!server) return undefined;
      const { client, state } = server;
      const now = clock.now();
      const stuckOf = (execution: Execution) => isStuck(execution, state.cron(execution.cronName)?.timeoutMs ?? Number.POSITIVE_INFINITY, now);
      const execution = await resolveExecution(innerArg(arg), state, client, {
        candidates: async () => (await runningExecutions(client)).filter(stuckOf),
        placeHolder: t('Mark which stuck execution as failed?'),
        empty: t('No execution is running past its timeout.'),
        fromCron: (cron) => cron.runningExecution,
      });
      if (!execution) return undefined;
      if (execution.status !== 'running') {
        void vscode.window.showInformationMessage(t('{0} is no longer running (status {1}): nothing to mark.', execution.cronName, execution.status));
        return undefined;
      }
      if (!stuckOf(execution)) {
        const cancelAction = t('Cancel Execution');
        void vscode.window
          .showWarningMessage(t('{0} is still within its timeout: only a stuck run can be marked as failed. Cancel it instead?', execution.cronName), cancelAction)
          .then((picked) => picked === cancelAction && vscode.commands.executeCommand('cronOps.cancelExecution', { server: server.id, executionId: execution.id }));
        return undefined;
      }
      const action = t('Mark as Failed');
      const elapsed = elapsedOf(execution);
      if (!(await confirm(t('Mark {0} as failed (running for {1})?', execution.cronName, elapsed), t('The run is recorded as failed with "{0}"; its process, if still alive, is ended.', MANUAL_FAILURE_REASON), action))) return undefined;
      const ended = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Marking {0} as failed…', execution.cronName) }, () => client.markFailed(execution.id));
      state.applyExecution(ended);
      log.info(`Marked ${ended.cronName} ${ended.id} as failed`);
      void vscode.window.showInformationMessage(t('{0} marked as failed.', ended.cronName));
      return ended;
    } catch (error) {
      showFailure(error, log, 'Mark as Failed');
      return undefined;
    }
  };

  context.subscriptions.push(vscode.commands.registerCommand('cronOps.cancelExecution', cancel), vscode.commands.registerCommand('cronOps.markFailed', markFailed));
}
