// The dashboard: one webview panel fed from the extension's state (crons, KPIs, connection) and the API's
// timeline. It posts typed messages, queued until the page says `ready` (again after each hide/show, since the
// page is not retained), and turns the page's requests into the extension's commands. No token goes to it.
import * as vscode from 'vscode';
import { NO_FILTER, sameFilter, toTimelineColumns, type FromWebview, type RenderedView, type TimelineFilter, type ToWebview } from '../../shared/messages';
import type { ApiClient } from '../apiClient';
import type { CronOpsState } from '../state';
import { createNonce, dashboardHtml, parseFromWebview, runsSignature } from './dashboardHtml';
import { translateDashboardStrings } from './dashboardStrings';

export const DASHBOARD_VIEW_TYPE = 'cronOps.dashboard';
const TIMELINE_DAYS = 7;
/** A burst of state changes (a run starting, its stats event) fetches the timeline once. */
const TIMELINE_DEBOUNCE_MS = 500;

export interface DashboardDeps {
  client: ApiClient;
  state: CronOpsState;
  log: vscode.LogOutputChannel;
}

/** Registers Cron Ops: Open Dashboard and restores a dashboard left open in the last session. */
export function registerDashboard(context: vscode.ExtensionContext, deps: DashboardDeps): void {
  const controller = new DashboardController(context.extensionUri, deps);
  context.subscriptions.push(
    controller,
    vscode.commands.registerCommand('cronOps.openDashboard', () => controller.open()),
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel) => controller.adopt(panel),
    }),
  );
  if (context.extensionMode !== vscode.ExtensionMode.Production) installTestHooks(controller);
}

