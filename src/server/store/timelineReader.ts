// Where the timeline is read. On a SQLite file and on PostgreSQL: in a worker thread (timelineWorker.ts)
// with its own connection, because a 7-day read at a million runs costs tens of milliseconds of CPU
// (better-sqlite3's statements are synchronous; PostgreSQL's rows are parsed and shaped in the process):
// on the main thread it would hold every other request, the scheduler and the runner's pipes. In memory
// (--memory: no file another connection could open), and when the worker cannot run: on the store itself,
// the reply written in slices.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { sql } from 'kysely';
import type { TimelineReply } from '../../shared/api';
import { errorText, type Logger } from '../logger';
import type { Db } from './db';
import type { ExecutionStore, TimelineQuery } from './executionStore';
import { SkippedTickStore } from './skippedTickStore';
import { timelineBody } from './timelineBody';
import { TIMELINE_WORKER_FILE, type TimelineBody, type TimelineEncoding, type TimelineRequest, type TimelineResponse, type TimelineWorkerData } from './timelineProtocol';
import { timelineReply } from './timelineReply';

export interface TimelineSource {
  /** The runs of the range (ExecutionStore.timeline's reply). */
  timeline(query: TimelineQuery): Promise<TimelineReply>;
  /**
   * The route's reply (the runs and the skipped ticks) ready to send: its JSON text, or that text gzipped
   * (`encoding`, what the client accepts). Written in the worker when there is one, else on the main
   * thread in slices; gzipped off the event loop either way.
   */
  routeReply(query: TimelineQuery, encoding: TimelineEncoding): Promise<TimelineBody>;
  /** Stops the worker, if any (the server's shutdown). */
  close(): Promise<void>;
}

export interface TimelineSourceOptions {
  /** The worker's bundle; default: beside the running server bundle (dist/). */
  workerFile?: string;
  /** Starts a worker (tests watch and stop the workers through it). */
  startWorker?: (file: string, data: TimelineWorkerData) => Worker;
  /** How long an idle worker lives (default IDLE_MS). */
  idleMs?: number;
  /** The PostgreSQL database the store is (DATABASE_URL), for the worker's own connection; without it, read on the store. */
  postgresUrl?: string;
}

/**
 * The worker's heaps, kept small: a timeline reply is bounded (a few thousand entries, ~40 KB of JSON), and
 * with V8's defaults the thread held ~50 MB more RSS (measured: 139 → 189 MB after 20 7-day reads at
 * 200,000 runs). A read that needs more ends the worker; it is then read on the main thread (see died).
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 96 };

/** A worker with nothing to read for this long ends (its memory goes back); the next read starts one. */
const IDLE_MS = 60_000;

/** Deaths in a row without one answer before the worker is given up until the server restarts. */
const MAX_DEATHS_IN_A_ROW = 3;

/** The timeline of `executions`, read where it cannot block the server's event loop. */
export async function timelineSource(db: Db, executions: ExecutionStore, log: Logger, options: TimelineSourceOptions = {}): Promise<TimelineSource> {
  const skipped = new SkippedTickStore(db);
  const onStore: TimelineSource = {
    timeline: (query) => executions.timeline(query),
    // On the main thread: the text is written in slices (timelineBody.ts).
    routeReply: async (query, encoding) => timelineBody(await timelineReply(executions, skipped, query), encoding, true),
    close: async () => undefined,
  };
  const store = await workerStoreOf(db, options.postgresUrl);
  if (!store) return onStore;
  const workerFile = options.workerFile ?? join(__dirname, TIMELINE_WORKER_FILE);
  if (!existsSync(workerFile)) {
    log.warn(`The timeline worker ${workerFile} is missing (the server bundle was built without it): timeline reads run on the main thread, where they delay other requests. Rebuild with "node esbuild.mjs".`);
    return onStore;
  }
  return new WorkerTimeline(workerFile, store, onStore, log, options.startWorker ?? ((path, workerData) => new Worker(path, { workerData, resourceLimits: WORKER_LIMITS })), options.idleMs ?? IDLE_MS);
}

/** What the worker opens: the store's SQLite file, or its PostgreSQL database; undefined in memory. */
async function workerStoreOf(db: Db, postgresUrl: string | undefined): Promise<TimelineWorkerData | undefined> {
  if (db.kind === 'postgres') return postgresUrl ? { kind: 'postgres', url: postgresUrl } : undefined;
  const file = await sqliteFileOf(db);
  return file ? { kind: 'sqlite', file } : undefined;
}

/** The file of the store's main database; undefined in memory. */
async function sqliteFileOf(db: Db): Promise<string | undefined> {
  const { rows } = await sql<{ name: string; file: string }>`PRAGMA database_list`.execute(db.q);
  return rows.find((row) => row.name === 'main')?.file || undefined;
}

interface Pending {
  request: TimelineRequest;
  resolve(reply: TimelineReply | TimelineBody): void;
  reject(error: Error): void;
  /** Workers that died while holding it. */
  deaths: number;
}

