// How a finished run reaches the user: a notification under cronOps.notify (with Show Logs, Compare with Last
// Successful Run where it applies and, for a retry, its attempt), and the count of failures not looked at yet that the status bar shows until the dashboard or
// that run's logs are opened.
import * as vscode from 'vscode';
import type { Execution } from '../shared/api';
import { finishedSummary } from './format';
import { displayLanguage, t } from './l10n';
import type { Logger } from './logger';
import { attemptNote, isFailure, isMine, shouldNotify, UnseenFailures } from './notifyPolicy';
import type { Settings } from './settings';
import type { CronOpsState } from './state';

export interface RunNotificationsDeps {
  state: CronOpsState;
  settings: Settings;
  log: Logger;
  /** The runs triggered from this window. */
  startedHere: () => ReadonlySet<string>;
  /** Whether the dashboard is on screen now (a failure arriving then is looked at). */
  dashboardVisible: () => boolean;
  onDashboardShown: vscode.Event<unknown>;
  onLogsOpened: vscode.Event<{ executionId: string }>;
  /** Whether this run's logs were opened in this window (followed as it ran: its end was seen). */
  logsOpened: (executionId: string) => boolean;
  /** One more action on a failure's notification where it applies (Compare with Last Successful Run). */
  failureAction?: (execution: Execution) => Promise<{ title: string; run: () => void } | undefined>;
}

export class RunNotifications implements vscode.Disposable {
  private readonly unseen = new UnseenFailures();
  private readonly notified = new vscode.EventEmitter<{ execution: Execution; summary: string }>();
  /** Fires with the notification's text each time a finished run is announced. */
  readonly onDidNotify = this.notified.event;
  private readonly unseenChanged = new vscode.EventEmitter<number>();
  /** Fires with the new count of unseen failures. */
  readonly onDidChangeUnseen = this.unseenChanged.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly deps: RunNotificationsDeps) {
    this.subscriptions = [
      deps.state.onExecutionFinished((execution) => this.finished(execution)),
      deps.onDashboardShown(() => this.unseen.clear() && this.unseenChanged.fire(this.unseen.count)),
      deps.onLogsOpened(({ executionId }) => this.unseen.seen(executionId) && this.unseenChanged.fire(this.unseen.count)),
      deps.settings.onDidChange((names) => {
        if (names.has('notify')) deps.log.info(`Notifications: ${deps.settings.notify}`);
        if (names.has('serverUrl')) this.forget();
      }),
      // Failures of a server no longer watched (signed out, another URL) are not this window's to count.
      deps.state.onDidChange(() => deps.state.connection === 'signedOut' && this.forget()),
    ];
  }

  /** Failures announced or received since the dashboard or their logs were last looked at. */
  get unseenCount(): number {
    return this.unseen.count;
  }

  private forget(): void {
    if (this.unseen.clear()) this.unseenChanged.fire(this.unseen.count);
  }

  private finished(execution: Execution): void {
    const { state, settings, log } = this.deps;
    // Counted whatever the setting: the status bar is quiet, and a 03:00 failure should not wait for the dashboard.
    const lookedAt = this.deps.dashboardVisible() || this.deps.logsOpened(execution.id);
    if (isFailure(execution) && !lookedAt && this.unseen.add(execution)) this.unseenChanged.fire(this.unseen.count);
    const mine = isMine(execution, this.deps.startedHere());
    if (!shouldNotify(execution, settings.notify, mine)) return;
    const locale = displayLanguage();
    const base = finishedSummary(execution, state.cron(execution.cronName)?.estimatedDurationMs, t, locale);
    const attempt = attemptNote(execution, t);
    const summary = attempt ? `${base} (${attempt})` : base;
    log.info(`${execution.status === 'completed' ? '✅' : '❌'} ${summary}`);
    this.notified.fire({ execution, summary });
    // The server's retry plan is not in the API: a failed attempt that will be retried cannot be told from a last one.
    const show = execution.status === 'completed' ? vscode.window.showInformationMessage : execution.status === 'failed' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    const showLogs = t('Show Logs');
    void (this.deps.failureAction?.(execution) ?? Promise.resolve(undefined)).then(async (extra) => {
      const picked = await show(summary, showLogs, ...(extra ? [extra.title] : []));
      if (picked === showLogs) void vscode.commands.executeCommand('cronOps.showLogs', execution.id);
      else if (extra && picked === extra.title) extra.run();
    });
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.notified.dispose();
    this.unseenChanged.dispose();
  }
}

export function registerRunNotifications(context: vscode.ExtensionContext, deps: RunNotificationsDeps): RunNotifications {
  const notifications = new RunNotifications({ ...deps, log: deps.log.child('Notifications') });
  context.subscriptions.push(notifications);
  return notifications;
}
