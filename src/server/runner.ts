// Runs one execution as a child process: no shell, its own process group, an allow-listed environment.
// Reads as spawn (jobLauncher.ts: through the spawn helper), capture (logCapture.ts), watch (timeout, the
// main process's exit), end (processTree.ts). The run ends when its main process exits, whatever its
// children hold open.
import { dirname } from 'node:path';
import type { Execution } from '../shared/api';
import type { CronDefinition } from './config';
import type { EventBus } from './eventBus';
import { jobEnvironment, lookupUser, userProblem, type OsUser } from './jobEnvironment';
import { defaultLauncher, type JobLauncher, type JobProcess } from './jobLauncher';
import { LogCapture, type LogCaps } from './logCapture';
import { errorText, type Logger } from './logger';
import { describeProcesses, endOrphan, ProcessTree, type RunProcess } from './processTree';
import type { Finish } from './store/executionStore';
import type { LogStore } from './store/logStore';

export { endOrphan };

export interface RunnerOptions {
  configPath: string;
  caps: LogCaps;
  killGraceMs: number;
  /** Extra environment for every child (CRON_SECRET, CRON_TRIGGER_SERVER_URL). */
  baseEnv: () => Record<string, string>;
  logs: LogStore;
  events: EventBus;
  log: Logger;
  recordPid(executionId: string, pid: number): Promise<void>;
  /** Writes the terminal status (first outcome wins). */
  finish(id: string, finish: Finish): Promise<unknown>;
  /** Records how the process ended, retrying while the store is unreachable. */
  runEnded(id: string, finish: Finish, droppedLines: number): Promise<void>;
  /** The server's environment, from which the allow-listed variables come (default process.env). */
  serverEnv?: NodeJS.ProcessEnv;
  /** Variables holding the server's own secrets (alert destinations), kept from every job. */
  serverSecrets?: ReadonlySet<string>;
  /**
   * Reads (bounded) which version of its scripts the run launches, before the spawn; resolves with the store
   * write under way, which the run's end waits for (scriptVersionRecorder.ts).
   */
  beforeSpawn?(execution: Execution, cron: CronDefinition): Promise<{ recorded: Promise<void> }>;
  /** Starts the jobs' processes (default: through the spawn helper beside the server's bundle). */
  launcher?: JobLauncher;
}

interface LiveRun {
  execution: Execution;
  cron: CronDefinition;
  child: JobProcess;
  capture: LogCapture;
  /** Known once the process is started (its pid comes back from the spawn helper). */
  tree?: ProcessTree;
  /** Resolves once the process started or could not be: what ends the run waits for it. */
  started: Promise<void>;
  /** The main process has exited: the run is over, what it left is handled by its leftovers setting. */
  mainExited: boolean;
  /** Resolves once the run is recorded and none of its processes is left to end. */
  settled: Promise<void>;
}

/** How long a cron's "user" passwd entry is trusted before it is looked up again. */
const USER_LOOKUP_TTL_MS = 60_000;

/** How long stdio may still deliver once the main process has exited (children may hold it open). */
const DRAIN_MS = 500;

export class Runner {
  private readonly live = new Map<string, LiveRun>();
  /** Runs whose script version is being read: their process is not spawned yet. */
  private readonly pending = new Map<string, { ended: boolean }>();
  private closing = false;
  private readonly launcher: JobLauncher;
  /** Passwd entries of the crons' "user", by name, with when they were read. */
  private readonly users = new Map<string, { entry: OsUser | undefined; at: number }>();

  /**
   * The server's environment, copied once: the server never changes its own, and each read of process.env
   * goes through a native interceptor (a whole walk of it per run was 2 % of the server's thread in figure
   * 6's profile).
   */
  private readonly serverEnv: NodeJS.ProcessEnv;

  constructor(private readonly options: RunnerOptions) {
    this.launcher = options.launcher ?? defaultLauncher(options.log);
    this.serverEnv = options.serverEnv ?? { ...process.env };
  }

  get runningCount(): number {
    return this.live.size + this.pending.size;
  }

  isLive(executionId: string): boolean {
    return this.live.has(executionId) || this.pending.has(executionId);
  }

