// The "Crons" view: one node per cron (status icon, "status · duration · time since" description, rich
// tooltip), its recent executions as children, and welcome views gated by context keys when it is empty.
import * as vscode from 'vscode';
import type { Cron, Execution } from '../shared/api';
import { formatDateTime, formatRelative, formatStartTime } from '../shared/format';
import { describeSchedule } from '../shared/schedule';
import { nextRunAt } from '../shared/timing';
import type { Clock } from './clock';
import { cronDescription, executionDescription, formatDuration, scriptPath, statusLabel, timeSince } from './format';
import { displayLanguage, t } from './l10n';
import { escapeMarkdown } from './markdown';
import type { ContextKeys } from './contextKeys';
import type { CronOpsState } from './state';
import { cronIcon, executionIcon, type IconChoice } from './statusIcons';
import { scriptVersionText } from './scriptVersionText';

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
  private shown = '';

  constructor(
    public cron: Cron,
    now: number,
  ) {
    super(cron.name, vscode.TreeItemCollapsibleState.Collapsed);
    this.id = `cron:${cron.name}`;
    this.update(cron, now);
  }

  /** Redraws the row for `now`; true when what it shows changed. */
  update(cron: Cron, now: number): boolean {
    const locale = displayLanguage();
    this.cron = cron;
    this.description = cronDescription(cron, now, t, locale);
    const icon = cronIcon(cron);
    this.iconPath = themeIcon(icon);
    this.contextValue = cronContextValue(cron);
    const tooltip = cronTooltip(cron, now, locale);
    this.tooltip = tooltip;
    this.accessibilityInformation = { label: `${cron.name}, ${this.description}` };
    const shown = `${this.description}|${icon.id}|${this.contextValue}|${tooltip.value}`;
    const changed = shown !== this.shown;
    this.shown = shown;
    return changed;
  }
}

export class ExecutionTreeItem extends vscode.TreeItem {
  constructor(
    readonly execution: Execution,
    now: number,
  ) {
    const locale = displayLanguage();
    super(formatStartTime(Date.parse(execution.startedAt), now, locale), vscode.TreeItemCollapsibleState.None);
    this.id = `execution:${execution.id}`;
    this.description = executionDescription(execution, now, t, locale);
    this.iconPath = themeIcon(executionIcon(execution));
    this.contextValue = executionContextValue(execution);
    this.tooltip = executionTooltip(execution, now, locale);
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

function cronTooltip(cron: Cron, now: number, locale: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString('', true);
  const text = (value: string) => md.appendMarkdown(escapeMarkdown(value));
  md.appendMarkdown('**');
  text(cron.name);
  md.appendMarkdown('**');
  if (cron.description) {
    md.appendMarkdown(' — ');
    text(cron.description);
  }
  md.appendMarkdown('\n\n');
  md.appendMarkdown(`$(calendar) ${escapeMarkdown(t('Schedule'))}: `);
  text(`${describeSchedule(cron.schedule, cron.timezone, locale)} · ${cron.schedule}`);
  md.appendMarkdown('  \n');
  const next = nextRunAt(cron, now);
  if (cron.paused) md.appendMarkdown(`$(debug-pause) ${escapeMarkdown(t('Schedule paused: runs only when triggered by hand.'))}`);
  else if (!cron.enabled) md.appendMarkdown(`$(circle-slash) ${escapeMarkdown(t('Disabled in the server config.'))}`);
  else if (next !== undefined) {
    md.appendMarkdown(`$(clock) ${escapeMarkdown(t('Next run'))}: `);
    text(`${formatDateTime(next, locale)} (${formatRelative(next, now, locale)})`);
  }
  md.appendMarkdown('  \n');
  md.appendMarkdown(`$(watch) ${escapeMarkdown(t('Estimated duration'))}: `);
  text(`${formatDuration(cron.estimatedDurationMs, locale)} · ${t('timeout')} ${formatDuration(cron.timeoutMs, locale)}`);
  const execution = cron.runningExecution ?? cron.lastExecution;
  if (execution) {
    md.appendMarkdown(`  \n$(history) ${escapeMarkdown(t('Last run'))}: `);
    text(`${statusLabel(execution.status, t)} · ${execution.status === 'running' ? t('started {0}', timeSince(execution.startedAt, now, locale)) : timeSince(execution.completedAt ?? execution.startedAt, now, locale)}`);
    if (execution.stuck && execution.status === 'running') md.appendMarkdown(`  \n$(warning) ${escapeMarkdown(t('Running past its timeout: use "Mark as Failed" if its process is gone.'))}`);
  }
  const lastError = cron.lastExecution?.errorMessage;
  if (lastError && cron.lastExecution?.status !== 'completed') {
    md.appendMarkdown(`\n\n$(error) ${escapeMarkdown(t('Last error'))}: `);
    text(lastError);
  }
  const params = Object.keys(cron.params);
  if (params.length) {
    md.appendMarkdown(`\n\n${escapeMarkdown(t('Params'))}: `);
    text(params.join(', '));
  }
  return md;
}

function executionTooltip(execution: Execution, now: number, locale: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString('', true);
  const line = (value: string) => md.appendMarkdown('  \n' + escapeMarkdown(value));
  md.appendMarkdown(`**${escapeMarkdown(`${execution.cronName} · ${statusLabel(execution.status, t)}`)}**`);
  line(`${t('Started')}: ${formatDateTime(Date.parse(execution.startedAt), locale)} (${timeSince(execution.startedAt, now, locale)})`);
  const duration = executionDescription(execution, now, t, locale).split(' · ')[1];
  if (duration) line(`${t('Duration')}: ${duration}`);
  line(`${t('Trigger')}: ${execution.triggerType}${execution.triggeredBy ? ` (${execution.triggeredBy})` : ''}`);
  if (execution.exitCode !== null) line(`${t('Exit code')}: ${execution.exitCode}`);
  if (Object.keys(execution.params).length) line(`${t('Params')}: ${JSON.stringify(execution.params)}`);
  const version = scriptVersionText(execution, t);
  if (version) line(version);
  if (execution.errorMessage) md.appendMarkdown('\n\n$(error) ' + escapeMarkdown(execution.errorMessage));
  md.appendMarkdown('\n\n' + escapeMarkdown(execution.id));
  return md;
}

export class CronTreeProvider implements vscode.TreeDataProvider<CronOpsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<CronOpsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly items = new Map<string, CronTreeItem>();
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly state: CronOpsState,
    private readonly clock: Clock,
  ) {
    this.subscriptions = [state.onDidChangeCrons((names) => this.onCronsChanged(names)), clock.onTick((now) => this.onTick(now))];
  }