function assertNever(value: never): never {
  throw new Error(`Unexpected message: ${JSON.stringify(value)}`);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class DashboardController implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private panelDisposables: vscode.Disposable[] = [];
  private ready = false;
  /** Posts waiting for `ready`: the latest of each type is enough. */
  private readonly queue = new Map<ToWebview['type'], ToWebview>();
  private filter: TimelineFilter = NO_FILTER;
  private timelineLoading = false;
  private timelineAgain = false;
  private timelineDebounce: ReturnType<typeof setTimeout> | undefined;
  private refreshTimer: ReturnType<typeof setInterval> | undefined;
  private lastSignature = '';
  private lastTimelineError = '';
  private lastTimeline: Extract<ToWebview, { type: 'timeline' }> | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly received = new vscode.EventEmitter<FromWebview>();
  /** Every message the page posted (checked), for the test hooks. */
  readonly onDidReceive = this.received.event;
  readonly posted: ToWebview[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly deps: DashboardDeps,
  ) {
    this.disposables.push(
      this.received,
      deps.state.onDidChange(() => this.stateChanged()),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('cronOps.refreshIntervalSeconds') && this.panel) this.startRefreshTimer();
      }),
    );
  }

  get currentPanel(): vscode.WebviewPanel | undefined {
    return this.panel;
  }

  open(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, vscode.l10n.t('Cron Ops Dashboard'), vscode.ViewColumn.Active, this.webviewOptions());
    this.adopt(panel);
  }

  /** Takes charge of a new panel or one VS Code restored after a restart. */
  adopt(panel: vscode.WebviewPanel): void {
    if (this.panel && this.panel !== panel) this.panel.dispose();
    this.panel = panel;
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
      }),
      panel.onDidDispose(() => this.panelClosed(panel)),
    ];
    this.startRefreshTimer();
    this.deps.log.info('[Dashboard] opened');
  }

  /** Handles a message as the page would send it (used by the page and by the tests). */
  async handle(message: FromWebview): Promise<void> {
    this.received.fire(message);
    switch (message.type) {
      case 'ready': {
        this.ready = true;
        this.filter = message.filter;
        const queued = [...this.queue.values()];
        this.queue.clear();
        this.post({ type: 'config', locale: vscode.env.language, strings: translateDashboardStrings((english) => vscode.l10n.t(english)) });
        this.pushState();
        // The last timeline for this filter shows at once (after a hide/show); a fresh one follows.
        const timeline = queued.find((posted) => posted.type === 'timeline') ?? this.lastTimeline;
        if (timeline && sameFilter(timeline.filter, this.filter)) this.post(timeline);
        await this.loadTimeline();
        return;
      }
      case 'refresh':
        await this.deps.state.refresh().catch((error: unknown) => this.deps.log.warn(`[Dashboard] refresh failed: ${describe(error)}`));
        this.pushState();
        await this.loadTimeline();
        return;
      case 'filter':
        this.filter = message.filter;
        await this.loadTimeline();
        return;
      case 'trigger':
        await this.command('cronOps.triggerCron', message.cronName);
        return;
      case 'showLogs':
        await this.command('cronOps.showLogs', message.executionId);
        return;
      case 'signIn':
        await this.command('cronOps.signIn');
        return;
      case 'rendered':
        this.deps.log.trace(`[Dashboard] rendered ${JSON.stringify(message.view)}`);
        return;
      case 'problem':
        this.deps.log.warn(`[Dashboard] the page reported: ${message.message}`);
        return;
      default:
        assertNever(message);
    }
  }

  dispose(): void {
    clearTimeout(this.timelineDebounce);
    clearInterval(this.refreshTimer);
    this.panel?.dispose();
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
      title: vscode.l10n.t('Cron Ops Dashboard'),
      lang: vscode.env.language,
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
    this.posted.push(message);
    if (this.posted.length > 50) this.posted.shift();
    const panel = this.panel;
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
    const { state } = this.deps;
    this.post({ type: 'state', crons: [...state.crons], stats: state.stats ?? null, connection: state.connection, error: state.lastError ?? null });
  }

  private stateChanged(): void {
    if (!this.panel) return;
    this.pushState();
    const signature = runsSignature(this.deps.state.crons, this.deps.state.stats);
    if (signature === this.lastSignature) return;
    this.lastSignature = signature;
    clearTimeout(this.timelineDebounce);
    this.timelineDebounce = setTimeout(() => void this.loadTimeline(), TIMELINE_DEBOUNCE_MS);
  }

  /** Fetches the timeline for the current filter; one request at a time, a reply for an old filter is dropped. */
  private async loadTimeline(): Promise<void> {
    if (!this.panel || !this.ready) return;
    if (this.timelineLoading) {
      this.timelineAgain = true;
      return;
    }
    this.timelineLoading = true;
    try {
      do {
        this.timelineAgain = false;
        const filter = this.filter;
        try {
          const reply = await this.deps.client.timeline({ days: TIMELINE_DAYS, cronName: filter.cronName, status: filter.status });
          if (!sameFilter(filter, this.filter)) continue;
          this.lastTimelineError = '';
          this.lastTimeline = { type: 'timeline', filter, from: reply.from, to: reply.to, columns: toTimelineColumns(reply.executions) };
          this.post(this.lastTimeline);
        } catch (error) {
          const message = describe(error);
          if (message !== this.lastTimelineError) this.deps.log.warn(`[Dashboard] timeline: ${message}`);
          this.lastTimelineError = message;
          if (sameFilter(filter, this.filter)) this.post({ type: 'timelineError', filter, message });
        }
      } while (this.timelineAgain || !sameFilter(this.filter, this.lastPostedFilter()));
    } finally {
      this.timelineLoading = false;
    }
  }

  /** The filter of the last timeline or error posted (to notice a filter change during a fetch). */
  private lastPostedFilter(): TimelineFilter {
    for (let i = this.posted.length - 1; i >= 0; i--) {
      const message = this.posted[i];
      if (message.type === 'timeline' || message.type === 'timelineError') return message.filter;
    }
    return this.filter;
  }

  /** Every cronOps.refreshIntervalSeconds, as the guide's auto-refresh: KPIs again and the timeline. */
  private startRefreshTimer(): void {
    clearInterval(this.refreshTimer);
    const seconds = vscode.workspace.getConfiguration('cronOps').get<number>('refreshIntervalSeconds', 30);
    const everyMs = Math.max(5, Number.isFinite(seconds) ? seconds : 30) * 1000;
    this.refreshTimer = setInterval(() => {
      if (!this.panel?.visible || !this.ready) return;
      this.pushState();
      void this.loadTimeline();
    }, everyMs);
  }

  private panelClosed(panel: vscode.WebviewPanel): void {
    if (this.panel !== panel) return;
    for (const disposable of this.panelDisposables) disposable.dispose();
    this.panelDisposables = [];
    this.panel = undefined;
    this.ready = false;
    this.queue.clear();
    this.lastTimeline = undefined;
    clearInterval(this.refreshTimer);
    clearTimeout(this.timelineDebounce);
    this.deps.log.info('[Dashboard] closed');
  }
}

