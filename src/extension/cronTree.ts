// The "Crons" view: one node per cron (status icon, "status · duration · time since" description, rich
// tooltip), its recent executions as children, and welcome views gated by context keys when it is empty.
// With several servers, one root per server (name, connection state, URL in the tooltip) holds its crons.
import * as vscode from 'vscode';
import type { Cron, Execution, SkippedTick } from '../shared/api';
import { formatDateTime, formatRelative, formatStartTime } from '../shared/format';
import { describeSchedule } from '../shared/schedule';
import { nextRunAt } from '../shared/timing';
import type { Clock } from './clock';
import { cronDescription, executionDescription, formatDuration, retryWaiting, scriptPath, statusLabel, timeSince } from './format';
import { displayLanguage, t } from './l10n';
import { escapeMarkdown } from './markdown';
import { overlapTooltipLine, skippedTicksLine } from './overlapWarning';
import type { ContextKeys } from './contextKeys';
import { connectionLabel, type ServerConnection, type Servers } from './servers';
import type { ServerScopedArg } from './serverTarget';
import { cronIcon, executionIcon, type IconChoice } from './statusIcons';
import { scriptVersionText } from './scriptVersionText';
import { errorText } from './serverOrigin';
import { historyRows, skipReasonText } from './historyRows';

function themeIcon(choice: IconChoice): vscode.ThemeIcon {
  return new vscode.ThemeIcon(choice.id, choice.color ? new vscode.ThemeColor(choice.color) : undefined);
}

/**
 * Flags matched by the menus with `viewItem =~ /\bflag\b/`. `canAct`: this row's server lets the token act
 * (each row carries its own server's role, since another server may take the same user as a viewer).
 */
export function cronContextValue(cron: Cron, canAct: boolean): string {
  const flags = ['cron'];
  if (canAct) flags.push('canAct');
  const running = cron.runningExecution;
  if (running) flags.push('running');
  if (running?.stuck) flags.push('stuck');
  flags.push(cron.paused ? 'paused' : 'scheduled');
  if (cron.lastExecution || running) flags.push('hasRun');
  if (scriptPath(cron.command)) flags.push('script');
  return flags.join(' ');
}

export function executionContextValue(execution: Execution, canAct: boolean): string {
  return ['execution', execution.status, ...(execution.stuck && execution.status === 'running' ? ['stuck'] : []), ...(canAct ? ['canAct'] : [])].join(' ');
}

export class CronTreeItem extends vscode.TreeItem {
  private shown = '';

  constructor(
    public cron: Cron,
    now: number,
    /** The server that runs this cron (commands run on it act there). */
    readonly serverId: string,
    /** Several servers in the tree: ids name the server too. */
    scoped: boolean,
    canAct: boolean,
  ) {
    super(cron.name, vscode.TreeItemCollapsibleState.Collapsed);
    this.id = scoped ? `cron:${serverId}:${cron.name}` : `cron:${cron.name}`;
    this.update(cron, now, canAct);
  }

  /** Redraws the row for `now` (and its server's role); true when what it shows changed. */
  update(cron: Cron, now: number, canAct: boolean): boolean {
    const locale = displayLanguage();
    this.cron = cron;
    this.description = cronDescription(cron, now, t, locale);
    const icon = cronIcon(cron);
    this.iconPath = themeIcon(icon);
    this.contextValue = cronContextValue(cron, canAct);
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
    readonly serverId: string,
    scoped: boolean,
    canAct: boolean,
  ) {
    const locale = displayLanguage();
    super(formatStartTime(Date.parse(execution.startedAt), now, locale), vscode.TreeItemCollapsibleState.None);
    this.id = scoped ? `execution:${serverId}:${execution.id}` : `execution:${execution.id}`;
    this.description = executionDescription(execution, now, t, locale);
    this.iconPath = themeIcon(executionIcon(execution));
    this.contextValue = executionContextValue(execution, canAct);
    this.tooltip = executionTooltip(execution, now, locale);
    const scopedArg: ServerScopedArg = { server: serverId, executionId: execution.id };
    this.command = { command: 'cronOps.showLogs', title: t('Show Logs'), arguments: [scoped ? scopedArg : execution.id] };
  }
}

