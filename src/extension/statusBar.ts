// One status bar item: running count, failures in 24 h and a ticking countdown to the next scheduled run,
// or the connection's trouble; a click opens the dashboard.
import * as vscode from 'vscode';
import { formatCountdown, nextScheduledRun, statusBarText, type Translate } from './format';
import type { CronOpsState } from './state';

const t: Translate = (message, ...args) => vscode.l10n.t(message, ...args);

export class CronOpsStatusBar implements vscode.Disposable {
  readonly item: vscode.StatusBarItem;
  private readonly timer: NodeJS.Timeout;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly state: CronOpsState) {
    this.item = vscode.window.createStatusBarItem('cronOps.status', vscode.StatusBarAlignment.Left, 10);
    this.item.name = t('Cron Ops');
    this.item.command = 'cronOps.openDashboard';
    this.subscription = state.onDidChange(() => this.update());
    // The countdown ticks every second; update() is cheap and only touches the item.
    this.timer = setInterval(() => this.update(), 1000);
    this.update();
  }

  /** The text shown now (tests read it). */
  get text(): string {
    return this.item.text;
  }

  update(): void {
    const { state } = this;
    const now = Date.now();
    const connection = state.connection;
    this.item.text = statusBarText(connection, state.stats, state.crons, now, t);
    this.item.backgroundColor = connection === 'disconnected' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.command = connection === 'signedOut' ? 'cronOps.signIn' : connection === 'disconnected' ? 'cronOps.checkConnection' : 'cronOps.openDashboard';
    this.item.tooltip = this.tooltip(now);
    this.item.accessibilityInformation = { label: this.item.text.replace(/\$\([^)]+\)\s*/g, '') };
    this.item.show();
  }

  private tooltip(now: number): vscode.MarkdownString {
    const { state } = this;
    const md = new vscode.MarkdownString('', true);
    md.appendMarkdown(`**${t('Cron Ops')}**\n\n`);
    const stats = state.stats;
    if (stats) {
      md.appendMarkdown(`$(history) ${t('Executions (24 h)')}: ${stats.executions24h}  \n`);
      md.appendMarkdown(`$(sync) ${t('Running')}: ${stats.running}  \n`);
      md.appendMarkdown(`$(error) ${t('Failures (24 h)')}: ${stats.failures24h}  \n`);
    }
    const next = nextScheduledRun(state.crons, stats);
    if (next) md.appendMarkdown(`$(clock) ${t('Next run')}: `).appendText(`${next.cronName} ${t('in {0}', formatCountdown(next.at - now))}`).appendMarkdown('  \n');
    const paused = state.crons.filter((cron) => cron.paused).map((cron) => cron.name);
    if (paused.length) md.appendMarkdown(`$(debug-pause) ${t('Paused')}: `).appendText(paused.join(', ')).appendMarkdown('  \n');
    if (state.lastError) md.appendMarkdown('\n$(warning) ').appendText(state.lastError);
    md.appendMarkdown('\n\n');
    switch (state.connection) {
      case 'signedOut':
        md.appendMarkdown(t('Click to sign in.'));
        break;
      case 'disconnected':
        md.appendMarkdown(t('Click to check the connection.'));
        break;
      default:
        md.appendMarkdown(t('Click to open the dashboard.'));
    }
    return md;
  }

  dispose(): void {
    clearInterval(this.timer);
    this.subscription.dispose();
    this.item.dispose();
  }
}

export function registerStatusBar(context: vscode.ExtensionContext, state: CronOpsState): CronOpsStatusBar {
  const statusBar = new CronOpsStatusBar(state);
  context.subscriptions.push(statusBar);
  return statusBar;
}
