// One status bar item: failures not looked at yet, running count, failures in 24 h and a ticking countdown to
// the next scheduled run, or the connection's trouble; a click opens the dashboard.
import * as vscode from 'vscode';
import { formatDateTime, formatNumber } from '../shared/format';
import type { Clock } from './clock';
import { formatTimeLeft, nextScheduledRun, statusBarText } from './format';
import { displayLanguage, t } from './l10n';
import { escapeMarkdown } from './markdown';
import type { CronOpsState } from './state';

/** What the status bar reads of the notifications: failures not looked at yet. */
export interface UnseenFailuresSource {
  readonly unseenCount: number;
  readonly onDidChangeUnseen: vscode.Event<number>;
}

export class CronOpsStatusBar implements vscode.Disposable {
  readonly item: vscode.StatusBarItem;
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly state: CronOpsState,
    private readonly clock: Clock,
    private readonly unseen: UnseenFailuresSource,
  ) {
    this.item = vscode.window.createStatusBarItem('cronOps.status', vscode.StatusBarAlignment.Left, 10);
    this.item.name = t('Cron Ops');
    this.item.command = 'cronOps.openDashboard';
    this.subscriptions = [state.onDidChange(() => this.update()), clock.onTick(() => this.update()), unseen.onDidChangeUnseen(() => this.update())];
    this.update();
  }

  /** The text shown now. */
  get text(): string {
    return this.item.text;
  }

  update(): void {
    const { state } = this;
    const now = this.clock.now();
    const locale = displayLanguage();
    const connection = state.connection;
    this.item.text = statusBarText(connection, state.stats, state.crons, now, t, locale, this.unseen.unseenCount);
    // The countdown moves every second while the server answers; a disconnected or signed-out item stays still.
    this.clock.need('statusBar', connection === 'connected' || (connection === 'connecting' && state.stats !== undefined));
    this.item.backgroundColor = connection === 'disconnected' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.command = connection === 'signedOut' ? 'cronOps.signIn' : connection === 'disconnected' ? 'cronOps.checkConnection' : 'cronOps.openDashboard';
    this.item.tooltip = this.tooltip(now, locale);
    this.item.accessibilityInformation = { label: this.item.text.replace(/\$\([^)]+\)\s*/g, '') };
    this.item.show();
  }

  private tooltip(now: number, locale: string): vscode.MarkdownString {
    const { state } = this;
    const md = new vscode.MarkdownString('', true);
    const line = (icon: string, label: string, value: string) => md.appendMarkdown(`$(${icon}) ${escapeMarkdown(label)}: ${escapeMarkdown(value)}  \n`);
    md.appendMarkdown(`**${escapeMarkdown(t('Cron Ops'))}**\n\n`);
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
        md.appendMarkdown(escapeMarkdown(t('Click to open the dashboard.')));
    }
    return md;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.item.dispose();
  }
}

export function registerStatusBar(context: vscode.ExtensionContext, state: CronOpsState, clock: Clock, unseen: UnseenFailuresSource): CronOpsStatusBar {
  const statusBar = new CronOpsStatusBar(state, clock, unseen);
  context.subscriptions.push(statusBar);
  return statusBar;
}