  /** Throws (a clear message) when the job cannot be started at all; the caller records the failure. */
  start(execution: Execution, cron: CronDefinition): void {
    const { options } = this;
    const user = cron.user !== undefined ? this.osUser(cron.user) : undefined;
    const env = jobEnvironment({ serverEnv: this.serverEnv, cron, execution, base: options.baseEnv(), user, serverSecrets: options.serverSecrets });
    if (!options.beforeSpawn) return this.spawnRun(execution, cron, env, user, Promise.resolve());
    // The script version is read before the spawn (bounded), so it is the content that runs. Meanwhile the
    // run is pending: an end recorded then (cancel, another instance, shutdown) means it never starts.
    const pending = { ended: false };
    this.pending.set(execution.id, pending);
    void options
      .beforeSpawn(execution, cron)
      .then(({ recorded }) => {
        this.pending.delete(execution.id);
        // Its end is recorded already (first outcome wins); at shutdown the store may be closed by now.
        if (pending.ended) return this.closing ? undefined : options.runEnded(execution.id, { status: 'cancelled', errorMessage: 'Ended before its process started' }, 0);
        try {
          this.spawnRun(execution, cron, env, user, recorded);
          return undefined;
        } catch (error) {
          return options.runEnded(execution.id, { status: 'failed', errorMessage: `Cannot start ${cron.command[0]}: ${errorText(error)}` }, 0);
        }
      })
      .catch((error) => options.log.error(`Starting ${cron.name} failed`, { cronName: cron.name, executionId: execution.id, error: errorText(error) }));
  }

