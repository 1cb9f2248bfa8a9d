// Reloads the cron definitions file while the server runs: when the file changes (a watch on its folder, so an
// editor that writes a new file and renames it over the old one is seen, as is a symlink swap; and a poll of
// the path, so a folder replaced as a whole or a symlink's target edited in another folder is seen too) and on
// SIGHUP.
// A valid file takes effect at once (crons added, changed, removed; runs in progress keep the definition they
// started with); an invalid one changes nothing and every problem is reported: log, /health, the event stream.
// Each reload is audited.
import { createHash } from 'node:crypto';
import { statSync, unwatchFile, watch, watchFile, type FSWatcher, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { DefinitionProblem, DefinitionsReloadedEvent } from '../shared/events';
import { ConfigError, parseConfig, type CronDefinition, type ServerConfig } from './config';
import type { EventBus } from './eventBus';
import { errorText, type Logger } from './logger';
import type { AuditStore } from './store/auditStore';

/** Who asked for the reload, as the audit trail names it. */
export type ReloadTrigger = 'file watch' | 'SIGHUP';

export interface CronChanges {
  added: string[];
  removed: string[];
  /** Changed crons with the fields that differ. */
  changed: Array<{ name: string; fields: string[] }>;
}

/** What /health tells about the definitions file. */
export interface DefinitionsStatus {
  path: string;
  valid: boolean;
  /** When the definitions in effect were loaded (the start or the last valid reload). */
  loadedAt: string;
  /** The problems of the file as last read; empty when it is valid. */
  problems: DefinitionProblem[];
}

export type ReloadOutcome =
  | { kind: 'applied'; changes: CronChanges; restartNeeded: string[] }
  | { kind: 'invalid'; problems: DefinitionProblem[] }
  /** The watch fired but the file holds what was read last time (an editor touching it, a save without change). */
  | { kind: 'unchanged' };

/** A save that keeps the folder busy still takes effect this long after its first event. */
const MAX_WAIT_MS = 1_000;

/**
 * How often the path is stat'ed beside the folder watch. The folder watch is fast but follows an inode: a folder
 * removed and created again, or a symlink whose target lives in another folder, escapes it. A stat of the path
 * follows the path (and symlinks) whatever happens; it is one system call a second.
 */
const POLL_INTERVAL_MS = 1_000;

/** Settings read once at start: a change is reported and takes effect at the next start. */
const START_ONLY_SETTINGS = [
  'rateLimits',
  'retentionDays',
  'port',
  'host',
  'maxLogLinesPerExecution',
  'maxLogLineBytes',
  'maxLogBytesPerExecution',
  'killGraceMs',
  'maxStreamsPerToken',
  'maxConnections',
  'allowedHosts',
  'auditRetentionDays',
] as const;

export function diffCrons(before: CronDefinition[], after: CronDefinition[]): CronChanges {
  const old = new Map(before.map((cron) => [cron.name, cron]));
  const next = new Map(after.map((cron) => [cron.name, cron]));
  const changed: CronChanges['changed'] = [];
  for (const [name, cron] of next) {
    const previous = old.get(name);
    if (!previous) continue;
    const keys = new Set([...Object.keys(previous), ...Object.keys(cron)] as Array<keyof CronDefinition>);
    // scheduleText follows schedule: naming it would say the same change twice.
    const fields = [...keys].filter((key) => key !== 'scheduleText' && JSON.stringify(previous[key]) !== JSON.stringify(cron[key]));
    if (fields.length > 0) changed.push({ name, fields });
  }
  return {
    added: [...next.keys()].filter((name) => !old.has(name)),
    removed: [...old.keys()].filter((name) => !next.has(name)),
    changed,
  };
}

/** The settings outside `crons` (and per-cron `retries`, applied live) that differ: they need a restart. */
export function startOnlyChanges(before: ServerConfig, after: ServerConfig): string[] {
  const changed: string[] = START_ONLY_SETTINGS.filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
  // Destinations hold their senders (connections, secrets read at start); rules name them.
  if (JSON.stringify(before.alerting.alerts) !== JSON.stringify(after.alerting.alerts)) changed.push('alerts');
  return changed;
}

/** The crons whose retry policy a reload adds, removes or changes, by name. */
export function retriesChangedFor(before: ReadonlyMap<string, unknown>, after: ReadonlyMap<string, unknown>): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((name) => JSON.stringify(before.get(name)) !== JSON.stringify(after.get(name))).sort();
}

