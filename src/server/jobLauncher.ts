// Where a job's process is started. By default through the spawn helper (spawnHelper.ts), a small process
// whose fork() costs a fraction of the server's and is off the server's main thread; the server keeps
// everything else (output splitting, process groups, signals). One helper runs at rest; a burst of starts
// opens a few more (MAX_HELPERS), so that the jobs' starts overlap. A helper is started again when it dies:
// the runs it held end as failed, saying so (the runner ends their processes). Without its bundle (a build
// without it, the in-process test backend), or after helpers died MAX_DEATHS_IN_A_ROW times without
// starting anything, jobs are spawned by the server itself as before.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { errorText, type Logger } from './logger';
import { encodeFrame, FrameDecoder, FrameKind, parseJson, SPAWN_HELPER_FILE, type ExitReply, type FailedReply, type SignalRequest, type SpawnedReply, type SpawnRequest } from './spawnProtocol';

export type { SpawnRequest };

/**
 * A job's main process as the runner sees it (a ChildProcess fits): 'spawn' once its pid is known, 'error'
 * without a pid when it could not be started, 'exit' when it ended.
 */
export interface JobProcess extends EventEmitter {
  readonly pid?: number;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  /** Its start time in clock ticks after boot, when known without reading /proc (processTree.ts). */
  readonly startTime?: number;
  /** Set when the job's end cannot be known (the spawn helper died while it ran): why, for its error message. */
  readonly lost?: string;
  /**
   * Signals the job's process group before its pid is known here (through the helper, which knows it): a
   * cancel or a timeout must not wait for the pid while the job does its work.
   */
  signalBeforePid?(signal: NodeJS.Signals): void;
}

export interface JobLauncher {
  spawn(request: SpawnRequest): JobProcess;
  /** Stops the helper, if any (the server's shutdown, once the runs ended). */
  close(): Promise<void>;
  /** The helper's pid while one runs (tests, logs). */
  readonly helperPid: number | undefined;
}

/** The server spawns the job itself. */
export const directLauncher: JobLauncher = {
  spawn(request) {
    const child = spawn(request.program, request.args, {
      cwd: request.cwd,
      env: request.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(request.uid !== undefined ? { uid: request.uid, gid: request.gid } : {}),
    });
    return child as ChildProcess & { stdout: Readable; stderr: Readable };
  },
  close: async () => undefined,
  helperPid: undefined,
};

/** Helper deaths in a row, none of them having started a job, before jobs are spawned by the server itself. */
const MAX_DEATHS_IN_A_ROW = 3;
/** How long the helper has to answer a spawn request (its pid, or why it failed) before it is replaced. */
const SPAWN_ANSWER_MS = 20_000;
/** How long the helper has to exit once its socket is closed, before SIGKILL. */
const CLOSE_WAIT_MS = 1_000;

/** The launcher for this server: through the helper beside the server's bundle when it is there. */
export function defaultLauncher(log: Logger, helperFile = join(__dirname, SPAWN_HELPER_FILE)): JobLauncher {
  if (!existsSync(helperFile)) {
    log.debug(`The spawn helper ${helperFile} is missing: jobs are spawned by the server itself (each fork costs in proportion to its memory).`);
    return directLauncher;
  }
  return new HelperLauncher(helperFile, log);
}

/** One job started through the helper. */
class HelperJob extends EventEmitter implements JobProcess {
  pid?: number;
  startTime?: number;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  lost: string | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** The helper said the main process exited (or failed to start): no longer in flight. */
  ended = false;
  /** Outputs the helper has not said closed. */
  openOutputs = 2;

  constructor(
    private readonly toHelper: (kind: FrameKind, payload?: object) => void,
  ) {
    super();
    const closeStream = (kind: FrameKind) => toHelper(kind);
    const output = (close: FrameKind) =>
      new Readable({
        read() {
          // Pushed as frames arrive; the helper pauses the job while the server's socket is full.
        },
        destroy(error, callback) {
          // The runner stops reading (a child holds the pipe open): the helper stops too.
          if (!this.readableEnded) closeStream(close);
          callback(error);
        },
      });
    this.stdout = output(FrameKind.CloseStdout);
    this.stderr = output(FrameKind.CloseStderr);
  }

  signalBeforePid(signal: NodeJS.Signals): void {
    if (!this.ended) this.toHelper(FrameKind.Signal, { signal } satisfies SignalRequest);
  }

  endOutput(): void {
    for (const stream of [this.stdout, this.stderr]) if (!stream.readableEnded && !stream.destroyed) stream.push(null);
  }
}

/** One helper process and the jobs it holds. */
interface Helper {
  child: ChildProcess;
  socket: Socket;
  jobs: Map<number, HelperJob>;
  /** It started at least one job: its death is not counted as a failure to start. */
  startedAny: boolean;
  /** Spawn requests it has not answered yet (its pid or why it failed). */
  starting: number;
  /** Not exited: new jobs may go to it, frames to it are written. */
  alive: boolean;
  /** Closed for want of jobs: its exit is expected. */
  idleClosed?: boolean;
  /** Frames are being gathered for one write at the end of this turn (send). */
  corked?: boolean;
}