  private spawnRun(execution: Execution, cron: CronDefinition, env: NodeJS.ProcessEnv, user: OsUser | undefined, versionRecorded: Promise<void>): void {
    const { options } = this;
    const ids = { cronName: cron.name, executionId: execution.id };
    const [program, ...args] = cron.command;
    options.log.info(`Executing: ${cron.command.join(' ')}`, ids);
    const child = this.launcher.spawn({
      program,
      args,
      cwd: dirname(options.configPath),
      env: definedOnly(env),
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    const capture = new LogCapture({
      executionId: execution.id,
      caps: options.caps,
      append: (lines) => options.logs.append(execution.id, lines),
      published: (lines) => options.events.publishLog({ executionId: execution.id, lines }),
      log: options.log,
    });
    capture.attach('stdout', child.stdout);
    capture.attach('stderr', child.stderr);

    let settle!: () => void;
    let markStarted!: () => void;
    const run: LiveRun = {
      execution,
      cron,
      child,
      capture,
      mainExited: false,
      settled: new Promise((resolveSettled) => (settle = resolveSettled)),
      started: new Promise((resolveStarted) => (markStarted = resolveStarted)),
    };
    const onStarted = () => {
      if (child.pid !== undefined && !run.tree) {
        run.tree = new ProcessTree(child.pid, execution.id, options.killGraceMs, child.startTime);
        void options.recordPid(execution.id, child.pid).catch(() => undefined);
      }
      markStarted();
    };
    // A ChildProcess spawned in process knows its pid at once; through the helper it comes with 'spawn'.
    if (child.pid !== undefined) onStarted();
    child.once('spawn', onStarted);
    this.live.set(execution.id, run);

    const timeoutTimer = setTimeout(() => {
      void this.stop(execution.id, { status: 'failed', errorMessage: `Timeout: still running after ${cron.timeoutMs} ms (timeoutMs of ${cron.name})` });
    }, cron.timeoutMs);

    let spawnError: Error | undefined;
    const exited = new Promise<void>((resolveExit) => {
      child.on('error', (error: Error) => {
        spawnError = error;
        // 'exit' does not follow a failed spawn.
        if (child.pid === undefined) {
          markStarted();
          resolveExit();
        }
      });
      child.on('exit', () => {
        onStarted();
        resolveExit();
      });
    });

    void exited
      .then(async () => {
        const endedAt = new Date();
        run.mainExited = true;
        clearTimeout(timeoutTimer);
        await drain(child);
        // The scan and the SIGTERM are said in the run's log before it closes; the end is waited for below.
        // The spawn helper died: whether the main process still runs is unknown, so the run's processes end.
        const leftovers = child.lost ? await this.terminate(run, 'the spawn helper died') : await this.endLeftovers(run);
        await capture.close();
        const outcome = { ...describeExit(child, spawnError, program, capture.stderrTail), endedAt };
        options.log.info(`Exit code: ${child.exitCode ?? child.signalCode ?? 'none'}`, ids);
        // The version is on the execution before its end is: the end's event carries it.
        await versionRecorded;
        try {
          await options.runEnded(execution.id, outcome, capture.droppedLines);
        } catch (error) {
          options.log.error(`Could not record the end of ${cron.name}`, { ...ids, error: errorText(error) });
        }
        // Leftovers and a termination in progress are waited for: the run is over when nothing of it is left.
        await leftovers.ended;
        await run.tree?.terminateIfStarted();
      })
      .catch((error) => options.log.error(`Ending ${cron.name} failed`, { ...ids, error: errorText(error) }))
      .finally(() => {
        capture.dispose();
        this.live.delete(execution.id);
        settle();
      });
  }

  /**
   * The passwd entry to run as. Looked up once a minute at most: the lookup (getent, for NSS) is a blocking
   * fork of the server, the cost the spawn helper is there to avoid.
   */
  private osUser(name: string): OsUser {
    const now = Date.now();
    let known = this.users.get(name);
    if (!known || now - known.at > USER_LOOKUP_TTL_MS) {
      known = { entry: lookupUser(name), at: now };
      this.users.set(name, known);
    }
    const problem = userProblem(name, process.getuid?.(), known.entry);
    if (problem || !known.entry) throw new Error(`Cannot run as user ${name}: ${problem ?? 'no passwd entry'}`);
    return known.entry;
  }

  /** The main process exited: what it left behind is ended, unless the cron keeps its leftovers. */
  private async endLeftovers(run: LiveRun): Promise<Ending> {
    const tree = run.tree;
    if (!tree || tree.terminating) return NOTHING_TO_END;
    const left = await tree.processes();
    if (left.length === 0 || tree.terminating) return NOTHING_TO_END;
    if (run.cron.leftovers === 'keep') {
      run.capture.notice(`the main process exited; ${left.length} process(es) it started keep running ("leftovers": "keep"): ${describeProcesses(left)}`);
      return NOTHING_TO_END;
    }
    return this.terminate(run, 'the main process exited and left');
  }

  /**
   * SIGTERM to every process of the run, SIGKILL after the grace period; both said in the run's log. Resolves
   * once the SIGTERM is sent and said, with the end of the termination to wait for.
   */
  private async terminate(run: LiveRun, why: string): Promise<Ending> {
    // Through the spawn helper the pid may still be on its way (behind other jobs' output): the helper ends
    // the group at once, and the tree below follows up (SIGKILL after the grace) once the pid is here.
    if (run.child.pid === undefined) run.child.signalBeforePid?.('SIGTERM');
    await run.started;
    const tree = run.tree;
    if (!tree) return NOTHING_TO_END;
    const first = !tree.terminating;
    const termination = await tree.terminate();
    if (first && termination.termed.length > 0) run.capture.notice(sentText('SIGTERM', termination.termed, why, this.options.killGraceMs));
    const ended = termination.done.then((killed) => {
      if (first && killed.length > 0) run.capture.notice(`SIGKILL sent after ${this.options.killGraceMs} ms (killGraceMs) to ${describeProcesses(killed)}`);
    });
    return { ended };
  }

  /** Records `finish` (if nothing else ended the run first) and ends every process of the run. */
  async stop(executionId: string, finish: Finish): Promise<void> {
    const run = this.live.get(executionId);
    if (!run) return;
    if (run.child.pid === undefined) run.child.signalBeforePid?.('SIGTERM');
    await run.started;
    const targets = (await run.tree?.processes()) ?? [];
    const said = targets.length > 0 ? `; SIGTERM sent to ${describeProcesses(targets)}, SIGKILL after ${this.options.killGraceMs} ms to any left` : '';
    try {
      await this.options.finish(executionId, { ...finish, errorMessage: finish.errorMessage ? finish.errorMessage + said : finish.errorMessage });
    } finally {
      this.kill(run);
    }
  }

  /** Ends every process of the run (cancel, mark-failed, another instance ended it): SIGTERM, then SIGKILL. */
  kill(runOrId: LiveRun | string): void {
    const pending = typeof runOrId === 'string' ? this.pending.get(runOrId) : undefined;
    if (pending) pending.ended = true;
    const run = typeof runOrId === 'string' ? this.live.get(runOrId) : runOrId;
    // Once the main process has exited, its own end (recorded by this runner) comes back here through the
    // change feed: what is left is for the leftovers setting to decide.
    if (!run || run.mainExited) return;
    void this.terminate(run, 'the run was ended')
      .then((ending) => ending.ended)
      .catch((error) => this.options.log.warn('Ending the processes failed', { executionId: run.execution.id, error: errorText(error) }));
  }

  /** At shutdown: every run is ended and recorded; bounded by the grace period plus a little. */
  async shutdown(finish: Finish): Promise<void> {
    this.closing = true;
    for (const [executionId, pending] of this.pending) {
      pending.ended = true;
      await this.options.finish(executionId, finish).catch((error) => this.options.log.warn('Could not record the interrupted run', { executionId, error: errorText(error) }));
    }
    const runs = [...this.live.values()];
    await Promise.all(runs.map((run) => this.stop(run.execution.id, finish).catch((error) => this.options.log.warn('Could not record the interrupted run', { executionId: run.execution.id, error: errorText(error) }))));
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolveBound) => (timer = setTimeout(resolveBound, this.options.killGraceMs + 3_000)));
    await Promise.race([Promise.all(runs.map((run) => run.settled)), bound]);
    clearTimeout(timer);
    if (this.live.size > 0) this.options.log.warn(`Stopped waiting for ${this.live.size} run(s) to be recorded`);
    await this.launcher.close();
  }
}

