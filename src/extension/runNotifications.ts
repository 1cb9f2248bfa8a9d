// How a finished run reaches the user: a notification under cronOps.notify (with Show Logs, Compare with Last
// Successful Run where it applies and, for a retry, its attempt; a failed attempt the server will retry says
// when, and the last one how many attempts were made), and the count of failures not looked at yet
// that the status bar shows until the dashboard or that run's logs are opened. Every configured server's runs count, each notification naming its server when
// there are several.
import * as vscode from 'vscode';
import type { Execution } from '../shared/api';
import { finishedNotice, finishedSummary } from './format';
import { displayLanguage, t } from './l10n';
import type { Logger } from './logger';
import { isFinalFailure, isMine, shouldNotify, UnseenFailures } from './notifyPolicy';
import type { ServerConnection, Servers } from './servers';
import type { ServerScopedArg } from './serverTarget';
import type { Settings } from './settings';

export interface RunNotificationsDeps {
  servers: Servers;
  settings: Settings;
  log: Logger;
  /** The runs triggered from this window. */
  startedHere: () => ReadonlySet<string>;
  /** The server the dashboard shows while it is on screen (its failures arriving then are looked at). */
  dashboardShowing: () => ServerConnection | undefined;
  /** The dashboard came on screen, showing this server: its failures count as looked at. */
  onDashboardShown: vscode.Event<ServerConnection>;
  onLogsOpened: vscode.Event<{ executionId: string }>;
  /** Whether this run's logs were opened in this window (followed as it ran: its end was seen). */
  logsOpened: (executionId: string) => boolean;
  /** One more action on a failure's notification where it applies (Compare with Last Successful Run). */
  failureAction?: (execution: Execution, server: ServerConnection) => Promise<{ title: string; run: () => void } | undefined>;
}

export class RunNotifications implements vscode.Disposable {
  /** Per server id: a server signed out of (or removed) takes its own unseen failures with it. */
  private readonly unseen = new Map<string, UnseenFailures>();
  private readonly notified = new vscode.EventEmitter<{ execution: Execution; summary: string; server: string }>();
  /** Fires with the notification's text each time a finished run is announced. */
  readonly onDidNotify = this.notified.event;
  private readonly unseenChanged = new vscode.EventEmitter<number>();
  /** Fires with the new count of unseen failures. */
  readonly onDidChangeUnseen = this.unseenChanged.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly deps: RunNotificationsDeps) {
    const { servers } = deps;
    this.subscriptions = [
      servers.forEach((server) => [
        server.state.onExecutionFinished((execution) => this.finished(server, execution)),
        // Failures of a server no longer watched (signed out, another URL) are not this window's to count.
        server.state.onDidChange(() => server.state.connection === 'signedOut' && this.forget(server.id)),
        { dispose: () => this.forget(server.id) },
      ]),
      deps.onDashboardShown((server) => this.forget(server.id)),
      deps.onLogsOpened(({ executionId }) => [...this.unseen.values()].some((unseen) => unseen.seen(executionId)) && this.unseenChanged.fire(this.unseenCount)),
      deps.settings.onDidChange((names) => {
        if (names.has('notify')) deps.log.info(`Notifications: ${deps.settings.notify}`);
        if (names.has('serverUrl')) this.forget(servers.default.id);
      }),
    ];
  }

  /** Failures announced or received since the dashboard or their logs were last looked at, on every server. */
  get unseenCount(): number {
    let count = 0;
    for (const unseen of this.unseen.values()) count += unseen.count;
    return count;
  }

  unseenOn(serverId: string): number {
    return this.unseen.get(serverId)?.count ?? 0;
  }

  private forget(serverId: string): void {
    if (this.unseen.get(serverId)?.clear()) this.unseenChanged.fire(this.unseenCount);
  }

  private finished(server: ServerConnection, execution: Execution): void {
    const { settings, log, servers } = this.deps;
    const { state } = server;
    // Counted whatever the setting: the status bar is quiet, and a 03:00 failure should not wait for the dashboard.
    const lookedAt = this.deps.dashboardShowing() === server || this.deps.logsOpened(execution.id);
    let unseen = this.unseen.get(server.id);
    if (!unseen) this.unseen.set(server.id, (unseen = new UnseenFailures()));
    if (isFinalFailure(execution) && !lookedAt && unseen.add(execution)) this.unseenChanged.fire(this.unseenCount);
    const mine = isMine(execution, this.deps.startedHere());
    if (!shouldNotify(execution, settings.notify, mine)) return;
    const locale = displayLanguage();
    const own = finishedNotice(execution, finishedSummary(execution, state.cron(execution.cronName)?.estimatedDurationMs, t, locale), t, locale);
    const summary = servers.several ? t('{0}: {1}', server.name, own) : own;
    log.info(`${execution.status === 'completed' ? '✅' : '❌'} ${summary}`);
    this.notified.fire({ execution, summary, server: server.name });
    // A failed attempt the server will retry is a warning: the run is not over. The last one is an error.
    const show = execution.status === 'completed' ? vscode.window.showInformationMessage : execution.status === 'failed' && !execution.retry ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    const showLogs = t('Show Logs');
    void (this.deps.failureAction?.(execution, server) ?? Promise.resolve(undefined)).then(async (extra) => {
      const picked = await show(summary, showLogs, ...(extra ? [extra.title] : []));
      if (picked === showLogs) void vscode.commands.executeCommand('cronOps.showLogs', { server: server.id, executionId: execution.id } satisfies ServerScopedArg);
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