function describeChanges(changes: CronChanges): string {
  const parts = [
    changes.added.length > 0 ? `added ${changes.added.join(', ')}` : '',
    changes.removed.length > 0 ? `removed ${changes.removed.join(', ')}` : '',
    changes.changed.length > 0 ? `changed ${changes.changed.map((change) => `${change.name} (${change.fields.join(', ')})`).join(', ')}` : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join('; ') : 'no cron changed';
}

/** "FILE:LINE:COL: FIELD: message", as compilers print it, so a terminal makes it a link. */
export function problemLine(path: string, problem: DefinitionProblem): string {
  const where = problem.line !== undefined ? `${path}:${problem.line}:${problem.column ?? 1}` : path;
  return `${where}: ${problem.field ? `${problem.field}: ` : ''}${problem.message}`;
}

export interface DefinitionsReloaderDeps {
  /** The configuration in effect: its `crons` (and per-cron retries) are replaced by a valid reload. */
  config: ServerConfig;
  /** Puts new definitions in effect (CronService.replaceCrons). */
  apply(crons: CronDefinition[]): void;
  audit: AuditStore;
  events: EventBus;
  log: Logger;
  /** Quiet time after the last change seen before reading: an editor's save is several file events. */
  debounceMs?: number;
}

export class DefinitionsReloader {
  private loadedAt = new Date();
  private problems: DefinitionProblem[] = [];
  /** Hash of the text last read, so a watch event on an unchanged file does nothing. */
  private lastDigest: string | undefined;
  private watcher: FSWatcher | undefined;
  /** The folder the watcher follows (device and inode), to notice it was replaced under the same path. */
  private watchedFolder: string | undefined;
  /** A retry of the folder watch after it stopped or could not start (the folder gone for a moment). */
  private rearm: NodeJS.Timeout | undefined;
  /** The folder watch stopped and that was logged: said once until it works again. */
  private watchBroken = false;
  private polling = false;
  private debounce: NodeJS.Timeout | undefined;
  private firstEventAt: number | undefined;
  /** Reloads run one after the other: a SIGHUP during a watch reload waits for it. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly deps: DefinitionsReloaderDeps) {}

  get path(): string {
    return this.deps.config.path;
  }

  status(): DefinitionsStatus {
    return { path: this.path, valid: this.problems.length === 0, loadedAt: this.loadedAt.toISOString(), problems: this.problems };
  }

  /**
   * Watches the file's folder (not the file: an editor's rename would leave a watch on the old inode), and polls
   * the path's stat. Both only say "read it again": the content comparison in reload() keeps one save from being
   * applied twice.
   */
  watch(): void {
    if (this.polling || this.closed) return;
    this.polling = true;
    watchFile(this.path, { persistent: false, interval: POLL_INTERVAL_MS }, this.polled);
    this.watchFolder();
  }

  /** The path's stat changed (content, inode, target of a symlink, the file gone or back). */
  private readonly polled = (current: Stats): void => {
    if (this.closed) return;
    void this.checkFolder().catch((error) => this.deps.log.error('[Definitions] Checking the watched folder failed', { error: errorText(error) }));
    // A file missing for a moment (the poll reports inode 0) is read once it is back: now there is nothing to read.
    if (current.ino !== 0) this.changed();
  };

  private folderIdentity(info: { dev: number; ino: number }): string {
    return `${info.dev}:${info.ino}`;
  }

  private watchFolder(): void {
    if (this.closed || this.watcher) return;
    const folder = dirname(this.path);
    try {
      const identity = this.folderIdentity(statSync(folder));
      const name = basename(this.path);
      // The file itself, or a Kubernetes ConfigMap's "..data" symlink swapped under it; no name: cannot tell.
      const watcher = watch(folder, { persistent: false }, (_event, filename) => {
        if (!filename || filename === name || filename.startsWith('..')) this.changed();
      });
      watcher.on('error', (error) => {
        if (this.watcher !== watcher) return;
        watcher.close();
        this.watcher = undefined;
        this.broken(`stopped (${errorText(error)})`);
        this.retryFolderWatch();
      });
      this.watcher = watcher;
      this.watchedFolder = identity;
      if (this.watchBroken) this.deps.log.info(`[Definitions] Watching the folder of ${this.path} again`);
      this.watchBroken = false;
    } catch (error) {
      this.broken(`cannot be watched (${errorText(error)})`);
      this.retryFolderWatch();
    }
  }

  private retryFolderWatch(): void {
    if (this.closed || this.rearm) return;
    this.rearm = setTimeout(() => {
      this.rearm = undefined;
      this.watchFolder();
    }, POLL_INTERVAL_MS);
    this.rearm.unref();
  }

  /** Logged once per breakdown: a folder gone for a minute must not fill the log. */
  private broken(what: string): void {
    if (this.watchBroken) return;
    this.watchBroken = true;
    this.deps.log.warn(
      `[Definitions] The watch on the folder of ${this.path} ${what}: it is retried every ${POLL_INTERVAL_MS / 1000} s; meanwhile the file is still checked every ${POLL_INTERVAL_MS / 1000} s, and SIGHUP reloads it.`,
    );
  }

  /** A folder removed and created again keeps its path but not its inode: the watch on the old one hears nothing. */
  private async checkFolder(): Promise<void> {
    const info = await stat(dirname(this.path)).catch(() => undefined);
    if (!info || this.closed || !this.watcher || this.folderIdentity(info) === this.watchedFolder) return;
    this.deps.log.info(`[Definitions] The folder of ${this.path} was replaced: watching the new one`);
    this.watcher.close();
    this.watcher = undefined;
    this.watchFolder();
  }

  /**
   * The file may have changed: read it once things are quiet (its content decides whether anything changed),
   * and within MAX_WAIT_MS of the first event however busy the folder stays.
   */
  private changed(): void {
    if (this.closed) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.firstEventAt ??= Date.now();
    const quiet = this.deps.debounceMs ?? 250;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.firstEventAt = undefined;
      void this.reload('file watch').catch((error) => this.deps.log.error('[Definitions] Reload failed', { error: errorText(error) }));
    }, Math.max(0, Math.min(quiet, this.firstEventAt + MAX_WAIT_MS - Date.now())));
  }

  /** Reads the file and applies it if valid; a watch reload of unchanged content does nothing. */
  reload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const run = this.queue.then(() => this.reloadNow(trigger));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async reloadNow(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const { config, log } = this.deps;
    const at = new Date();
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // An editor may remove the file for a moment while it writes the new one: wait for the next event.
      if (trigger === 'file watch' && code === 'ENOENT') return { kind: 'unchanged' };
      return this.refuse(trigger, at, [{ message: `cannot read the file (${code === 'ENOENT' ? 'no such file' : errorText(error)})` }]);
    }
    const digest = createHash('sha256').update(text).digest('hex');
    if (trigger === 'file watch' && digest === this.lastDigest) return { kind: 'unchanged' };
    this.lastDigest = digest;
    let next: ServerConfig;
    try {
      next = parseConfig(text, this.path);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return this.refuse(trigger, at, error.details);
    }

    const changes = diffCrons(config.crons, next.crons);
    const restartNeeded = startOnlyChanges(config, next);
    const retriesChanged = retriesChangedFor(config.alerting.retries, next.alerting.retries);
    const nothing = changes.added.length + changes.removed.length + changes.changed.length + restartNeeded.length === 0 && retriesChanged.length === 0;
    if (trigger === 'file watch' && nothing && this.problems.length === 0) {
      // Spaces, order of keys, or the first event after start: nothing to apply, audit or announce.
      log.debug(`[Definitions] ${this.path} changed on disk but not in effect: nothing to apply`);
      return { kind: 'unchanged' };
    }
    this.deps.apply(next.crons);
    // Per-cron retries are looked up when a run ends: the map the running server holds is updated in place.
    config.alerting.retries.clear();
    for (const [name, policy] of next.alerting.retries) config.alerting.retries.set(name, policy);
    this.loadedAt = at;
    this.problems = [];
    const summary = describeChanges(changes) + (retriesChanged.length > 0 ? `; retries changed for ${retriesChanged.join(', ')}` : '');
    log.info(`[Definitions] Reloaded ${this.path} (${trigger}): ${summary}; ${next.crons.length} crons in effect`);
    if (restartNeeded.length > 0) log.warn(`[Definitions] ${restartNeeded.join(', ')} changed in ${this.path}: read at start only, in effect after the next restart`);
    // Retries too: a waiting retry the new policy no longer allows stops showing on its cron.
    if (changes.added.length + changes.removed.length + changes.changed.length + retriesChanged.length > 0) this.deps.events.publish('crons.changed', { cronNames: [] });
    this.publish(at);
    await this.record(trigger, { result: 'applied', added: changes.added, removed: changes.removed, changed: changes.changed, ...(retriesChanged.length > 0 ? { retriesChanged } : {}), ...(restartNeeded.length > 0 ? { restartNeeded } : {}) });
    return { kind: 'applied', changes, restartNeeded };
  }

  private async refuse(trigger: ReloadTrigger, at: Date, problems: DefinitionProblem[]): Promise<ReloadOutcome> {
    this.problems = problems;
    const { log } = this.deps;
    log.error(
      `[Definitions] ${this.path} is invalid (${trigger}): ${problems.length} problem${problems.length === 1 ? '' : 's'}; the ${this.deps.config.crons.length} crons loaded at ${this.loadedAt.toISOString()} stay in effect. Fix the file; it is read again when saved.\n` +
        problems.map((problem) => `  ${problemLine(this.path, problem)}`).join('\n'),
    );
    this.publish(at);
    await this.record(trigger, { result: 'invalid', problems: problems.length });
    return { kind: 'invalid', problems };
  }

  private publish(at: Date): void {
    const event: DefinitionsReloadedEvent = { path: this.path, problems: this.problems, lastGoodLoadAt: this.loadedAt.toISOString(), at: at.toISOString() };
    this.deps.events.publish('definitions.reloaded', event);
  }

  private async record(trigger: ReloadTrigger, details: Record<string, unknown>): Promise<void> {
    await this.deps.audit
      .record({ actor: trigger, role: null, action: 'crons.reload', target: this.path, details })
      .catch((error) => this.deps.log.error('Could not write the audit trail', { action: 'crons.reload', error: errorText(error) }));
  }

  close(): void {
    this.closed = true;
    if (this.debounce) clearTimeout(this.debounce);
    if (this.rearm) clearTimeout(this.rearm);
    if (this.polling) unwatchFile(this.path, this.polled);
    this.polling = false;
    this.watcher?.close();
    this.watcher = undefined;
  }
}