  private onCronsChanged(names: readonly string[] | undefined): void {
    if (names === undefined) {
      this.changed.fire(undefined);
      return;
    }
    const now = this.clock.now();
    for (const name of names) {
      const item = this.items.get(name);
      const cron = this.state.cron(name);
      if (!item || !cron) {
        this.changed.fire(undefined);
        return;
      }
      item.update(cron, now);
      this.changed.fire(item);
    }
  }

  /** Time moved on: redraw the rows whose text it changed (relative times, running durations, countdowns). */
  private onTick(now: number): void {
    for (const item of this.items.values()) {
      const cron = this.state.cron(item.cron.name);
      if (cron && item.update(cron, now)) this.changed.fire(item);
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
      const now = this.clock.now();
      return history.map((execution) => new ExecutionTreeItem(execution, now));
    } catch (error) {
      return [new MessageTreeItem(error instanceof Error ? error.message : String(error), 'warning', name)];
    }
  }

  /** The cron rows, reusing one item per cron so a change redraws only that row. */
  cronItems(): CronTreeItem[] {
    const names = new Set(this.state.crons.map((cron) => cron.name));
    for (const name of this.items.keys()) if (!names.has(name)) this.items.delete(name);
    const now = this.clock.now();
    return this.state.crons.map((cron) => {
      let item = this.items.get(cron.name);
      if (item) item.update(cron, now);
      else this.items.set(cron.name, (item = new CronTreeItem(cron, now)));
      return item;
    });
  }

  /** The row shown for a cron, as last drawn (without redrawing it). */
  item(name: string): CronTreeItem | undefined {
    return this.items.get(name);
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.changed.dispose();
  }
}

export interface CronTree {
  provider: CronTreeProvider;
  view: vscode.TreeView<CronOpsNode>;
}

/** The view, its context keys (for the welcome views and menus), its badge and the Refresh command. */
export function registerCronTree(context: vscode.ExtensionContext, state: CronOpsState, clock: Clock, contextKeys: ContextKeys): CronTree {
  const provider = new CronTreeProvider(state, clock);
  const view = vscode.window.createTreeView('cronOps.crons', { treeDataProvider: provider, showCollapseAll: true });
  // Time only moves the rows of a visible tree that has rows.
  const needClock = () => clock.need('tree', view.visible && state.crons.length > 0);
  const sync = () => {
    const connection = state.connection;
    contextKeys.set('cronOps.connection', connection);
    contextKeys.set('cronOps.hasCrons', state.crons.length > 0);
    contextKeys.set('cronOps.canAct', state.canAct);
    contextKeys.set('cronOps.isSuperAdmin', state.role === 'super-admin');
    const running = state.crons.filter((cron) => cron.runningExecution).length;
    view.badge = running ? { value: running, tooltip: t('{0} running', running) } : undefined;
    view.message = state.crons.length > 0 && connection === 'disconnected' ? state.lastError : undefined;
    needClock();
  };
  sync();
  context.subscriptions.push(
    provider,
    view,
    state.onDidChange(sync),
    view.onDidChangeVisibility(() => {
      needClock();
      if (view.visible) clock.tick();
    }),
    vscode.commands.registerCommand('cronOps.refresh', () =>
      vscode.window.withProgress({ location: { viewId: 'cronOps.crons' } }, async () => {
        await state.refresh();
        if (state.lastError) void vscode.window.showWarningMessage(state.lastError);
      }),
    ),
  );
  return { provider, view };
}
