// Show Logs: tails an execution's lines into an output channel until it ends, then says how it ended.
// Lines come from GET …/logs?after=SEQ, polled with backoff (300 ms growing to 2 s while nothing arrives)
// and woken at once by the run's execution.finished event; one SSE connection serves the whole window.
import * as vscode from 'vscode';
import type { Execution, LogLine } from '../shared/api';
import { ApiError, type ApiClient } from './apiClient';
import { showFailure } from './errorNotifications';
import { formatDateTime, formatTime } from '../shared/format';
import { runDurationMs } from '../shared/timing';
import { formatDuration, formatLogLine, statusLabel } from './format';
import { displayLanguage, t } from './l10n';
import type { Logger } from './logger';
import { resolveExecution } from './pickers';
import type { ServerConnection, Servers } from './servers';
import { innerArg } from './serverTarget';
import { errorText } from './serverOrigin';

const PAGE = 1000;
const FIRST_DELAY_MS = 300;
const MAX_DELAY_MS = 2000;
const MAX_OUTAGE_DELAY_MS = 10_000;
/** Output channels kept for past executions; older ones are disposed. */
const MAX_CHANNELS = 5;

export class LogTail implements vscode.Disposable {
  private readonly appended = new vscode.EventEmitter<string>();
  /** Every line written to the channel (header, log lines, how the run ended). */
  readonly onDidAppend = this.appended.event;
  private readonly received = new vscode.EventEmitter<LogLine>();
  /** Every log line received from the server, in order. */
  readonly onDidReceive = this.received.event;
  private stopped = false;
  private wake: (() => void) | undefined;
  private ended: Execution | undefined;
  private run: Promise<Execution | undefined> | undefined;

  constructor(
    readonly executionId: string,
    private readonly channel: vscode.OutputChannel,
    private readonly client: ApiClient,
    private readonly log: Logger,
    private readonly header: Execution,
  ) {}

  /** Writes the header and tails the lines until the run ends (once; later calls share it). */
  start(): Promise<Execution | undefined> {
    if (!this.run) {
      const { header } = this;
      this.append(t('── {0} · execution {1} · started {2} · {3}{4} ──', header.cronName, header.id, formatDateTime(Date.parse(header.startedAt), displayLanguage()), header.triggerType, header.triggeredBy ? ` (${header.triggeredBy})` : ''));
      this.run = this.tail();
    }
    return this.run;
  }

  /** Resolves with the execution once it has ended and every line has been written. */
  get finished(): Promise<Execution | undefined> {
    return this.start();
  }

  get isLive(): boolean {
    return !this.stopped && this.ended === undefined;
  }

  show(): void {
    this.channel.show(true);
  }

  /** The run ended (event): fetch what is left now rather than after the current delay. */
  poke(): void {
    this.wake?.();
  }

  private append(line: string): void {
    this.channel.appendLine(line);
    this.appended.fire(line);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async tail(): Promise<Execution | undefined> {
    let after = 0;
    let delay = FIRST_DELAY_MS;
    let outage = false;
    while (!this.stopped) {
      try {
        const reply = await this.client.logs(this.executionId, after, PAGE);
        if (outage) this.append(t('… connection back, resuming.'));
        outage = false;
        for (const line of reply.lines) {
          this.received.fire(line);
          this.append(formatLogLine(line));
        }
        if (reply.lines.length) after = reply.lines[reply.lines.length - 1].seq;
        if (reply.done) break;
        if (reply.lines.length === PAGE) continue;
        delay = reply.lines.length ? FIRST_DELAY_MS : Math.min(MAX_DELAY_MS, Math.round(delay * 1.5));
      } catch (error) {
        if (error instanceof ApiError && error.isUnreachable) {
          if (!outage) this.append(t('… {0} Retrying.', error.message));
          outage = true;
          delay = Math.min(MAX_OUTAGE_DELAY_MS, delay * 2);
        } else if (error instanceof ApiError && error.isAuthFailure && !(await this.client.hasToken())) {
          // The user signed out: the token was not refused, there was none to send.
          this.append(t('… stopped: you signed out of Cron Ops. Run "Cron Ops: Sign In", then Show Logs to follow this run again.'));
          this.log.info(`Log tail of ${this.executionId} stopped: signed out`);
          this.stopped = true;
          return undefined;
        } else {
          this.append(t('… stopped: {0}', errorText(error)));
          this.log.warn(`Log tail of ${this.executionId} stopped`, error);
          this.stopped = true;
          return undefined;
        }
      }
      await this.sleep(delay);
    }
    if (this.stopped) return undefined;
    try {
      const execution = await this.client.execution(this.executionId);
      this.ended = execution;
      if (execution.logLinesDropped > 0) this.append(t('… {0} lines were dropped: the per-execution log cap was reached.', execution.logLinesDropped));
      const ms = runDurationMs(execution, Date.now());
      const duration = ms !== undefined ? formatDuration(ms, displayLanguage()) : '–';
      const exit = execution.exitCode !== null ? t(', exit code {0}', execution.exitCode) : '';
      const why = execution.errorMessage ? `: ${execution.errorMessage}` : '';
      this.append(t('── {0} {1} in {2}{3}{4} ──', execution.cronName, statusLabel(execution.status, t), duration, exit, why));
      return execution;
    } catch (error) {
      this.append(t('── ended ({0}) ──', errorText(error)));
      return undefined;
    }
  }

  dispose(): void {
    this.stopped = true;
    this.wake?.();
    this.channel.dispose();
    this.appended.dispose();
    this.received.dispose();
  }
}

export class LogTails implements vscode.Disposable {
  private readonly tails = new Map<string, LogTail>();
  private readonly subscription: vscode.Disposable;
  private readonly opened = new vscode.EventEmitter<LogTail>();
  /** A tail was opened, before it writes anything. */
  readonly onDidOpen = this.opened.event;

