// The servers this window watches, one connection each (token, API client, event stream, state store with
// its reload loop), and which one is active: the status bar's, the palette's and the dashboard's by default.
// The list follows cronOps.servers and cronOps.serverUrl; the active server is remembered per machine, by its
// origin (the internal id of the cronOps.serverUrl entry names whichever server that setting points to). It only
// changes when the user switches, or falls back to the cronOps.serverUrl server when it leaves the list.
import * as vscode from 'vscode';
import { ApiClient } from './apiClient';
import type { Clock } from './clock';
import { EventStream } from './eventStream';
import type { Connection } from './format';
import { displayLanguage, t } from './l10n';
import type { Logger } from './logger';
import { escapeIcons } from './markdown';
import { defaultServerUrl, findServer, resolveServers, type ServerEntry } from './serverList';
import { redactUrl } from './serverOrigin';
import { chooseServer, innerArg, serverRefOf } from './serverTarget';
import type { Settings } from './settings';
import { CronOpsState } from './state';
import { TokenStore } from './tokenStore';

/** The active server's origin (versions before kept an id here, which a changed cronOps.serverUrl moved). */
const ACTIVE_KEY = 'cronOps.activeServerOrigin';

export interface ServersDeps {
  secrets: vscode.SecretStorage;
  memento: vscode.Memento;
  settings: Settings;
  log: Logger;
  clock: Clock;
}

/** One server: its entry in the settings and everything that talks to it. */
export class ServerConnection implements vscode.Disposable {
  readonly tokens: TokenStore;
  readonly client: ApiClient;
  readonly stream: EventStream;
  readonly state: CronOpsState;

  constructor(
    private current: ServerEntry,
    deps: ServersDeps,
    log: Logger,
  ) {
    const { settings } = deps;
    // The default server's URL is read from cronOps.serverUrl itself, so a change there is seen by whoever asks first.
    const url = () => (this.current.isDefault ? defaultServerUrl(settings.serverUrl) : this.current.url);
    this.tokens = new TokenStore(deps.secrets, url, this.current.isDefault);
    this.client = new ApiClient(url, () => this.tokens.get(), t, undefined, displayLanguage);
    this.stream = new EventStream({ url: () => this.client.eventsUrl(), token: () => this.tokens.get(), log });
    this.state = new CronOpsState(this.client, this.stream, this.tokens, settings, log, deps.clock, {
      clockOwner: `state:${this.current.id}`,
      followsServerUrl: this.current.isDefault,
    });
  }

  get id(): string {
    return this.current.id;
  }

  get name(): string {
    return this.current.name;
  }

  get entry(): ServerEntry {
    return this.current;
  }

  /** The server's URL as messages show it (credentials redacted). */
  get displayUrl(): string {
    return this.client.displayUrl;
  }

  get connection(): Connection {
    return this.state.connection;
  }

  /** A new name (or, for the default server, a new place in the list): nothing to reconnect. */
  rename(entry: ServerEntry): void {
    this.current = entry;
  }

  dispose(): void {
    this.state.dispose();
    this.stream.dispose();
    this.tokens.dispose();
  }
}

export class Servers implements vscode.Disposable {
  private connections: ServerConnection[] = [];
  /** The active server's origin; undefined until the first reconcile. */
  private activeOrigin: string | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  /** The list of servers, a name, or the active server changed. */
  readonly onDidChange = this.changed.event;
  private readonly anyStateChanged = new vscode.EventEmitter<ServerConnection>();
  /** Any server's state changed (crons, KPIs, connection). */
  readonly onDidChangeAnyState = this.anyStateChanged.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly perConnection = new Map<ServerConnection, vscode.Disposable[]>();
  private readonly watchers: Array<(connection: ServerConnection) => vscode.Disposable[]> = [];
  private lastProblems = '';

  constructor(private readonly deps: ServersDeps) {
    this.activeOrigin = deps.memento.get<string>(ACTIVE_KEY);
    this.reconcile();
    this.subscriptions.push(
      deps.settings.onDidChange((names) => {
        if (names.has('servers') || names.has('serverUrl')) this.reconcile();
      }),
    );
  }