/** A tick that started no run: when, and why (the run still going opens its logs). */
export class SkippedTickTreeItem extends vscode.TreeItem {
  constructor(
    readonly tick: SkippedTick,
    now: number,
    readonly serverId: string,
    scoped: boolean,
  ) {
    const locale = displayLanguage();
    const at = Date.parse(tick.tickAt);
    super(formatStartTime(at, now, locale), vscode.TreeItemCollapsibleState.None);
    this.id = `skipped:${serverId}:${tick.cronName}:${tick.tickAt}`;
    const reason = t(skipReasonText(tick.reason));
    this.description = `${t('skipped tick')} · ${reason}`;
    this.iconPath = new vscode.ThemeIcon('debug-step-over', new vscode.ThemeColor('disabledForeground'));
    this.contextValue = `skippedTick ${tick.reason}`;
    const md = new vscode.MarkdownString(`$(debug-step-over) **${escapeMarkdown(t('{0} — skipped tick', tick.cronName))}**  \n${escapeMarkdown(formatDateTime(at, locale))} (${escapeMarkdown(formatRelative(at, now, locale))})  \n${escapeMarkdown(reason)}`, true);
    this.tooltip = md;
    if (tick.runningExecutionId) {
      const running: ServerScopedArg = { server: serverId, executionId: tick.runningExecutionId };
      this.command = { command: 'cronOps.showLogs', title: t('Show Logs'), arguments: [scoped ? running : tick.runningExecutionId] };
    }
  }
}

/** A row that explains: loading failed, no executions yet. */
export class MessageTreeItem extends vscode.TreeItem {
  constructor(message: string, icon = 'info', parentId = '', command?: vscode.Command) {
    super(message, vscode.TreeItemCollapsibleState.None);
    this.id = `message:${parentId}:${message}`;
    this.iconPath = new vscode.ThemeIcon(icon);
    this.contextValue = 'message';
    this.command = command;
  }
}

/** A server's root row (several servers): its name, its connection as icon and description, its URL in the tooltip. */
export class ServerTreeItem extends vscode.TreeItem {
  private shown = '';

  constructor(
    readonly serverId: string,
    connection: ServerConnection,
    active: boolean,
  ) {
    super(connection.name, vscode.TreeItemCollapsibleState.Expanded);
    this.id = `server:${serverId}`;
    this.update(connection, active);
  }

  /** Redraws the row; true when what it shows changed. */
  update(server: ServerConnection, active: boolean): boolean {
    const { state } = server;
    const connection = state.connection;
    this.label = server.name;
    const parts = [connectionLabel(connection)];
    if (connection === 'disconnected' && state.lastError) parts.push(state.lastError);
    else if (state.crons.length) parts.push(t('{0} crons', state.crons.length));
    if (active) parts.unshift(t('active'));
    this.description = parts.join(' · ');
    const icon = serverIcon(connection);
    this.iconPath = themeIcon(icon);
    // The root's own server's role gates Manage Tokens on it.
    this.contextValue = ['server', connection, ...(active ? ['active'] : []), ...(state.role === 'super-admin' ? ['superAdmin'] : [])].join(' ');
    const md = new vscode.MarkdownString('', true);
    md.appendMarkdown(`**${escapeMarkdown(server.name)}**${active ? ` · ${escapeMarkdown(t('active'))}` : ''}  \n`);
    md.appendMarkdown(`$(globe) ${escapeMarkdown(server.displayUrl)}  \n`);
    md.appendMarkdown(`$(${icon.id}) ${escapeMarkdown(connectionLabel(connection))}`);
    if (state.lastError) md.appendMarkdown(`\n\n$(warning) ${escapeMarkdown(state.lastError)}`);
    this.tooltip = md;
    this.accessibilityInformation = { label: `${server.name}, ${this.description}` };
    const shown = `${this.description}|${icon.id}|${this.contextValue}|${md.value}`;
    const changed = shown !== this.shown;
    this.shown = shown;
    return changed;
  }
}