  constructor(
    private readonly servers: Servers,
    private readonly log: Logger,
  ) {
    this.subscription = servers.forEach((server) => [server.state.onExecutionFinished((execution) => this.tails.get(execution.id)?.poke())]);
  }

  /** The tail of an execution if one was opened in this window. */
  get(executionId: string): LogTail | undefined {
    return this.tails.get(executionId);
  }

  /** Opens (or brings back) the logs of an execution (of `server`, else of the server that knows it, else the active one); an ended one is read again in full. */
  async open(executionId: string, preserveFocus = true, server?: ServerConnection): Promise<LogTail> {
    const existing = this.tails.get(executionId);
    if (existing?.isLive) {
      existing.show();
      return existing;
    }
    existing?.dispose();
    this.tails.delete(executionId);
    const { state, client } = server ?? this.servers.all.find((candidate) => candidate.state.knownExecution(executionId)) ?? this.servers.active;
    const execution = state.knownExecution(executionId) ?? (await client.execution(executionId));
    const time = formatTime(Date.parse(execution.startedAt), displayLanguage());
    const name = this.servers.several && server ? t('Cron Ops: {0} {1} on {2}', execution.cronName, time, server.name) : t('Cron Ops: {0} {1}', execution.cronName, time);
    const channel = vscode.window.createOutputChannel(name, 'log');
    const tail = new LogTail(executionId, channel, client, this.log, execution);
    this.tails.set(executionId, tail);
    this.opened.fire(tail);
    void tail.start();
    channel.show(preserveFocus);
    this.prune();
    return tail;
  }

  private prune(): void {
    const ended = [...this.tails.values()].filter((tail) => !tail.isLive);
    while (this.tails.size > MAX_CHANNELS && ended.length) {
      const oldest = ended.shift()!;
      oldest.dispose();
      this.tails.delete(oldest.executionId);
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.opened.dispose();
    for (const tail of this.tails.values()) tail.dispose();
    this.tails.clear();
  }
}

/** Show Logs: from an execution id (dashboard), a tree node, or a pick among recent executions. */
export function registerLogTails(context: vscode.ExtensionContext, deps: { servers: Servers; log: Logger }): LogTails {
  const log = deps.log.child('Logs');
  const tails = new LogTails(deps.servers, log);
  context.subscriptions.push(
    tails,
    vscode.commands.registerCommand('cronOps.showLogs', async (arg?: unknown) => {
      try {
        const server = await deps.servers.forExecution(arg);
        if (!server) return undefined;
        const execution = await resolveExecution(innerArg(arg), server.state, server.client, {
          candidates: async () => (await server.client.executions({ limit: 50 })).executions,
          placeHolder: t('Show the logs of which execution?'),
          empty: t('No execution to show yet: trigger a cron first.'),
        });
        if (!execution) return undefined;
        log.info(`Showing logs of ${execution.cronName} ${execution.id}`);
        return await tails.open(execution.id, false, server);
      } catch (error) {
        showFailure(error, log, 'Show Logs');
        return undefined;
      }
    }),
  );
  return tails;
}