  /** Every server, in the settings' order. */
  get all(): readonly ServerConnection[] {
    return this.connections;
  }

  /** Whether several servers are configured (the tree then shows one root per server). */
  get several(): boolean {
    return this.connections.length > 1;
  }

  get active(): ServerConnection {
    return this.connections.find((connection) => connection.entry.origin === this.activeOrigin) ?? this.default;
  }

  /** The cronOps.serverUrl server: always there. */
  get default(): ServerConnection {
    return this.connections.find((connection) => connection.entry.isDefault)!;
  }

  /** The server a reference names (id, name, URL or origin). */
  find(ref: string): ServerConnection | undefined {
    return findServer(
      this.connections.map((connection) => ({ connection, ...connection.entry })),
      ref,
    )?.connection;
  }

  /** Makes a server the active one (status bar, palette, dashboard); remembered for the next window. */
  async setActive(connection: ServerConnection): Promise<void> {
    if (connection === this.active) return;
    this.activeOrigin = connection.entry.origin;
    await this.deps.memento.update(ACTIVE_KEY, this.activeOrigin);
    this.deps.log.info(`[Servers] Active server: ${connection.name} (${connection.displayUrl})`);
    this.changed.fire();
  }

  /**
   * Calls `watch` for every server, now and as servers are added; what it returns is disposed when the server goes.
   * Returns a disposable that stops watching.
   */
  forEach(watch: (connection: ServerConnection) => vscode.Disposable[]): vscode.Disposable {
    this.watchers.push(watch);
    for (const connection of this.connections) this.perConnection.get(connection)!.push(...watch(connection));
    return { dispose: () => this.watchers.splice(this.watchers.indexOf(watch), 1) };
  }

  /**
   * The server a command acts on: the one its argument names (a tree item, `{ server }`), the one that knows
   * the cron or execution named, the active one from the palette; asks when several know it. Undefined: the
   * user dismissed the question, or the argument names no configured server (said in a message).
   */
  async target(arg: unknown, knows?: (connection: ServerConnection) => boolean): Promise<ServerConnection | undefined> {
    const ref = serverRefOf(arg);
    if (ref !== undefined) {
      const found = this.find(ref);
      if (!found) void vscode.window.showErrorMessage(t('No configured Cron Ops server is called {0}: check the cronOps.servers setting.', ref));
      return found;
    }
    const active = this.active;
    const choice = chooseServer(
      this.connections.map((connection) => ({ id: connection.id, active: connection === active, knows: knows?.(connection) ?? false })),
      knows !== undefined,
    );
    if (choice.kind === 'server') return this.connections.find((connection) => connection.id === choice.id);
    return this.pick(t('Which server?'), choice.ids.map((id) => this.connections.find((connection) => connection.id === id)!));
  }

  /** The server of a cron command: named by the argument, the one that runs the cron named, or the active one. */
  forCron(arg: unknown): Promise<ServerConnection | undefined> {
    const inner = innerArg(arg);
    return this.target(arg, typeof inner === 'string' ? (server) => server.state.cron(inner) !== undefined : undefined);
  }

  /** The server of an execution command: named by the argument, the one that knows the execution id, or the active one. */
  forExecution(arg: unknown): Promise<ServerConnection | undefined> {
    const inner = innerArg(arg);
    return this.target(arg, typeof inner === 'string' ? (server) => server.state.knownExecution(inner) !== undefined : undefined);
  }

  /** The server to act on when nothing names one: the only one, or a pick (the active one first). */
  async ask(arg: unknown, placeHolder: string): Promise<ServerConnection | undefined> {
    const ref = serverRefOf(arg);
    if (ref !== undefined) return this.target(arg);
    if (!this.several) return this.active;
    const active = this.active;
    return this.pick(placeHolder, [active, ...this.connections.filter((connection) => connection !== active)]);
  }