function serverIcon(connection: ServerConnection['connection']): IconChoice {
  switch (connection) {
    case 'connected':
      return { id: 'vm-running', color: 'testing.iconPassed' };
    case 'signedOut':
      return { id: 'account', color: 'list.warningForeground' };
    case 'disconnected':
      return { id: 'debug-disconnect', color: 'list.errorForeground' };
    case 'connecting':
      return { id: 'sync~spin', color: undefined };
  }
}

export type CronOpsNode = ServerTreeItem | CronTreeItem | ExecutionTreeItem | SkippedTickTreeItem | MessageTreeItem;

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
  const overlap = overlapTooltipLine(cron, t);
  if (overlap) md.appendMarkdown(`  \n$(warning) ${escapeMarkdown(overlap)}`);
  const skipped = skippedTicksLine(cron, t);
  if (skipped) md.appendMarkdown(`  \n$(debug-step-over) ${escapeMarkdown(skipped)}`);
  const execution = cron.runningExecution ?? cron.lastExecution;
  if (execution) {
    md.appendMarkdown(`  \n$(history) ${escapeMarkdown(t('Last run'))}: `);
    text(`${statusLabel(execution.status, t)} · ${execution.status === 'running' ? t('started {0}', timeSince(execution.startedAt, now, locale)) : timeSince(execution.completedAt ?? execution.startedAt, now, locale)}`);
    if (execution.stuck && execution.status === 'running') md.appendMarkdown(`  \n$(warning) ${escapeMarkdown(t('Running past its timeout: use "Mark as Failed" if its process is gone.'))}`);
  }
  if (cron.pendingRetry) md.appendMarkdown(`  \n$(sync) ${escapeMarkdown(retryWaiting(cron.pendingRetry, t, locale))}`);
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
  if (execution.retry) line(retryWaiting(execution.retry, t, locale));
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
  /** Cron rows by server id, then cron name. */
  private readonly items = new Map<string, Map<string, CronTreeItem>>();
  private readonly serverItems = new Map<string, ServerTreeItem>();
  /** Per server id, the role its rows were drawn with ("canAct|role"). */
  private readonly roles = new Map<string, string>();
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly servers: Servers,
    private readonly clock: Clock,
  ) {
    this.subscriptions = [
      servers.forEach((server) => [server.state.onDidChangeCrons((names) => this.onCronsChanged(server, names)), server.state.onDidChange(() => this.onServerChanged(server))]),
      servers.onDidChange(() => this.changed.fire(undefined)),
      clock.onTick((now) => this.onTick(now)),
    ];
  }

  private itemsOf(serverId: string): Map<string, CronTreeItem> {
    let items = this.items.get(serverId);
    if (!items) this.items.set(serverId, (items = new Map()));
    return items;
  }

  private onCronsChanged(server: ServerConnection, names: readonly string[] | undefined): void {
    const root = this.servers.several ? this.serverItems.get(server.id) : undefined;
    if (names === undefined) {
      this.changed.fire(root);
      return;
    }
    const now = this.clock.now();
    for (const name of names) {
      const item = this.items.get(server.id)?.get(name);
      const cron = server.state.cron(name);
      if (!item || !cron) {
        this.changed.fire(root);
        return;
      }
      item.update(cron, now, server.state.canAct);
      this.changed.fire(item);
    }
  }

  /** A server's connection changed: its root row says so (several servers); a new role redraws its rows' menus. */
  private onServerChanged(server: ServerConnection): void {
    const item = this.servers.several ? this.serverItems.get(server.id) : undefined;
    const role = `${server.state.canAct}|${server.state.role}`;
    const roleChanged = this.roles.get(server.id) !== role;
    this.roles.set(server.id, role);
    // The whole server (or the whole tree) again: its cron rows and their executions' rows carry the role.
    if (roleChanged) this.changed.fire(item);
    else if (item?.update(server, server === this.servers.active)) this.changed.fire(item);
  }

  /** Time moved on: redraw the rows whose text it changed (relative times, running durations, countdowns). */
  private onTick(now: number): void {
    for (const server of this.servers.all) {
      for (const item of this.items.get(server.id)?.values() ?? []) {
        const cron = server.state.cron(item.cron.name);
        if (cron && item.update(cron, now, server.state.canAct)) this.changed.fire(item);
      }
    }
  }

  getTreeItem(element: CronOpsNode): vscode.TreeItem {
    return element;
  }

  getParent(element: CronOpsNode): CronOpsNode | undefined {
    if (element instanceof ExecutionTreeItem) return this.items.get(element.serverId)?.get(element.execution.cronName);
    if (element instanceof SkippedTickTreeItem) return this.items.get(element.serverId)?.get(element.tick.cronName);
    if (element instanceof CronTreeItem && this.servers.several) return this.serverItems.get(element.serverId);
    return undefined;
  }

  async getChildren(element?: CronOpsNode): Promise<CronOpsNode[]> {
    if (!element) return this.servers.several ? this.rootItems() : this.cronItems();
    if (element instanceof ServerTreeItem) {
      const server = this.servers.find(element.serverId);
      return server ? this.serverChildren(server) : [];
    }
    if (!(element instanceof CronTreeItem)) return [];
    const name = element.cron.name;
    const server = this.servers.find(element.serverId);
    if (!server) return [];
    try {
      const [history, skipped] = await Promise.all([server.state.historyFor(name) ?? server.state.loadHistory(name), server.state.skippedFor(name) ?? server.state.loadSkipped(name)]);
      const now = this.clock.now();
      const scoped = this.servers.several;
      const items: CronOpsNode[] = historyRows(history, skipped, server.state.historyLimit).map((row) =>
        row.kind === 'skip' ? new SkippedTickTreeItem(row.tick, now, server.id, scoped) : new ExecutionTreeItem(row.execution, now, server.id, scoped, server.state.canAct),
      );
      if (history.length === 0) items.unshift(new MessageTreeItem(t('No executions yet: ▶ runs it now.'), 'info', `${element.serverId}:${name}`));
      return items;
    } catch (error) {
      return [new MessageTreeItem(errorText(error), 'warning', `${element.serverId}:${name}`)];
    }
  }

  /** One root per server, reusing one item per server. */
  rootItems(): ServerTreeItem[] {
    const ids = new Set(this.servers.all.map((server) => server.id));
    for (const id of this.serverItems.keys()) if (!ids.has(id)) this.serverItems.delete(id);
    for (const id of this.items.keys()) if (!ids.has(id)) this.items.delete(id);
    const active = this.servers.active;
    return this.servers.all.map((server) => {
      let item = this.serverItems.get(server.id);
      if (item) item.update(server, server === active);
      else this.serverItems.set(server.id, (item = new ServerTreeItem(server.id, server, server === active)));
      return item;
    });
  }

  /** Under a server's root: its crons, or what to do when it shows none. */
  private serverChildren(server: ServerConnection): CronOpsNode[] {
    const crons = this.cronItems(server);
    if (crons.length) return crons;
    const scoped: ServerScopedArg = { server: server.id };
    switch (server.state.connection) {
      case 'signedOut':
        return [new MessageTreeItem(t('Signed out: click to sign in to {0}.', server.name), 'account', server.id, { command: 'cronOps.signIn', title: t('Sign In'), arguments: [scoped] })];
      case 'disconnected':
        return [new MessageTreeItem(server.state.lastError ?? t('The server does not answer.'), 'warning', server.id, { command: 'cronOps.checkConnection', title: t('Check Connection'), arguments: [scoped] })];
      case 'connecting':
        return [new MessageTreeItem(t('Connecting…'), 'sync~spin', server.id)];
      case 'connected':
        return [new MessageTreeItem(t('The server runs no crons.'), 'info', server.id)];
    }
  }

  /** The cron rows of a server (the only one by default), reusing one item per cron so a change redraws only that row. */
  cronItems(server: ServerConnection = this.servers.active): CronTreeItem[] {
    const items = this.itemsOf(server.id);
    const crons = server.state.crons;
    const names = new Set(crons.map((cron) => cron.name));
    for (const name of items.keys()) if (!names.has(name)) items.delete(name);
    const now = this.clock.now();
    const scoped = this.servers.several;
    return crons.map((cron) => {
      let item = items.get(cron.name);
      // Ids change when the tree gains or loses its server roots: new rows then.
      if (item && (item.id === `cron:${server.id}:${cron.name}`) !== scoped) item = undefined;
      if (item) item.update(cron, now, server.state.canAct);
      else items.set(cron.name, (item = new CronTreeItem(cron, now, server.id, scoped, server.state.canAct)));
      return item;
    });
  }

  /** The row shown for a cron (of the active server by default), as last drawn (without redrawing it). */
  item(name: string, serverId = this.servers.active.id): CronTreeItem | undefined {
    return this.items.get(serverId)?.get(name);
  }

  /** The root row of a server (several servers), as last drawn. */
  serverItem(serverId: string): ServerTreeItem | undefined {
    return this.serverItems.get(serverId);
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
export function registerCronTree(context: vscode.ExtensionContext, servers: Servers, clock: Clock, contextKeys: ContextKeys): CronTree {
  const provider = new CronTreeProvider(servers, clock);
  const view = vscode.window.createTreeView('cronOps.crons', { treeDataProvider: provider, showCollapseAll: true });
  const anyCrons = () => servers.all.some((server) => server.state.crons.length > 0);
  // Time only moves the rows of a visible tree that has rows.
  const needClock = () => clock.need('tree', view.visible && anyCrons());
  const sync = () => {
    const state = servers.active.state;
    const connection = state.connection;
    contextKeys.set('cronOps.connection', connection);
    contextKeys.set('cronOps.hasCrons', anyCrons());
    // The palette and the view's title act on the active server; the tree's rows carry their own server's role.
    contextKeys.set('cronOps.canAct', state.canAct);
    contextKeys.set('cronOps.isSuperAdmin', state.role === 'super-admin');
    contextKeys.set('cronOps.severalServers', servers.several);
    const running = servers.all.reduce((sum, server) => sum + server.state.crons.filter((cron) => cron.runningExecution).length, 0);
    view.badge = running ? { value: running, tooltip: t('{0} running', running) } : undefined;
    view.message = !servers.several && state.crons.length > 0 && connection === 'disconnected' ? state.lastError : undefined;
    needClock();
  };
  sync();
  context.subscriptions.push(
    provider,
    view,
    servers.onDidChangeAnyState(sync),
    servers.onDidChange(sync),
    view.onDidChangeVisibility(() => {
      needClock();
      if (view.visible) clock.tick();
    }),
    vscode.commands.registerCommand('cronOps.refresh', (arg?: unknown) =>
      vscode.window.withProgress({ location: { viewId: 'cronOps.crons' } }, async () => {
        const chosen = arg instanceof ServerTreeItem ? servers.find(arg.serverId) : undefined;
        const targets = chosen ? [chosen] : servers.all;
        await Promise.all(targets.map((server) => server.state.refresh()));
        for (const server of targets) {
          const error = server.state.lastError;
          if (error) void vscode.window.showWarningMessage(servers.several ? `${server.name}: ${error}` : error);
        }
      }),
    ),
  );
  return { provider, view };
}