/**
 * Helpers started at most. A helper starts one job at a time: libuv waits on its thread until the job has
 * exec'd, which on a loaded machine is mostly the job waiting for a CPU. A burst of starts is shared
 * between helpers, so these waits overlap; a further helper is started only while every helper has a start
 * under way (one at rest, ~40 MB each).
 */
const MAX_HELPERS = Math.min(4, Math.max(2, availableParallelism()));
/** How often helpers past the first are looked at, and closed when they hold no job. */
const EXTRA_HELPER_IDLE_MS = 30_000;

export class HelperLauncher implements JobLauncher {
  private readonly helpers: Helper[] = [];
  private nextId = 1;
  private deathsInARow = 0;
  private fallback = false;
  private closed = false;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    private readonly log: Logger,
    private readonly spawnAnswerMs = SPAWN_ANSWER_MS,
    private readonly maxHelpers = MAX_HELPERS,
    private readonly extraHelperIdleMs = EXTRA_HELPER_IDLE_MS,
  ) {}

  /** The first helper's pid while one runs (tests, logs). */
  get helperPid(): number | undefined {
    return this.helpers[0]?.child.pid;
  }

  /** Every helper's pid (tests). */
  get helperPids(): number[] {
    return this.helpers.map((helper) => helper.child.pid!);
  }

  /** A helper at rest, else a new one while there may be more, else the one with the fewest starts under way. */
  private pick(): Helper {
    const idle = this.helpers.find((helper) => helper.starting === 0);
    if (idle) return idle;
    if (this.helpers.length < this.maxHelpers) {
      const started = this.startHelper();
      this.helpers.push(started);
      if (this.helpers.length > 1) this.watchExtraHelpers();
      return started;
    }
    return this.helpers.reduce((least, helper) => (helper.starting < least.starting ? helper : least));
  }

  spawn(request: SpawnRequest): JobProcess {
    if (this.fallback || this.closed) return directLauncher.spawn(request);
    const helper = this.pick();
    const id = this.nextId++;
    if (this.nextId > 0xffffffff) this.nextId = 1;
    const job = new HelperJob((kind, payload) => {
      if (helper.alive) this.send(helper, encodeFrame(kind, id, payload));
    });
    helper.jobs.set(id, job);
    helper.starting++;
    this.send(helper, encodeFrame(FrameKind.Spawn, id, request));
    // A helper that does not answer (stopped, wedged) would hold every new run: it is replaced.
    const watchdog = setTimeout(() => {
      if (job.pid !== undefined || job.ended || !helper.alive) return;
      this.log.error(`The spawn helper (pid ${helper.child.pid}) did not start a job within ${this.spawnAnswerMs / 1000} s: it is killed and replaced`);
      helper.child.kill('SIGKILL');
    }, this.spawnAnswerMs);
    watchdog.unref();
    job.once('spawn', () => clearTimeout(watchdog));
    job.once('error', () => clearTimeout(watchdog));
    return job;
  }

  /**
   * The frames of one turn of the event loop go to a helper in one write, at its end (setImmediate: after
   * the turn's I/O callbacks): under a burst of triggers, several starts a turn, one system call.
   */
  private send(helper: Helper, frame: Buffer): void {
    if (!helper.corked) {
      helper.corked = true;
      helper.socket.cork();
      setImmediate(() => {
        helper.corked = false;
        helper.socket.uncork();
      });
    }
    helper.socket.write(frame);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.idleTimer);
    await Promise.all(this.helpers.map((helper) => this.closeHelper(helper)));
  }

  private async closeHelper(helper: Helper): Promise<void> {
    const exited = new Promise<void>((resolveExit) => (helper.child.exitCode !== null || helper.child.signalCode !== null ? resolveExit() : helper.child.once('exit', () => resolveExit())));
    helper.socket.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((resolveTimer) => (timer = setTimeout(resolveTimer, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
    if (helper.child.exitCode === null && helper.child.signalCode === null) helper.child.kill('SIGKILL');
  }

  private startHelper(): Helper {
    // Nothing of the server's environment: the jobs get theirs with each request, and NODE_OPTIONS (a
    // profiler, a preload) is not for the helper. PATH is kept: a program without a slash is looked up there.
    const child = spawn(process.execPath, ['--max-old-space-size=64', this.file], {
      env: process.env.PATH !== undefined ? { PATH: process.env.PATH } : {},
      stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
    });
    const socket = child.stdio[3] as Socket;
    const helper: Helper = { child, socket, jobs: new Map(), startedAny: false, starting: 0, alive: true };
    // The server's own handles keep it alive, not the helper's.
    child.unref();
    socket.unref();
    const decoder = new FrameDecoder((kind, id, payload) => this.onFrame(helper, kind, id, payload));
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    socket.on('error', (error) => this.log.debug('Spawn helper socket', { error: errorText(error) }));
    // It is gone once it exited and everything it wrote was read.
    let ending: string | undefined;
    const exited = new Promise<void>((resolveExit) => {
      child.on('exit', (code, signal) => {
        // New jobs go to another helper at once; those it held end once all it wrote is read.
        this.retire(helper);
        ending = signal ? `killed by ${signal}` : `exited with code ${code}`;
        resolveExit();
      });
      child.on('error', (error) => {
        ending = `could not be started: ${error.message}`;
        resolveExit();
      });
    });
    const socketClosed = new Promise<void>((resolveClose) => socket.on('close', () => resolveClose()));
    void Promise.all([exited, socketClosed]).then(() => this.died(helper, ending ?? 'exited'));
    this.log.debug(`Spawn helper started (pid ${child.pid})`);
    return helper;
  }

  private onFrame(helper: Helper, kind: FrameKind, id: number, payload: Buffer): void {
    const job = helper.jobs.get(id);
    if (!job) return;
    switch (kind) {
      case FrameKind.Spawned:
        ({ pid: job.pid, startTime: job.startTime } = parseJson<SpawnedReply>(payload));
        helper.starting--;
        helper.startedAny = true;
        this.deathsInARow = 0;
        job.emit('spawn');
        break;
      case FrameKind.Failed: {
        const failed = parseJson<FailedReply>(payload);
        helper.starting--;
        job.ended = true;
        job.endOutput();
        helper.jobs.delete(id);
        job.emit('error', Object.assign(new Error(failed.message), { code: failed.code }));
        break;
      }
      case FrameKind.Stdout:
        if (!job.stdout.destroyed) job.stdout.push(payload);
        break;
      case FrameKind.Stderr:
        if (!job.stderr.destroyed) job.stderr.push(payload);
        break;
      case FrameKind.StdoutEnd:
      case FrameKind.StderrEnd: {
        const stream = kind === FrameKind.StdoutEnd ? job.stdout : job.stderr;
        if (!stream.destroyed && !stream.readableEnded) stream.push(null);
        job.openOutputs--;
        this.forget(helper, id, job);
        break;
      }
      case FrameKind.Exit: {
        const exit = parseJson<ExitReply>(payload);
        job.exitCode = exit.code;
        job.signalCode = exit.signal;
        job.ended = true;
        this.forget(helper, id, job);
        job.emit('exit', exit.code, exit.signal);
        break;
      }
      default:
        this.log.warn(`Spawn helper sent an unknown frame kind ${kind as number}`);
    }
  }

  /** Helpers past the first that hold no job are closed once a look every extraHelperIdleMs finds them so. */
  private watchExtraHelpers(): void {
    if (this.idleTimer) return;
    this.idleTimer = setInterval(() => {
      for (const helper of this.helpers.slice(1)) {
        if (helper.jobs.size > 0 || helper.starting > 0) continue;
        helper.idleClosed = true;
        this.retire(helper);
        void this.closeHelper(helper);
      }
      if (this.helpers.length <= 1) {
        clearInterval(this.idleTimer);
        this.idleTimer = undefined;
      }
    }, this.extraHelperIdleMs);
    this.idleTimer.unref();
  }

  /** No new job goes to `helper`, nothing more is written to it. */
  private retire(helper: Helper): void {
    helper.alive = false;
    const index = this.helpers.indexOf(helper);
    if (index >= 0) this.helpers.splice(index, 1);
  }

  /** A job is forgotten once it ended and the helper closed both its outputs. */
  private forget(helper: Helper, id: number, job: HelperJob): void {
    if (job.ended && job.openOutputs === 0) helper.jobs.delete(id);
  }

  /** The helper is gone: the jobs it held end (their end is unknown), the next spawn starts a new helper. */
  private died(helper: Helper, ending: string): void {
    this.retire(helper);
    const pid = helper.child.pid;
    const inFlight = [...helper.jobs.values()];
    helper.jobs.clear();
    if ((this.closed || helper.idleClosed) && inFlight.length === 0) return;
    if (!helper.startedAny && ++this.deathsInARow >= MAX_DEATHS_IN_A_ROW && !this.closed) {
      this.fallback = true;
      this.log.error(`The spawn helper ${this.file} died ${this.deathsInARow} times in a row (last: ${ending}): jobs are spawned by the server itself from now on`);
    } else if (!this.closed) {
      this.log.error(`The spawn helper (pid ${pid}) ${ending}${inFlight.length ? `; ${inFlight.length} run(s) it held end as failed` : ''}; the next job starts a new one`);
    }
    const why = `the spawn helper (pid ${pid}, the process that starts jobs and relays their output) ${ending}`;
    for (const job of inFlight) {
      job.endOutput();
      if (job.ended) continue;
      job.ended = true;
      if (job.pid === undefined) {
        job.emit('error', new Error(`${why} before the job started`));
      } else {
        job.lost = `Lost: ${why} while the run was in progress; its exit status and any later output are unknown`;
        job.emit('exit', null, null);
      }
    }
  }
}
