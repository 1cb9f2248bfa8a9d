// The single store the views render from: crons, KPIs, recent executions and the connection, fed by the
// API (on start, on reconnect, every refreshIntervalSeconds) and by the event stream in between.
import * as vscode from 'vscode';
import type { Cron, Execution, Role, SkippedTick, Stats } from '../shared/api';
import { coalesce } from '../shared/coalesce';
import type { ExecutionLogEvent } from '../shared/events';
import { ApiError, type ApiClient } from './apiClient';
import type { Clock } from './clock';
import type { EventStream, StreamEvent, StreamStatus } from './eventStream';
import { formatTimeLeft, type Connection } from './format';
import { displayLanguage, t } from './l10n';
import type { Logger } from './logger';
import { errorText, redactUrls } from './serverOrigin';
import type { Settings } from './settings';
import { applyEventsToSnapshot, applyExecution, diffCrons, endedBetween, markStuck, replaceCron, upsertHistory, withoutWaitingRetries } from './stateReducer';
import { TimelineSlice } from './timelineSlice';
import type { TokenStore } from './tokenStore';

/** Per server: each state asks the clock under its own name, and only the default server's follows cronOps.serverUrl. */
export interface StateOptions {
  clockOwner: string;
  followsServerUrl: boolean;
}

type ApiProblem = { kind: 'auth' | 'unreachable' | 'other'; message: string };

