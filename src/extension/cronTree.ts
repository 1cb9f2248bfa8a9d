// The "Crons" view: one node per cron (status icon, "status · duration · time since" description, rich
// tooltip), its recent executions as children, and welcome views gated by context keys when it is empty.
import * as vscode from 'vscode';
import type { Cron, Execution } from '../shared/api';
import {
  cronDescription,
  cronIcon,
  executionDescription,
  executionIcon,
  formatCountdown,
  formatDuration,
  formatStartTime,
  scriptPath,
  statusLabel,
  timeSince,
  type IconChoice,
  type Translate,
} from './format';
import type { CronOpsState } from './state';

const t: Translate = (message, ...args) => vscode.l10n.t(message, ...args);

function themeIcon(choice: IconChoice): vscode.ThemeIcon {
  return new vscode.ThemeIcon(choice.id, choice.color ? new vscode.ThemeColor(choice.color) : undefined);
}

/** Flags matched by the menus with `viewItem =~ /\bflag\b/`. */
export function cronContextValue(cron: Cron): string {
  const flags = ['cron'];
  const running = cron.runningExecution;
  if (running) flags.push('running');
  if (running?.stuck) flags.push('stuck');
  flags.push(cron.paused ? 'paused' : 'scheduled');
  if (cron.lastExecution || running) flags.push('hasRun');
  if (scriptPath(cron.command)) flags.push('script');
  return flags.join(' ');
}

export function executionContextValue(execution: Execution): string {
  return ['execution', execution.status, ...(execution.stuck && execution.status === 'running' ? ['stuck'] : [])].join(' ');
}

export class CronTreeItem extends vscode.TreeItem {
  constructor(public cron: Cron) {
    super(cron.name, vscode.TreeItemCollapsibleState.Collapsed);
    this.id = `cron:${cron.name}`;
    this.update(cron);
  }

  update(cron: Cron, now = Date.now()): void {
    this.cron = cron;
    this.description = cronDescription(cron, now, t);
    this.iconPath = themeIcon(cronIcon(cron));
    this.contextValue = cronContextValue(cron);
    this.tooltip = cronTooltip(cron, now);
    this.accessibilityInformation = { label: `${cron.name}, ${this.description}` };
  }
}

export class ExecutionTreeItem extends vscode.TreeItem {
  constructor(
    readonly execution: Execution,
    now = Date.now(),
  ) {
    super(formatStartTime(execution.startedAt, now, vscode.env.language), vscode.TreeItemCollapsibleState.None);
    this.id = `execution:${execution.id}`;
    this.description = executionDescription(execution, now, t);
    this.iconPath = themeIcon(executionIcon(execution));
    this.contextValue = executionContextValue(execution);
    this.tooltip = executionTooltip(execution, now);
    this.command = { command: 'cronOps.showLogs', title: t('Show Logs'), arguments: [execution.id] };
  }
}

/** A row that explains: loading failed, no executions yet. */
export class MessageTreeItem extends vscode.TreeItem {
  constructor(message: string, icon = 'info', parentId = '') {
    super(message, vscode.TreeItemCollapsibleState.None);
    this.id = `message:${parentId}:${message}`;
    this.iconPath = new vscode.ThemeIcon(icon);
    this.contextValue = 'message';
  }
}

export type CronOpsNode = CronTreeItem | ExecutionTreeItem | MessageTreeItem;

function cronTooltip(cron: Cron, now: number): vscode.MarkdownString {
  const md = new vscode.MarkdownString('', true);
  md.appendMarkdown('**').appendText(cron.name).appendMarkdown('**');
  if (cron.description) md.appendMarkdown(' — ').appendText(cron.description);
  md.appendMarkdown('\n\n');
  md.appendMarkdown(`$(calendar) ${t('Schedule')}: `).appendText(`${cron.scheduleText} (${cron.schedule}, ${cron.timezone})`);
  md.appendMarkdown('  \n');
  if (cron.paused) md.appendMarkdown(`$(debug-pause) ${t('Schedule paused: runs only when triggered by hand.')}`);
  else if (!cron.enabled) md.appendMarkdown(`$(circle-slash) ${t('Disabled in the server config.')}`);
  else if (cron.nextRunAt) {
    const at = Date.parse(cron.nextRunAt);
    md.appendMarkdown(`$(clock) ${t('Next run')}: `).appendText(`${new Date(at).toLocaleString(vscode.env.language)} (${t('in {0}', formatCountdown(at - now))})`);
  }
  md.appendMarkdown('  \n');
  md.appendMarkdown(`$(watch) ${t('Estimated duration')}: `).appendText(`${formatDuration(cron.estimatedDurationMs)} · ${t('timeout')} ${formatDuration(cron.timeoutMs)}`);
  const execution = cron.runningExecution ?? cron.lastExecution;
  if (execution) {
    md.appendMarkdown(`  \n$(history) ${t('Last run')}: `).appendText(
      `${statusLabel(execution.status, t)} · ${execution.status === 'running' ? t('started {0}', timeSince(execution.startedAt, now, t)) : timeSince(execution.completedAt ?? execution.startedAt, now, t)}`,
    );
    if (execution.stuck) md.appendMarkdown(`  \n$(warning) ${t('Running past its timeout: use "Mark as Failed" if its process is gone.')}`);
  }
  const lastError = cron.lastExecution?.errorMessage;
  if (lastError && cron.lastExecution?.status !== 'completed') md.appendMarkdown(`\n\n$(error) ${t('Last error')}: `).appendText(lastError);
  const params = Object.keys(cron.params);
  if (params.length) md.appendMarkdown(`\n\n${t('Params')}: `).appendText(params.join(', '));
  return md;
}

