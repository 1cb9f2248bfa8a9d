// What a command acts on: a name or id (palette, dashboard), a tree node (menus), or a quick pick (none).
import * as vscode from 'vscode';
import type { Cron, Execution } from '../shared/api';
import type { ApiClient } from './apiClient';
import { CronTreeItem, ExecutionTreeItem } from './cronTree';
import { formatStartTime } from '../shared/format';
import { cronDescription, executionDescription } from './format';
import { displayLanguage, t } from './l10n';
import { codicon, cronIcon, executionIcon } from './statusIcons';
import type { CronOpsState } from './state';

/** The cron a command is about; asks with a quick pick when the argument does not say. */
export async function resolveCron(arg: unknown, state: CronOpsState, placeHolder: string, filter: (cron: Cron) => boolean = () => true): Promise<string | undefined> {
  if (typeof arg === 'string' && arg) return arg;
  if (arg instanceof CronTreeItem) return arg.cron.name;
  if (arg instanceof ExecutionTreeItem) return arg.execution.cronName;
  if (state.crons.length === 0) await state.refresh();
  const crons = state.crons.filter(filter);
  if (crons.length === 0) {
    void vscode.window.showInformationMessage(state.lastError ?? t('No cron to choose from.'));
    return undefined;
  }
  const now = Date.now();
  const picked = await vscode.window.showQuickPick(
    crons.map((cron) => ({ label: `${codicon(cronIcon(cron))} ${cron.name}`, description: cronDescription(cron, now, t, displayLanguage()), detail: cron.description, name: cron.name })),
    { placeHolder, matchOnDescription: true, matchOnDetail: true },
  );
  return picked?.name;
}

export interface ExecutionChoice {
  /** Executions offered when nothing was given. */
  candidates: () => Promise<Execution[]>;
  placeHolder: string;
  /** Said when there are no candidates. */
  empty: string;
  /** From a cron node: which of its executions (default: the running one, else the last). */
  fromCron?: (cron: Cron) => Execution | null;
}

/** The execution a command is about: an id, a node, or a pick among candidates. */
export async function resolveExecution(arg: unknown, state: CronOpsState, client: ApiClient, choice: ExecutionChoice): Promise<Execution | undefined> {
  if (typeof arg === 'string' && arg) return state.knownExecution(arg) ?? (await client.execution(arg));
  if (arg instanceof ExecutionTreeItem) return state.knownExecution(arg.execution.id) ?? arg.execution;
  if (arg instanceof CronTreeItem) {
    const cron = state.cron(arg.cron.name) ?? arg.cron;
    const execution = choice.fromCron ? choice.fromCron(cron) : (cron.runningExecution ?? cron.lastExecution);
    if (!execution) void vscode.window.showInformationMessage(choice.empty);
    return execution ?? undefined;
  }
  const candidates = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: t('Cron Ops: loading executions…') }, choice.candidates);
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(choice.empty);
    return undefined;
  }
  const now = Date.now();
  const picked = await vscode.window.showQuickPick(
    candidates.map((execution) => ({
      label: `${codicon(executionIcon(execution))} ${execution.cronName}`,
      description: `${formatStartTime(Date.parse(execution.startedAt), now, displayLanguage())} · ${executionDescription(execution, now, t, displayLanguage())}`,
      detail: execution.errorMessage ?? undefined,
      execution,
    })),
    { placeHolder: choice.placeHolder, matchOnDescription: true },
  );
  return picked?.execution;
}
