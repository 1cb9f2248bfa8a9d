// The dashboard: one webview panel, a plain view of the extension's state store (crons, KPIs, connection, role,
// and the timeline slice). It posts typed messages, queued until the page says `ready` (again after each
// hide/show, since the page is not retained), and turns the page's requests into the extension's commands and
// the timeline slice's filter and range. No token goes to it, and it fetches nothing itself. It shows one
// server: the active one (following Switch Server), or the one Open Dashboard was given (a tree root, a name).
import * as vscode from 'vscode';
import { toTimelineColumns, type FromWebview, type TimelineFilter, type ToWebview } from '../../shared/messages';
import type { Clock } from '../clock';
import { displayLanguage, t } from '../l10n';
import type { ServerConnection, Servers } from '../servers';
import { serverRefOf } from '../serverTarget';
import type { Settings } from '../settings';
import type { CronOpsState } from '../state';
import type { TimelineValue } from '../timelineSlice';
import { createNonce, dashboardHtml, parseFromWebview } from './dashboardHtml';
import { translateDashboardStrings } from './dashboardStrings';
import { errorText } from '../serverOrigin';

export const DASHBOARD_VIEW_TYPE = 'cronOps.dashboard';

export interface DashboardDeps {
  servers: Servers;
  settings: Settings;
  clock: Clock;
  log: vscode.LogOutputChannel;
}

/** Registers Cron Ops: Open Dashboard and restores a dashboard left open in the last session. */
export function registerDashboard(context: vscode.ExtensionContext, deps: DashboardDeps): Dashboard {
  const dashboard = new Dashboard(context.extensionUri, deps);
  context.subscriptions.push(
    dashboard,
    // A tree root, `{ server }` or a server's id, name or URL shows that server; nothing: the active one.
    vscode.commands.registerCommand('cronOps.openDashboard', async (arg?: unknown) => {
      if (arg === undefined || (typeof arg !== 'string' && serverRefOf(arg) === undefined)) return dashboard.open();
      const server = typeof arg === 'string' ? deps.servers.find(arg) : await deps.servers.target(arg);
      if (!server) {
        if (typeof arg === 'string') void vscode.window.showErrorMessage(t('No configured Cron Ops server is called {0}: check the cronOps.servers setting.', arg));
        return undefined;
      }
      return dashboard.open(server);
    }),
    // The panel's own server picker (its title bar, several servers): a pick, or `{ server }`.
    vscode.commands.registerCommand('cronOps.showServerInDashboard', async (arg?: unknown) => {
      const server = await deps.servers.ask(arg, t('Show which server in the dashboard?'));
      if (server) dashboard.open(server);
      return server?.name;
    }),
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel) => dashboard.adopt(panel),
    }),
  );
  return dashboard;
}

function assertNever(value: never): never {
  throw new Error(`Unexpected message: ${JSON.stringify(value)}`);
}

function describe(error: unknown): string {
  return errorText(error);
}

function timelineMessage(value: TimelineValue): ToWebview {
  if (value.kind === 'error') return { type: 'timelineError', filter: value.filter, message: value.message };
  const { reply } = value;
  return {
    type: 'timeline',
    filter: value.filter,
    range: value.range,
    // A zoomed view shows the range asked for, even from a server that answers with its default range.
    from: value.range?.from ?? reply.from,
    to: value.range?.to ?? reply.to,
    columns: toTimelineColumns(reply.executions),
    ...(reply.buckets ? { buckets: reply.buckets, bucketMs: reply.bucketMs } : {}),
    ...(reply.skipped ? { skipped: reply.skipped, skippedTotal: reply.skippedTotal ?? reply.skipped.length } : {}),
  };
}