function executionTooltip(execution: Execution, now: number): vscode.MarkdownString {
  const md = new vscode.MarkdownString('', true);
  md.appendMarkdown('**').appendText(`${execution.cronName} · ${statusLabel(execution.status, t)}`).appendMarkdown('**  \n');
  md.appendText(`${t('Started')}: ${new Date(execution.startedAt).toLocaleString(vscode.env.language)} (${timeSince(execution.startedAt, now, t)})`);
  if (execution.durationMs !== null) md.appendMarkdown('  \n').appendText(`${t('Duration')}: ${formatDuration(execution.durationMs)}`);
  md.appendMarkdown('  \n').appendText(`${t('Trigger')}: ${execution.triggerType}${execution.triggeredBy ? ` (${execution.triggeredBy})` : ''}`);
  if (execution.exitCode !== null) md.appendMarkdown('  \n').appendText(`${t('Exit code')}: ${execution.exitCode}`);
  if (Object.keys(execution.params).length) md.appendMarkdown('  \n').appendText(`${t('Params')}: ${JSON.stringify(execution.params)}`);
  if (execution.errorMessage) md.appendMarkdown('\n\n$(error) ').appendText(execution.errorMessage);
  md.appendMarkdown('\n\n').appendText(execution.id);
  return md;
}

export class CronTreeProvider implements vscode.TreeDataProvider<CronOpsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<CronOpsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly items = new Map<string, CronTreeItem>();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly state: CronOpsState) {
    this.subscription = state.onDidChangeCrons((names) => this.onCronsChanged(names));
  }

  private onCronsChanged(names: readonly string[] | undefined): void {
    if (names === undefined) {
      this.changed.fire(undefined);
      return;
    }
    for (const name of names) {
      const item = this.items.get(name);
      const cron = this.state.cron(name);
      if (!item || !cron) {
        this.changed.fire(undefined);
        return;
      }
      item.update(cron);
      this.changed.fire(item);
    }
  }

  getTreeItem(element: CronOpsNode): vscode.TreeItem {
    return element;
  }

  getParent(element: CronOpsNode): CronOpsNode | undefined {
    return element instanceof ExecutionTreeItem ? this.items.get(element.execution.cronName) : undefined;
  }

  async getChildren(element?: CronOpsNode): Promise<CronOpsNode[]> {
    if (!element) return this.cronItems();
    if (!(element instanceof CronTreeItem)) return [];
    const name = element.cron.name;
    try {
      const history = this.state.historyFor(name) ?? (await this.state.loadHistory(name));
      if (history.length === 0) return [new MessageTreeItem(t('No executions yet: ▶ runs it now.'), 'info', name)];
      const now = Date.now();
      return history.map((execution) => new ExecutionTreeItem(execution, now));
    } catch (error) {
      return [new MessageTreeItem(error instanceof Error ? error.message : String(error), 'warning', name)];
    }
  }

  /** The cron rows, reusing one item per cron so a change redraws only that row. */
  cronItems(): CronTreeItem[] {
    const names = new Set(this.state.crons.map((cron) => cron.name));
    for (const name of this.items.keys()) if (!names.has(name)) this.items.delete(name);
    return this.state.crons.map((cron) => {
      let item = this.items.get(cron.name);
      if (item) item.update(cron);
      else this.items.set(cron.name, (item = new CronTreeItem(cron)));
      return item;
    });
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

export interface CronTree {
  provider: CronTreeProvider;
  view: vscode.TreeView<CronOpsNode>;
}

/** The view, its context keys (for the welcome views and menus), its badge and the Refresh command. */
export function registerCronTree(context: vscode.ExtensionContext, state: CronOpsState): CronTree {
  const provider = new CronTreeProvider(state);
  const view = vscode.window.createTreeView('cronOps.crons', { treeDataProvider: provider, showCollapseAll: true });
  const contextKeys = new Map<string, unknown>();
  const setContext = (key: string, value: unknown) => {
    if (contextKeys.has(key) && contextKeys.get(key) === value) return;
    contextKeys.set(key, value);
    void vscode.commands.executeCommand('setContext', key, value);
  };
  const sync = () => {
    const connection = state.connection;
    setContext('cronOps.connection', connection);
    setContext('cronOps.hasCrons', state.crons.length > 0);
    const running = state.crons.filter((cron) => cron.runningExecution).length;
    view.badge = running ? { value: running, tooltip: t('{0} running', running) } : undefined;
    view.message = state.crons.length > 0 && connection === 'disconnected' ? state.lastError : undefined;
  };
  sync();
  context.subscriptions.push(
    provider,
    view,
    state.onDidChange(sync),
    vscode.commands.registerCommand('cronOps.refresh', () =>
      vscode.window.withProgress({ location: { viewId: 'cronOps.crons' } }, async () => {
        await state.refresh();
        if (state.lastError) void vscode.window.showWarningMessage(state.lastError);
      }),
    ),
  );
  return { provider, view };
}