/** What the VS Code tests reach: the panel and the messages exchanged with the page. */
export interface DashboardTestHooks {
  panel(): vscode.WebviewPanel | undefined;
  /** Messages the page posted, oldest first (the last 200). */
  received(): readonly FromWebview[];
  /** Messages posted to the page (the last 50). */
  posted(): readonly ToWebview[];
  /** The last `rendered` report of the page. */
  lastRendered(): RenderedView | undefined;
  /**
   * Resolves with the first message of `type` matching `predicate` among those received after the first
   * `after` messages (default: all of them, including those still to come); rejects after `timeoutMs`.
   */
  waitForMessage<T extends FromWebview['type']>(
    type: T,
    predicate?: (message: Extract<FromWebview, { type: T }>) => boolean,
    options?: { timeoutMs?: number; after?: number },
  ): Promise<Extract<FromWebview, { type: T }>>;
  /** Handles a message as if the page had posted it. */
  simulate(message: FromWebview): Promise<void>;
}

// The hooks live on globalThis so that a test bundle importing this module reaches the extension's instance.
const HOOKS_KEY = Symbol.for('cronOps.dashboardTestHooks');

/** The dashboard's test hooks, in a development or test extension host; undefined in production. */
export function dashboardTestHooks(): DashboardTestHooks | undefined {
  return (globalThis as Record<symbol, DashboardTestHooks | undefined>)[HOOKS_KEY];
}

function installTestHooks(controller: DashboardController): void {
  const received: FromWebview[] = [];
  let dropped = 0;
  controller.onDidReceive((message) => {
    received.push(message);
    if (received.length > 200) {
      received.shift();
      dropped++;
    }
  });
  const hooks: DashboardTestHooks = {
    panel: () => controller.currentPanel,
    received: () => received.slice(),
    posted: () => controller.posted.slice(),
    lastRendered: () => {
      for (let i = received.length - 1; i >= 0; i--) {
        const message = received[i];
        if (message.type === 'rendered') return message.view;
      }
      return undefined;
    },
    waitForMessage: (type, predicate = () => true, options = {}) =>
      new Promise((resolve, reject) => {
        const after = options.after ?? 0;
        const matches = (message: FromWebview): message is Extract<FromWebview, { type: typeof type }> =>
          message.type === type && predicate(message as Extract<FromWebview, { type: typeof type }>);
        const earlier = received.slice(Math.max(0, after - dropped)).find(matches);
        if (earlier) return resolve(earlier);
        const timer = setTimeout(() => {
          subscription.dispose();
          const seen = received.filter((message) => message.type === type).slice(-3);
          reject(new Error(`No "${type}" message matching within ${options.timeoutMs ?? 20_000} ms; last ones: ${JSON.stringify(seen)}`));
        }, options.timeoutMs ?? 20_000);
        const subscription = controller.onDidReceive((message) => {
          if (!matches(message)) return;
          clearTimeout(timer);
          subscription.dispose();
          resolve(message);
        });
      }),
    simulate: (message) => controller.handle(message),
  };
  (globalThis as Record<symbol, DashboardTestHooks | undefined>)[HOOKS_KEY] = hooks;
}
