// One status bar item: failures not looked at yet (on every server), and of the active server the running
// count, failures in 24 h and a ticking countdown to the next scheduled run, or the connection's trouble; its
// name leads when there are several servers. A click opens the dashboard (of the server whose failures are not
// looked at yet, the active one first, so the click clears what the bar counts); Switch Server changes the active one.
import * as vscode from 'vscode';
import { formatDateTime, formatNumber } from '../shared/format';
import type { Clock } from './clock';
import { formatTimeLeft, nextScheduledRun, statusBarText } from './format';
import { displayLanguage, t } from './l10n';
import { escapeIcons, escapeMarkdown } from './markdown';
import type { ServerConnection, Servers } from './servers';
import type { CronOpsState } from './state';

/** What the status bar reads of the notifications: failures not looked at yet. */
export interface UnseenFailuresSource {
  readonly unseenCount: number;
  /** The failures not looked at yet of one server. */
  unseenOn(serverId: string): number;
  readonly onDidChangeUnseen: vscode.Event<number>;
}

export class CronOpsStatusBar implements vscode.Disposable {
  readonly item: vscode.StatusBarItem;
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly servers: Servers,
    private readonly clock: Clock,
    private readonly unseen: UnseenFailuresSource,
  ) {
    this.item = vscode.window.createStatusBarItem('cronOps.status', vscode.StatusBarAlignment.Left, 10);
    this.item.name = t('Cron Ops');
    this.item.command = 'cronOps.openDashboard';
    this.subscriptions = [servers.onDidChangeAnyState((server) => server === servers.active && this.update()), servers.onDidChange(() => this.update()), clock.onTick(() => this.update()), unseen.onDidChangeUnseen(() => this.update())];
    this.update();
  }

  /** The text shown now. */
  get text(): string {
    return this.item.text;
  }

  private get state(): CronOpsState {
    return this.servers.active.state;
  }

  update(): void {
    const { state } = this;
    const now = this.clock.now();
    const locale = displayLanguage();
    const connection = state.connection;
    const text = statusBarText(connection, state.stats, state.crons, now, t, locale, this.unseen.unseenCount);
    const name = this.servers.active.name;
    this.item.text = this.servers.several ? `$(server) ${escapeIcons(name)} · ${text}` : text;
    // The countdown moves every second while the server answers; a disconnected or signed-out item stays still.
    this.clock.need('statusBar', connection === 'connected' || (connection === 'connecting' && state.stats !== undefined));
    this.item.backgroundColor = connection === 'disconnected' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    const command = connection === 'signedOut' ? 'cronOps.signIn' : connection === 'disconnected' ? 'cronOps.checkConnection' : 'cronOps.openDashboard';
    // Several servers: the click acts on the one shown, except that the dashboard opens where failures wait.
    const target = command === 'cronOps.openDashboard' ? this.unseenServer() : this.servers.active;
    this.item.command = this.servers.several ? { command, title: command, arguments: [{ server: target.id }] } : command;
    this.item.tooltip = this.tooltip(now, locale, target);
    const spoken = text.replace(/\$\([^)]+\)\s*/g, '');
    this.item.accessibilityInformation = { label: this.servers.several ? `${name} · ${spoken}` : spoken };
    this.item.show();
  }

  /** The server whose dashboard clears the failures counted: the active one if it has some, else the first that has. */
  private unseenServer(): ServerConnection {
    const active = this.servers.active;
    if (this.unseen.unseenOn(active.id) > 0) return active;
    return this.servers.all.find((server) => this.unseen.unseenOn(server.id) > 0) ?? active;
  }

  private tooltip(now: number, locale: string, target: ServerConnection): vscode.MarkdownString {
    const { state } = this;
    const md = new vscode.MarkdownString('', true);
    const line = (icon: string, label: string, value: string) => md.appendMarkdown(`$(${icon}) ${escapeMarkdown(label)}: ${escapeMarkdown(value)}  \n`);
    md.appendMarkdown(`**${escapeMarkdown(t('Cron Ops'))}**\n\n`);
    if (this.servers.several) {
      const server = this.servers.active;
      line('server', t('Server'), `${server.name} (${server.displayUrl})`);
      line('arrow-swap', t('Other servers'), this.servers.all.filter((other) => other !== server).map((other) => other.name).join(', ') + ' · ' + t('run "Cron Ops: Switch Server"'));
    }
    const unseen = this.unseen.unseenCount;
    if (unseen > 0) line('bell-dot', t('Failures not looked at'), t('{0} (open the dashboard or their logs to clear)', formatNumber(unseen, locale)));
    const stats = state.stats;
    if (stats) {
      line('history', t('Executions (24 h)'), formatNumber(stats.executions24h, locale));
      line('sync', t('Running'), formatNumber(state.crons.length ? state.crons.filter((cron) => cron.runningExecution).length : stats.running, locale));
      line('error', t('Failures (24 h)'), formatNumber(stats.failures24h, locale));
    }
    const next = nextScheduledRun(state.crons, stats, now);
    if (next) line('clock', t('Next run'), `${next.cronName} ${t('in {0}', formatTimeLeft(next.at - now, locale))} (${formatDateTime(next.at, locale)})`);
    const paused = state.crons.filter((cron) => cron.paused).map((cron) => cron.name);
    if (paused.length) line('debug-pause', t('Paused'), paused.join(', '));
    if (state.lastError) md.appendMarkdown('\n$(warning) ' + escapeMarkdown(state.lastError));
    md.appendMarkdown('\n\n');
    switch (state.connection) {
      case 'signedOut':
        md.appendMarkdown(escapeMarkdown(t('Click to sign in.')));
        break;
      case 'disconnected':
        md.appendMarkdown(escapeMarkdown(t('Click to check the connection.')));
        break;
      default:
        md.appendMarkdown(escapeMarkdown(target === this.servers.active ? t('Click to open the dashboard.') : t('Click to open the dashboard of {0}, where the failures are.', target.name)));
    }
    return md;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.item.dispose();
  }
}

export function registerStatusBar(context: vscode.ExtensionContext, servers: Servers, clock: Clock, unseen: UnseenFailuresSource): CronOpsStatusBar {
  const statusBar = new CronOpsStatusBar(servers, clock, unseen);
  context.subscriptions.push(
    statusBar,
    // From the palette (a pick, the active one first), a tree root, or a server's id, name or URL.
    vscode.commands.registerCommand('cronOps.switchServer', async (arg?: unknown) => {
      const server = typeof arg === 'string' ? servers.find(arg) : await servers.ask(arg, t('Switch to which server?'));
      if (!server) {
        if (typeof arg === 'string') void vscode.window.showErrorMessage(t('No configured Cron Ops server is called {0}: check the cronOps.servers setting.', arg));
        return undefined;
      }
      await servers.setActive(server);
      return server.name;
    }),
  );
  return statusBar;
}