class WorkerTimeline implements TimelineSource {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private deathsInARow = 0;
  private started = false;
  private closed = false;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly workerFile: string,
    private readonly data: TimelineWorkerData,
    private readonly onStore: TimelineSource,
    private readonly log: Logger,
    private readonly startWorker: (file: string, data: TimelineWorkerData) => Worker,
    private readonly idleMs: number,
  ) {}

  timeline(query: TimelineQuery): Promise<TimelineReply> {
    return this.ask(query, 'runs') as Promise<TimelineReply>;
  }

  async routeReply(query: TimelineQuery, encoding: TimelineEncoding): Promise<TimelineBody> {
    const body = (await this.ask(query, 'route', encoding)) as TimelineBody;
    // A gzipped body crossed the thread boundary as a Uint8Array: a Buffer again, for Fastify to send.
    return body.encoding === 'gzip' ? { encoding: 'gzip', body: Buffer.from(body.body.buffer, body.body.byteOffset, body.body.byteLength) } : body;
  }

  private ask(query: TimelineQuery, answer: TimelineRequest['answer'], encoding?: TimelineEncoding): Promise<TimelineReply | TimelineBody> {
    if (this.closed) return Promise.reject(new Error('The timeline reader is closed: the server is shutting down.'));
    if (this.deathsInARow >= MAX_DEATHS_IN_A_ROW) return this.readOnStore({ id: 0, query, answer, encoding });
    return new Promise((resolve, reject) => {
      const entry: Pending = { request: { id: this.nextId++, query, answer, encoding }, resolve, reject, deaths: 0 };
      this.pending.set(entry.request.id, entry);
      this.send(entry);
    });
  }

  /** A request read on the main connection (the worker given up, or dead on it twice). */
  private readOnStore(request: TimelineRequest): Promise<TimelineReply | TimelineBody> {
    return request.answer === 'route' ? this.onStore.routeReply(request.query, request.encoding ?? 'identity') : this.onStore.timeline(request.query);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    for (const entry of this.pending.values()) entry.reject(new Error('The timeline reader closed: the server is shutting down.'));
    this.pending.clear();
    await worker?.terminate();
  }

  private send(entry: Pending): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.running().postMessage(entry.request);
  }

  /** Nothing left to read: the worker ends after IDLE_MS unless a read comes first. */
  private idleLater(): void {
    if (this.pending.size > 0 || !this.worker) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      const worker = this.worker;
      if (!worker || this.pending.size > 0) return;
      // Not a death: forgotten before it ends, so its exit is not taken for a crash.
      this.worker = undefined;
      void worker.terminate();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  /** The worker, started on first use and after a death. */
  private running(): Worker {
    if (this.worker) return this.worker;
    if (!this.started) {
      this.log.info(
        this.data.kind === 'sqlite' ? `Timeline reads run in a worker thread, on a read-only connection to ${this.data.file}` : 'Timeline reads run in a worker thread, on a PostgreSQL connection of its own',
      );
    }
    this.started = true;
    const worker = this.startWorker(this.workerFile, this.data);
    // It never keeps the process alive on its own: the server's shutdown closes it.
    worker.unref();
    worker.on('message', (response: TimelineResponse) => this.answer(response));
    worker.on('error', (error) => this.log.warn('The timeline worker failed', { error: errorText(error) }));
    worker.on('exit', (code) => this.died(worker, code));
    this.worker = worker;
    return worker;
  }

  private answer(response: TimelineResponse): void {
    this.deathsInARow = 0;
    const entry = this.pending.get(response.id);
    if (!entry) return;
    this.pending.delete(response.id);
    if (response.ok) entry.resolve(response.reply);
    else entry.reject(Object.assign(new Error(response.message), response.code ? { code: response.code } : {}));
    this.idleLater();
  }

  /**
   * A worker ended without being asked to (a crash, out of memory): what it held is asked again of a new
   * one; what two workers died on is read on the main thread (slower for the others, but answered).
   */
  private died(worker: Worker, code: number): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    if (this.closed) return;
    this.deathsInARow++;
    const held = [...this.pending.values()];
    const givingUp = this.deathsInARow >= MAX_DEATHS_IN_A_ROW;
    this.log.warn(
      givingUp
        ? `The timeline worker stopped (exit code ${code}) ${this.deathsInARow} times in a row: timeline reads now run on the main thread until the server restarts`
        : `The timeline worker stopped (exit code ${code}): ${held.length > 0 ? `asking a new one for the ${held.length} timeline read(s) it held` : 'a new one starts with the next timeline read'}`,
    );
    for (const entry of held) {
      entry.deaths++;
      if (!givingUp && entry.deaths < 2) {
        this.send(entry);
        continue;
      }
      this.pending.delete(entry.request.id);
      this.readOnStore(entry.request).then(entry.resolve, entry.reject);
    }
  }
}