export class CronOpsState implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  /** Anything changed: crons, KPIs or the connection. */
  readonly onDidChange = this.changed.event;
  private readonly cronsChanged = new vscode.EventEmitter<readonly string[] | undefined>();
  /** These crons changed (their row or their history); undefined: the list itself changed. */
  readonly onDidChangeCrons = this.cronsChanged.event;
  private readonly started = new vscode.EventEmitter<Execution>();
  readonly onExecutionStarted = this.started.event;
  private readonly finished = new vscode.EventEmitter<Execution>();
  /** A run ended (from its event, or noticed by a reload when the event was missed). */
  readonly onExecutionFinished = this.finished.event;
  private readonly logLines = new vscode.EventEmitter<ExecutionLogEvent>();
  readonly onExecutionLog = this.logLines.event;

  /** The dashboard's timeline, a slice of this state. */
  readonly timeline: TimelineSlice;
  private cronList: readonly Cron[] = [];
  private currentStats: Stats | undefined;
  private hasToken = false;
  private loaded = false;
  private apiProblem: ApiProblem | undefined;
  private streamStatus: StreamStatus = { state: 'stopped' };
  private readonly histories = new Map<string, Execution[]>();
  private readonly historyLoads = new Map<string, Promise<Execution[]>>();
  private readonly skippedTicks = new Map<string, readonly SkippedTick[]>();
  private refreshTimer: NodeJS.Timeout | undefined;
  /** The caller's role: undefined until the session answers; 'unversioned' when the server has no session route. */
  private sessionRole: Role | 'unversioned' | undefined;
  /** Bumped by each restart: a reload begun before it (another token) must not set the role. */
  private generation = 0;
  private disposed = false;
  /** Runs seen running before a reload failed: reconciled (and announced) once the server answers again. */
  private readonly unconfirmed = new Map<string, Execution>();
  /** The executions events brought while a reload is on its way (set during a reload only). */
  private eventsDuringReload: Execution[] | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private lastConnection: Connection | undefined;

  constructor(
    private readonly client: ApiClient,
    private readonly stream: EventStream,
    private readonly tokens: TokenStore,
    private readonly settings: Settings,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly options: StateOptions = { clockOwner: 'state', followsServerUrl: true },
  ) {
    this.disposables.push(
      stream.onEvent((event) => this.onStreamEvent(event)),
      stream.onStatus((status) => this.onStreamStatus(status)),
      tokens.onDidChange(() => void this.restart()),
      settings.onDidChange((names) => {
        if (names.has('serverUrl') && options.followsServerUrl) void this.restart();
        if (names.has('refreshIntervalSeconds')) this.scheduleRefresh();
        if (names.has('historyLimit')) {
          this.histories.clear();
          this.skippedTicks.clear();
          this.cronsChanged.fire(this.cronList.map((cron) => cron.name));
        }
      }),
    );
    this.timeline = new TimelineSlice(client, settings, log);
    this.disposables.push(this.timeline, clock.onTick((now) => this.tick(now)));
  }

  /** The caller's role as the server reports it; undefined until known, or when the server predates the session route. */
  get role(): Role | undefined {
    return this.sessionRole === 'unversioned' ? undefined : this.sessionRole;
  }

  /**
   * Whether to offer trigger, cancel, mark-failed and pause: every role but viewer once the session answered.
   * Until then none (a viewer would be offered them); a server without the session route decides itself.
   */
  get canAct(): boolean {
    return this.sessionRole !== undefined && this.sessionRole !== 'viewer';
  }

  get crons(): readonly Cron[] {
    return this.cronList;
  }

  get stats(): Stats | undefined {
    return this.currentStats;
  }

  get signedIn(): boolean {
    return this.hasToken;
  }

  /** True once a reload has succeeded since the last sign-in or URL change. */
  get isLoaded(): boolean {
    return this.loaded;
  }

  get connection(): Connection {
    if (!this.hasToken) return 'signedOut';
    if (this.apiProblem?.kind === 'auth') return 'signedOut';
    if (this.streamStatus.state === 'waiting' && this.streamStatus.httpStatus === 401) return 'signedOut';
    if (this.apiProblem?.kind === 'unreachable') return 'disconnected';
    switch (this.streamStatus.state) {
      case 'open':
        return 'connected';
      case 'waiting':
        return 'disconnected';
      case 'connecting':
      case 'stopped':
        return 'connecting';
    }
  }

  /** What is wrong, as a sentence with the next step; undefined when all is well. */
  get lastError(): string | undefined {
    if (this.apiProblem) return this.apiProblem.message;
    if (this.streamStatus.state === 'waiting') {
      if (this.streamStatus.httpStatus === 401) return t('The server refused your token. Run "Cron Ops: Sign In" with a valid token.');
      return t('Live updates from {0} are interrupted ({1}); reconnecting in {2}.', this.client.displayUrl, redactUrls(this.streamStatus.error), formatTimeLeft(this.streamStatus.retryInMs, displayLanguage()));
    }
    return undefined;
  }

  cron(name: string): Cron | undefined {
    return this.cronList.find((cron) => cron.name === name);
  }

  /** The recent executions of a cron if loaded (newest first). */
  historyFor(name: string): readonly Execution[] | undefined {
    return this.histories.get(name);
  }

  /** Loads a cron's recent executions once; events keep them current afterwards. */
  loadHistory(name: string): Promise<Execution[]> {
    const cached = this.histories.get(name);
    if (cached) return Promise.resolve(cached);
    let load = this.historyLoads.get(name);
    if (!load) {
      load = this.client
        .executions({ cronName: name, limit: this.settings.historyLimit })
        .then((reply) => {
          this.histories.set(name, reply.executions);
          return reply.executions;
        })
        .finally(() => this.historyLoads.delete(name));
      this.historyLoads.set(name, load);
    }
    return load;
  }

  /** How many runs a cron's history holds (the setting). */
  get historyLimit(): number {
    return this.settings.historyLimit;
  }

  /** A cron's recent skipped ticks if loaded (newest first). */
  skippedFor(name: string): readonly SkippedTick[] | undefined {
    return this.skippedTicks.get(name);
  }

  /**
   * Loads a cron's recent skipped ticks; reloaded when its count of the last 24 h changes. A server that
   * does not record them (older, or the route refused) gives none rather than hiding the runs.
   */
  async loadSkipped(name: string): Promise<readonly SkippedTick[]> {
    const cached = this.skippedTicks.get(name);
    if (cached) return cached;
    const ticks = await this.client.skippedTicks(name, this.settings.historyLimit).then(
      (reply) => reply.skippedTicks,
      (error: unknown) => {
        this.log.debug(`[State] No skipped ticks of ${name}: ${errorText(error)}`);
        return [];
      },
    );
    this.skippedTicks.set(name, ticks);
    return ticks;
  }

  /** An execution this window knows of (running, last, or in a loaded history). */
  knownExecution(id: string): Execution | undefined {
    for (const cron of this.cronList) {
      if (cron.runningExecution?.id === id) return cron.runningExecution;
      if (cron.lastExecution?.id === id) return cron.lastExecution;
    }
    for (const history of this.histories.values()) {
      const found = history.find((execution) => execution.id === id);
      if (found) return found;
    }
    return undefined;
  }

  /** Starts (or restarts after sign-in or a URL change): reload now and reconnect the stream. */
  async restart(): Promise<void> {
    this.loaded = false;
    this.apiProblem = undefined;
    this.histories.clear();
    this.skippedTicks.clear();
    this.sessionRole = undefined;
    this.generation++;
    this.hasToken = (await this.tokens.get()) !== undefined;
    // Removed from the list while the token was read (a quick add-and-remove of a server): nothing to start.
    if (this.disposed) return;
    // The previous token's role no longer holds: menus and lenses drop their actions until the session answers.
    this.emit(undefined);
    this.stream.start({ resetLastEventId: true });
    this.scheduleRefresh();
    await this.refresh();
  }

  /** Reloads crons and KPIs from the API; concurrent calls share one reload (and one more if asked meanwhile). */
  readonly refresh: () => Promise<void> = coalesce(() => this.reload());

  /** Applies a reply that carries an execution (cancel, mark-failed) without waiting for its event. */
  applyExecution(execution: Execution): void {
    this.onExecution(execution);
  }

  /** Applies a pause or resume reply. */
  applyCron(cron: Cron): void {
    const before = this.cronList;
    this.cronList = replaceCron(before, cron);
    if (this.cronList !== before) this.emit([cron.name]);
  }

  private async reload(): Promise<void> {
    const token = await this.tokens.get();
    this.hasToken = token !== undefined;
    if (!token) {
      this.apiProblem = undefined;
      this.sessionRole = undefined;
      this.unconfirmed.clear();
      this.setCrons([]);
      this.currentStats = undefined;
      this.histories.clear();
      this.skippedTicks.clear();
      this.emit(undefined);
      return;
    }
    const generation = this.generation;
    const eventsMeanwhile: Execution[] = [];
    this.eventsDuringReload = eventsMeanwhile;
    try {
      const [crons, stats, session] = await Promise.all([
        this.client.crons(),
        this.client.stats(),
        // A failing session read keeps the role known so far; the crons' reply says what is wrong.
        this.client.session().then(
          (reply): { role: Role | 'unversioned' | undefined } => ({ role: reply?.role ?? 'unversioned' }),
          () => ({ role: this.sessionRole }),
        ),
      ]);
      // A restart meanwhile (another token): this answer may be the previous token's; the next reload says.
      if (generation === this.generation) this.sessionRole = session.role;
      const wasProblem = this.apiProblem;
      this.apiProblem = undefined;
      this.loaded = true;
      this.currentStats = stats;
      const before = this.cronList;
      const current = markStuck(applyEventsToSnapshot(crons.crons, eventsMeanwhile), this.clock.now()).crons;
      this.forgetSkippedThatMoved(before, current);
      this.forgetDroppedRetries(current);
      this.setCrons(current);
      for (const execution of endedBetween(before, this.cronList)) this.announceFinished(execution);
      await this.reconcileUnconfirmed();
      if (wasProblem) this.log.info(`[State] Connected to ${this.client.displayUrl} again`);
      // The API answers while the stream waits on a refused token or a dead server: try the stream now.
      if (this.streamStatus.state === 'waiting' || this.streamStatus.state === 'stopped') this.stream.start();
    } catch (error) {
      const problem = classify(error);
      if (problem.message !== this.apiProblem?.message) this.log.warn(`[State] Reload failed: ${problem.message}`);
      this.apiProblem = problem;
      if (problem.kind !== 'other') {
        // Stale rows would pass for live ones: the welcome view says what is wrong and what to do instead.
        for (const cron of this.cronList) if (cron.runningExecution) this.unconfirmed.set(cron.runningExecution.id, cron.runningExecution);
        this.setCrons([]);
        this.currentStats = undefined;
        this.histories.clear();
        this.skippedTicks.clear();
      }
    } finally {
      this.eventsDuringReload = undefined;
    }
    this.emit(undefined);
  }

  /** The histories of crons with no retry waiting no longer show one (the server dropped it). */
  private forgetDroppedRetries(crons: readonly Cron[]): void {
    for (const cron of crons) {
      const history = this.histories.get(cron.name);
      if (history && !cron.pendingRetry) this.histories.set(cron.name, withoutWaitingRetries(history));
    }
  }

  /** A cron whose skipped ticks of the last 24 h changed has new ones to show (the count is the reload's). */
  private forgetSkippedThatMoved(before: readonly Cron[], after: readonly Cron[]): void {
    for (const cron of after) {
      if (before.find((old) => old.name === cron.name)?.skippedTicks24h !== cron.skippedTicks24h) this.skippedTicks.delete(cron.name);
    }
  }

  private setCrons(crons: readonly Cron[]): void {
    const diff = diffCrons(this.cronList, crons);
    this.cronList = crons;
    if (diff.structural) this.cronsChanged.fire(undefined);
    else if (diff.changed.length) this.cronsChanged.fire(diff.changed);
  }

  private emit(cronNames: readonly string[] | undefined): void {
    this.clock.need(this.options.clockOwner, this.cronList.some((cron) => cron.runningExecution));
    if (cronNames !== undefined && cronNames.length) this.cronsChanged.fire(cronNames);
    const connection = this.connection;
    if (connection !== this.lastConnection) {
      this.log.info(`[State] Connection: ${connection}${this.lastError ? ` (${this.lastError})` : ''}`);
      this.lastConnection = connection;
    }
    this.timeline.stateChanged(connection, this.cronList, this.currentStats);
    this.changed.fire();
  }

  private onExecution(execution: Execution): void {
    this.eventsDuringReload?.push(execution);
    const result = applyExecution(this.cronList, execution);
    if (!result.known) {
      void this.refresh();
      return;
    }
    this.cronList = result.crons;
    const history = this.histories.get(execution.cronName);
    if (history) this.histories.set(execution.cronName, upsertHistory(history, execution, this.settings.historyLimit));
    this.emit([execution.cronName]);
  }

  private onStreamEvent(event: StreamEvent): void {
    switch (event.name) {
      case 'execution.started':
        this.onExecution(event.data.execution);
        this.started.fire(event.data.execution);
        return;
      case 'execution.finished':
        this.onExecution(event.data.execution);
        if (event.data.execution.status !== 'running') this.announceFinished(event.data.execution);
        return;
      case 'execution.log':
        this.logLines.fire(event.data);
        return;
      case 'stats':
        this.currentStats = event.data;
        this.emit(undefined);
        return;
      case 'crons.changed':
      case 'resync':
        if (event.name === 'resync') {
          this.histories.clear();
          this.skippedTicks.clear();
        }
        void this.refresh();
        return;
    }
  }

  /** Ids already announced as finished, so a replayed event or a reload does not notify twice. */
  private readonly knownFinished = new Set<string>();

  private announceFinished(execution: Execution): void {
    if (this.knownFinished.has(execution.id)) return;
    this.knownFinished.add(execution.id);
    this.finished.fire(execution);
  }

  private onStreamStatus(status: StreamStatus): void {
    const wasOpen = this.streamStatus.state === 'open';
    this.streamStatus = status;
    // A (re)connection may have missed events beyond what Last-Event-ID replays: reload to be sure. A dropped
    // stream is checked at once too, so that a stopped server shows as such rather than as runs still ticking.
    const dropped = status.state === 'waiting' && status.httpStatus !== 401 && (wasOpen || this.apiProblem?.kind !== 'unreachable');
    if ((status.state === 'open' && !wasOpen) || dropped) void this.refresh();
    else this.emit(undefined);
  }

  private scheduleRefresh(): void {
    clearInterval(this.refreshTimer);
    this.refreshTimer = setInterval(() => void this.refresh(), this.settings.refreshIntervalSeconds * 1000);
  }

  /** Runs that were running when the server stopped answering: once it answers, each one's end is applied and announced. */
  private async reconcileUnconfirmed(): Promise<void> {
    for (const [id, before] of [...this.unconfirmed]) {
      const cron = this.cron(before.cronName);
      if (cron?.runningExecution?.id === id) {
        this.unconfirmed.delete(id);
        continue;
      }
      try {
        const ended = cron?.lastExecution?.id === id ? cron.lastExecution : await this.client.execution(id);
        this.unconfirmed.delete(id);
        if (ended.status === 'running') continue;
        this.log.info(`[State] ${ended.cronName} ${id} ended while the server was away: ${ended.status}${ended.errorMessage ? ` (${ended.errorMessage})` : ''}`);
        this.onExecution(ended);
        this.announceFinished(ended);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) this.unconfirmed.delete(id);
      }
    }
  }

  /** Flags runs that outlived their timeout; the clock ticks while something runs. */
  private tick(now: number): void {
    const stuck = markStuck(this.cronList, now);
    this.cronList = stuck.crons;
    if (stuck.changed.length) this.emit(stuck.changed);
    if (this.knownFinished.size > 1000) this.knownFinished.clear();
  }

  dispose(): void {
    this.disposed = true;
    clearInterval(this.refreshTimer);
    this.clock.need(this.options.clockOwner, false);
    for (const disposable of this.disposables) disposable.dispose();
    for (const emitter of [this.changed, this.cronsChanged, this.started, this.finished, this.logLines]) emitter.dispose();
  }
}

function classify(error: unknown): ApiProblem {
  if (error instanceof ApiError) {
    if (error.isAuthFailure) return { kind: 'auth', message: error.message };
    if (error.isUnreachable) return { kind: 'unreachable', message: error.message };
    return { kind: 'other', message: error.message };
  }
  return { kind: 'other', message: errorText(error) };
}