export class Dashboard implements vscode.Disposable {
  private currentPanel: vscode.WebviewPanel | undefined;
  private panelDisposables: vscode.Disposable[] = [];
  private ready = false;
  /** Posts waiting for `ready`: the latest of each type is enough. */
  private readonly queue = new Map<ToWebview['type'], ToWebview>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly received = new vscode.EventEmitter<FromWebview>();
  /** Every message the page posted (checked), before it is handled. */
  readonly onDidReceive = this.received.event;
  private readonly shown = new vscode.EventEmitter<ServerConnection>();
  /** The panel was opened or came back on screen: whatever it shows (of this server) has been looked at. */
  readonly onDidShow = this.shown.event;
  /** The server shown; undefined: the active one. */
  private chosen: ServerConnection | undefined;
  private serverSubscriptions: vscode.Disposable[] = [];
  private bound: ServerConnection | undefined;
  /** The page's last timeline filter, applied again when the dashboard shows another server. */
  private filter: TimelineFilter | undefined;
  private readonly posted = new vscode.EventEmitter<ToWebview>();
  /** Every message sent (or queued) to the page. */
  readonly onDidPost = this.posted.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly deps: DashboardDeps,
  ) {
    this.disposables.push(
      this.received,
      this.shown,
      this.posted,
      deps.servers.onDidChange(() => this.follow()),
      { dispose: () => this.serverSubscriptions.forEach((subscription) => subscription.dispose()) },
    );
    this.bind(this.server);
  }

  /** The server the dashboard shows. */
  get server(): ServerConnection {
    const { servers } = this.deps;
    return this.chosen && servers.all.includes(this.chosen) ? this.chosen : servers.active;
  }

  /** The server shown while the dashboard is on screen. */
  get showing(): ServerConnection | undefined {
    return this.visible ? this.server : undefined;
  }

  private get state(): CronOpsState {
    return this.server.state;
  }

  private bind(server: ServerConnection): void {
    for (const subscription of this.serverSubscriptions) subscription.dispose();
    this.bound = server;
    this.serverSubscriptions = [
      server.state.onDidChange(() => this.currentPanel && this.pushState()),
      server.state.timeline.onDidChange((value) => this.currentPanel && this.post(value ? timelineMessage(value) : { type: 'timelineCleared' })),
    ];
  }

  /** The server to show changed (Switch Server, Open Dashboard on another, the list): show it, timeline included. */
  private follow(): void {
    const server = this.server;
    const previous = this.bound;
    if (server === previous) {
      this.retitle();
      return;
    }
    if (previous && this.deps.servers.all.includes(previous)) previous.state.timeline.setActive(false);
    this.bind(server);
    this.retitle();
    const panel = this.currentPanel;
    if (!panel) return;
    this.deps.log.info(`[Dashboard] showing ${server.name}`);
    this.pushState();
    const timeline = server.state.timeline.value;
    this.post(timeline ? timelineMessage(timeline) : { type: 'timelineCleared' });
    if (panel.visible) {
      server.state.timeline.setActive(true);
      if (this.filter) void server.state.timeline.setFilter(this.filter);
      this.shown.fire(server);
    }
  }

  private title(): string {
    return this.deps.servers.several ? t('Cron Ops Dashboard: {0}', this.server.name) : t('Cron Ops Dashboard');
  }

  private retitle(): void {
    if (this.currentPanel && this.currentPanel.title !== this.title()) this.currentPanel.title = this.title();
  }

  /** The open dashboard panel, if any. */
  get panel(): vscode.WebviewPanel | undefined {
    return this.currentPanel;
  }

  /** Whether the dashboard is on screen. */
  get visible(): boolean {
    return this.currentPanel?.visible ?? false;
  }

  /** Opens (or brings back) the dashboard on `server`; without one, on the active server (and follows it). */
  open(server?: ServerConnection): void {
    this.chosen = server && server !== this.deps.servers.active ? server : undefined;
    this.follow();
    if (this.currentPanel) {
      this.currentPanel.reveal();
      this.shown.fire(this.server);
      return;
    }
    const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, this.title(), vscode.ViewColumn.Active, this.webviewOptions());
    this.adopt(panel);
  }

  /** Takes charge of a new panel or one VS Code restored after a restart. */
  adopt(panel: vscode.WebviewPanel): void {
    if (this.currentPanel && this.currentPanel !== panel) this.currentPanel.dispose();
    this.currentPanel = panel;
    this.ready = false;
    this.queue.clear();
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'cron-ops.svg');
    panel.webview.options = this.webviewOptions();
    panel.webview.html = this.html(panel.webview);
    this.panelDisposables = [
      panel.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
      panel.onDidChangeViewState(() => {
        // Not retained when hidden: the page is gone and will say `ready` again when shown.
        if (!panel.visible) this.ready = false;
        else this.shown.fire(this.server);
        this.state.timeline.setActive(panel.visible);
      }),
      panel.onDidDispose(() => this.panelClosed(panel)),
    ];
    this.retitle();
    this.deps.log.info('[Dashboard] opened');
    this.shown.fire(this.server);
  }

  /** Handles a message as the page sends it. */
  async handle(message: FromWebview): Promise<void> {
    this.received.fire(message);
    const { state } = this;
    // The page's commands act on the server it shows.
    const server = this.server.id;
    switch (message.type) {
      case 'ready': {
        this.ready = true;
        this.queue.clear();
        this.post({ type: 'config', locale: displayLanguage(), strings: translateDashboardStrings((english) => t(english)) });
        this.pushState();
        const timeline = state.timeline.value;
        if (timeline) this.post(timelineMessage(timeline));
        state.timeline.setActive(true);
        this.filter = message.filter;
        await state.timeline.setFilter(message.filter);
        return;
      }
      case 'refresh':
        await state.refresh().catch((error: unknown) => this.deps.log.warn(`[Dashboard] refresh failed: ${describe(error)}`));
        await state.timeline.load();
        return;
      case 'filter':
        this.filter = message.filter;
        await state.timeline.setFilter(message.filter);
        return;
      case 'zoom':
        await state.timeline.setRange(message.range);
        return;
      case 'trigger':
        await this.command('cronOps.triggerCron', { server, cronName: message.cronName });
        return;
      case 'showLogs':
        await this.command('cronOps.showLogs', { server, executionId: message.executionId });
        return;
      case 'signIn':
        await this.command('cronOps.signIn', { server });
        return;
      case 'rendered':
        this.deps.log.trace(`[Dashboard] rendered ${JSON.stringify(message.view).slice(0, 500)}`);
        return;
      case 'problem':
        this.deps.log.warn(`[Dashboard] the page reported: ${message.message}`);
        return;
      default:
        assertNever(message);
    }
  }

  dispose(): void {
    this.currentPanel?.dispose();
    for (const disposable of this.disposables) disposable.dispose();
  }

  private webviewOptions(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
  }

  private html(webview: vscode.Webview): string {
    return dashboardHtml({
      cspSource: webview.cspSource,
      nonce: createNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'dashboard.css')).toString(),
      title: t('Cron Ops Dashboard'),
      lang: displayLanguage(),
    });
  }

  private receive(raw: unknown): void {
    const message = parseFromWebview(raw);
    if (!message) {
      this.deps.log.warn(`[Dashboard] ignored a malformed message: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    void this.handle(message).catch((error: unknown) => this.deps.log.error(`[Dashboard] handling ${message.type} failed: ${describe(error)}`));
  }

  private async command(id: string, ...args: unknown[]): Promise<void> {
    try {
      await vscode.commands.executeCommand(id, ...args);
    } catch (error) {
      // The commands report their own failures; this only records that the dashboard asked.
      this.deps.log.warn(`[Dashboard] ${id} failed: ${describe(error)}`);
    }
  }

  private post(message: ToWebview): void {
    this.posted.fire(message);
    const panel = this.currentPanel;
    if (!panel || !this.ready || !panel.visible) {
      this.queue.set(message.type, message);
      return;
    }
    void panel.webview.postMessage(message).then(
      (delivered) => {
        if (!delivered) this.queue.set(message.type, message);
      },
      (error: unknown) => this.deps.log.warn(`[Dashboard] post ${message.type} failed: ${describe(error)}`),
    );
  }

  private pushState(): void {
    const { state } = this;
    const { clock } = this.deps;
    this.post({
      type: 'state',
      crons: [...state.crons],
      stats: state.stats ?? null,
      connection: state.connection,
      error: state.lastError ?? null,
      now: clock.now(),
      canAct: state.canAct,
    });
  }

  private panelClosed(panel: vscode.WebviewPanel): void {
    if (this.currentPanel !== panel) return;
    for (const disposable of this.panelDisposables) disposable.dispose();
    this.panelDisposables = [];
    this.currentPanel = undefined;
    this.ready = false;
    this.queue.clear();
    this.state.timeline.setActive(false);
    this.deps.log.info('[Dashboard] closed');
  }
}