  private async pick(placeHolder: string, connections: readonly ServerConnection[]): Promise<ServerConnection | undefined> {
    const active = this.active;
    const picked = await vscode.window.showQuickPick(
      connections.map((connection) => ({
        label: `${connection === active ? '$(star-full) ' : ''}${escapeIcons(connection.name)}`,
        description: connection.displayUrl,
        detail: connectionLabel(connection.state.connection),
        connection,
      })),
      { placeHolder, matchOnDescription: true },
    );
    return picked?.connection;
  }

  /** What the servers-changed event reports on, taken before anything changes (entries are renamed in place). */
  private snapshot(): string {
    return JSON.stringify([this.active?.entry.origin, ...this.connections.map((connection) => [connection.id, connection.name, connection.entry.url])]);
  }

  private reconcile(): void {
    const before = this.connections.length ? this.snapshot() : '';
    const { servers, problems } = resolveServers(this.deps.settings.servers, this.deps.settings.serverUrl);
    const problemText = problems.join(' ');
    if (problemText && problemText !== this.lastProblems) {
      this.deps.log.warn(`[Servers] ${problemText}`);
      void vscode.window.showWarningMessage(t('Cron Ops server settings: {0}', problemText));
    }
    this.lastProblems = problemText;
    const kept: ServerConnection[] = [];
    const fresh: ServerConnection[] = [];
    for (const entry of servers) {
      const existing = this.connections.find((connection) => connection.id === entry.id && (entry.isDefault || connection.entry.url === entry.url));
      if (existing) {
        existing.rename(entry);
        kept.push(existing);
      } else {
        // The log prefix reads the name when it writes, so a rename shows in the next line.
        let created: ServerConnection | undefined;
        const named = this.deps.log.child(() => created?.name ?? entry.name);
        const connection = (created = new ServerConnection(entry, this.deps, entry.isDefault ? this.deps.log : named));
        kept.push(connection);
        fresh.push(connection);
      }
    }
    const gone = this.connections.filter((connection) => !kept.includes(connection));
    this.connections = kept;
    // The active server left the list (or none was chosen yet): the cronOps.serverUrl one, remembered, so the
    // removed server does not come back as the active one when it is listed again.
    if (!kept.some((connection) => connection.entry.origin === this.activeOrigin)) {
      this.activeOrigin = this.default.entry.origin;
      void this.deps.memento.update(ACTIVE_KEY, this.activeOrigin);
    }
    for (const connection of gone) {
      this.deps.log.info(`[Servers] No longer watching ${connection.name} (${connection.displayUrl})`);
      for (const disposable of this.perConnection.get(connection) ?? []) disposable.dispose();
      this.perConnection.delete(connection);
      connection.dispose();
    }
    for (const connection of fresh) {
      const disposables: vscode.Disposable[] = [connection.state.onDidChange(() => this.anyStateChanged.fire(connection))];
      this.perConnection.set(connection, disposables);
      for (const watch of this.watchers) disposables.push(...watch(connection));
      // The first reconcile runs before anyone watches: activation starts the servers itself.
      if (this.watchers.length || this.started) void connection.state.restart();
    }
    if (this.connections.length > 1 || gone.length) this.deps.log.info(`[Servers] Watching ${this.connections.map((connection) => `${connection.name} (${redactUrl(connection.entry.url)})`).join(', ')}`);
    if (before !== this.snapshot() || gone.length) this.changed.fire();
  }

  private started = false;

  /** Connects every server (activation). */
  start(): void {
    this.started = true;
    for (const connection of this.connections) void connection.state.restart();
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    for (const [connection, disposables] of this.perConnection) {
      for (const disposable of disposables) disposable.dispose();
      connection.dispose();
    }
    this.perConnection.clear();
    this.connections = [];
    this.changed.dispose();
    this.anyStateChanged.dispose();
  }
}

/** A server's connection as a word, for the tree's root rows and the server picks. */
export function connectionLabel(connection: Connection): string {
  switch (connection) {
    case 'connected':
      return t('connected');
    case 'signedOut':
      return t('signed out');
    case 'disconnected':
      return t('unreachable');
    case 'connecting':
      return t('connecting…');
  }
}
