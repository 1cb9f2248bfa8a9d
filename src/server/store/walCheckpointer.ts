// Checkpoints the embedded store's WAL off the main thread. SQLite's automatic checkpoint runs inside the
// commit that takes the WAL past 1,000 pages, on the connection that commits: the server's main thread, which
// then waits for two fsyncs (the WAL, then the database file). Measured under figure 5's load (1,000 crons,
// ~17 runs a second) on the shared 2-core machine: every 2 s or so, 5–190 ms each, and seconds in which the
// main thread slept 0.65–0.9 s in them (perf trace), which made most of the slowest ticks' lateness. So the
// writer's automatic checkpoint is off and a worker thread with its own connection runs a PASSIVE checkpoint
// (it never waits for, nor blocks, the writer or a reader) once enough has been written. The worker starts on
// the first need and ends once idle: an idle server does not carry it (~9 MB). Nothing about durability
// changes: a commit is in the WAL before it is acknowledged, as before; only who copies it back differs.
import { Worker } from 'node:worker_threads';
import { errorText, type Logger } from '../logger';

/** Write statements between two checkpoints (a commit writes a few pages: about SQLite's 1,000-page default). */
export const WRITES_PER_CHECKPOINT = 300;
/** How long after the last write what it left is checkpointed (while the worker runs). */
const TRAILING_MS = 500;
/** How long the worker stays without a checkpoint to run before it ends. */
const IDLE_MS = 60_000;

/** The worker: opens the file, runs a checkpoint per message, closes on 'close'. Plain CommonJS (eval). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = NORMAL');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    // Again while the writer added frames meanwhile: the WAL starts over from its beginning (instead of
    // growing) only once a checkpoint has copied all of it.
    let result;
    for (let attempt = 0; attempt < 10; attempt++) {
      [result] = db.pragma('wal_checkpoint(PASSIVE)');
      if (result.busy || result.log === result.checkpointed) break;
    }
    parentPort.postMessage({ ok: true, result });
  } catch (error) {
    parentPort.postMessage({ ok: false, error: String((error && error.message) || error) });
  }
});
`;

export class WalCheckpointer {
  private worker: Worker | undefined;
  private writes = 0;
  /** A checkpoint was asked for and not answered yet. */
  private busy = false;
  private failed = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private trailing: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    private readonly log: Logger,
    /** Called once the worker cannot run: the writer checkpoints itself again. */
    private readonly fallBack: () => void,
    private readonly writesPerCheckpoint = WRITES_PER_CHECKPOINT,
  ) {}

  /** A write statement ran on the main connection. */
  wrote(): void {
    if (this.failed) return;
    this.writes++;
    if (this.writes >= this.writesPerCheckpoint && !this.busy) return this.request();
    // Once writes pause, what they left is checkpointed too: the WAL starts over from its beginning (instead of
    // growing) only after a checkpoint copied all of it before the next write. Only while the worker runs (an
    // idle server's few writes do not start it).
    if (this.worker && !this.trailing) {
      this.trailing = setTimeout(() => {
        this.trailing = undefined;
        if (this.writes > 0 && !this.busy) this.request();
      }, TRAILING_MS);
      this.trailing.unref();
    }
  }

  private request(): void {
    const worker = this.worker ?? this.start();
    if (!worker) return;
    this.writes = 0;
    this.busy = true;
    clearTimeout(this.idleTimer);
    worker.postMessage('checkpoint');
  }

  private start(): Worker | undefined {
    try {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module: require.resolve('better-sqlite3'), file: this.file },
        resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
      });
      // The server's own handles keep it alive, not this one's.
      worker.unref();
      worker.on('message', (reply: { ok: boolean; error?: string; result?: { busy: number; log: number; checkpointed: number } }) => {
        this.busy = false;
        if (reply.result) this.log.debug('Store checkpoint', reply.result);
        if (!reply.ok) this.log.warn('The store checkpoint failed (it is tried again after the next writes)', { error: reply.error });
        // Written enough meanwhile: again at once.
        if (this.writes >= this.writesPerCheckpoint) return this.request();
        clearTimeout(this.idleTimer);
        this.idleTimer = setTimeout(() => this.stopWorker(), IDLE_MS);
        this.idleTimer.unref();
      });
      worker.on('error', (error) => this.giveUp(error));
      worker.on('exit', () => {
        if (this.worker !== worker) return;
        this.worker = undefined;
        this.busy = false;
      });
      this.worker = worker;
      return worker;
    } catch (error) {
      this.giveUp(error);
      return undefined;
    }
  }

  private giveUp(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.worker = undefined;
    this.log.warn('The store checkpoint worker cannot run: the WAL is checkpointed by the server itself again', { error: errorText(error) });
    this.fallBack();
  }

  private stopWorker(): void {
    const worker = this.worker;
    if (!worker || this.busy) return;
    this.worker = undefined;
    worker.postMessage('close');
  }

  /** Ends the worker (its connection closed first: the writer's close is the last, and checkpoints all). */
  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    clearTimeout(this.trailing);
    this.failed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    const exited = new Promise<void>((resolveExit) => worker.once('exit', () => resolveExit()));
    worker.postMessage('close');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((resolveLater) => (timer = setTimeout(resolveLater, 2_000)))]);
    clearTimeout(timer);
    await worker.terminate();
  }
}