/** A termination under way: resolves once nothing of the run is left. */
interface Ending {
  ended: Promise<void>;
}

const NOTHING_TO_END: Ending = { ended: Promise.resolve() };

function sentText(signal: string, targets: RunProcess[], why: string, graceMs: number): string {
  if (targets.length === 0) return `${why}: no process of the run was left to signal`;
  return `${why}: ${signal} sent to ${describeProcesses(targets)}; SIGKILL follows after ${graceMs} ms (killGraceMs) for any still alive`;
}

/** The environment as the spawn helper takes it: only the variables that are set. */
function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  const defined: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) defined[name] = value;
  return defined;
}

/** Gives the pipes a moment to deliver what the exited process wrote, then closes them. */
async function drain(child: JobProcess): Promise<void> {
  const streams = [child.stdout, child.stderr];
  const ended = streams.map((stream) => new Promise<void>((resolveEnd) => (stream.readableEnded || stream.destroyed ? resolveEnd() : stream.once('close', () => resolveEnd()))));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(ended), new Promise<void>((resolveTimer) => (timer = setTimeout(resolveTimer, DRAIN_MS)))]);
  clearTimeout(timer);
  // A child that keeps the pipe open must not keep the run open: what it writes from now on is not read.
  for (const stream of streams) stream.destroy();
}

function describeExit(child: JobProcess, spawnError: Error | undefined, program: string, stderrTail: string[]): Finish {
  if (spawnError && child.pid === undefined) {
    const code = (spawnError as NodeJS.ErrnoException).code;
    const hint = code === 'ENOENT' ? 'not found: check the command in the cron config' : code === 'EACCES' ? 'not executable: check its permissions' : spawnError.message;
    return { status: 'failed', exitCode: null, errorMessage: `Cannot start ${program}: ${hint}` };
  }
  if (child.lost) return { status: 'failed', exitCode: null, errorMessage: child.lost };
  if (child.exitCode === 0) return { status: 'completed', exitCode: 0 };
  const ending = child.exitCode !== null ? `Exited with code ${child.exitCode}` : `Killed by ${child.signalCode}`;
  const tail = stderrTail.join('\n').slice(-2000);
  return { status: 'failed', exitCode: child.exitCode, errorMessage: tail ? `${ending}: ${tail}` : ending };
}
