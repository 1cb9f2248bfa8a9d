// Runs one execution as a child process: no shell, its own process group, output captured line by line
// into the store, ended on timeout or on request.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Execution, LogLine, LogStream } from '../shared/api';
import type { CronDefinition } from './config';
import type { EventBus } from './eventBus';
import { errorText, type Logger } from './logger';
import { withRetry } from './retry';
import type { Finish } from './store/executionStore';
import type { LogStore } from './store/logStore';

export interface RunnerOptions {
  configPath: string;
  maxLogLines: number;
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
}

interface LiveRun {
  execution: Execution;
  cron: CronDefinition;
  child: ChildProcess;
  exited: Promise<void>;
  killTimer?: NodeJS.Timeout;
}

const FLUSH_INTERVAL_MS = 50;
const FLUSH_BATCH = 500;
const ERROR_TAIL_LINES = 5;

export class Runner {
  private readonly live = new Map<string, LiveRun>();

  constructor(private readonly options: RunnerOptions) {}

  get runningCount(): number {
    return this.live.size;
  }

  isLive(executionId: string): boolean {
    return this.live.has(executionId);
  }

  start(execution: Execution, cron: CronDefinition): void {
    const { options } = this;
    const env: Record<string, string> = { ...(process.env as Record<string, string>), ...options.baseEnv() };
    delete env.ELECTRON_RUN_AS_NODE;
    for (const [name, value] of Object.entries(execution.params)) env[`CRON_PARAM_${name.toUpperCase()}`] = String(value);
    Object.assign(env, { CRON_PARAMS: JSON.stringify(execution.params), CRON_EXECUTION_ID: execution.id, CRON_NAME: cron.name });

    const [program, ...args] = cron.command;
    options.log.info(`Executing: ${cron.command.join(' ')}`, { cronName: cron.name, executionId: execution.id });
    const child = spawn(program, args, { cwd: dirname(options.configPath), env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) void options.recordPid(execution.id, child.pid).catch(() => undefined);

    let seq = 0;
    let dropped = 0;
    let pending: LogLine[] = [];
    const stderrTail: string[] = [];
    let flushing: Promise<void> = Promise.resolve();
    let flushTimer: NodeJS.Timeout | undefined;
    let storeDown = false;
    const flush = () => {
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = undefined;
      const batch = pending;
      pending = [];
      if (batch.length === 0) return flushing;
      flushing = flushing.then(async () => {
        try {
          await options.logs.append(execution.id, batch);
          options.events.publishLog({ executionId: execution.id, lines: batch });
        } catch (error) {
          // Keep the lines and try again: the store may be back in a moment.
          if (!storeDown) options.log.warn(`Could not store ${batch.length} log lines: keeping them to retry`, { executionId: execution.id, error: errorText(error) });
          storeDown = true;
          pending = batch.concat(pending);
          return;
        }
        storeDown = false;
      });
      return flushing;
    };
    const capture = (stream: LogStream, source: NodeJS.ReadableStream) => {
      createInterface({ input: source, crlfDelay: Infinity }).on('line', (line) => {
        if (stream === 'stderr' && line.trim() !== '') {
          stderrTail.push(line);
          if (stderrTail.length > ERROR_TAIL_LINES) stderrTail.shift();
        }
        if (seq >= options.maxLogLines) {
          dropped++;
          return;
        }
        pending.push({ seq: ++seq, at: new Date().toISOString(), stream, line });
        if (pending.length >= FLUSH_BATCH) void flush();
        else flushTimer ??= setTimeout(flush, FLUSH_INTERVAL_MS);
      });
    };
    capture('stdout', child.stdout!);
    capture('stderr', child.stderr!);

    let spawnError: Error | undefined;
    const exited = new Promise<void>((resolveExit) => {
      child.on('error', (error) => {
        spawnError = error;
        // 'close' does not follow a failed spawn.
        if (child.pid === undefined) resolveExit();
      });
      child.on('close', () => resolveExit());
    });
    const run: LiveRun = { execution, cron, child, exited };
    this.live.set(execution.id, run);
    const timeoutTimer = setTimeout(() => {
      void this.stop(execution.id, {
        status: 'failed',
        errorMessage: `Timeout: still running after ${cron.timeoutMs} ms (timeoutMs of ${cron.name}); the process was stopped`,
      });
    }, cron.timeoutMs);

    void exited.then(async () => {
      const endedAt = new Date();
      clearTimeout(timeoutTimer);
      if (run.killTimer) clearTimeout(run.killTimer);
      if (dropped > 0) {
        pending.push({ seq: ++seq, at: new Date().toISOString(), stream: 'stderr', line: `[cron-ops] log cap of ${options.maxLogLines} lines reached: ${dropped} more lines were not stored` });
      }
      await withRetry(
        async () => {
          await flush();
          if (pending.length > 0) throw new Error('log lines not stored yet');
        },
        { what: `Storing the last log lines of ${execution.id}`, log: options.log },
      ).catch(() => options.log.error(`Gave up storing ${pending.length} log lines`, { executionId: execution.id }));
      const outcome = { ...describeExit(child, spawnError, program, stderrTail), endedAt };
      options.log.info(`Exit code: ${child.exitCode ?? child.signalCode ?? 'none'}`, { cronName: cron.name, executionId: execution.id });
      try {
        await options.runEnded(execution.id, outcome, dropped);
      } catch (error) {
        options.log.error(`Could not record the end of ${cron.name}`, { executionId: execution.id, error: errorText(error) });
      }
      this.live.delete(execution.id);
    });
  }

  /** Records `finish` (if nothing else ended the run first) and ends the process group. */
  async stop(executionId: string, finish: Finish): Promise<void> {
    const run = this.live.get(executionId);
    if (!run) return;
    try {
      await this.options.finish(executionId, finish);
    } finally {
      this.kill(run);
    }
  }

  /** Ends the process group: SIGTERM, then SIGKILL after the grace period. */
  kill(runOrId: LiveRun | string): void {
    const run = typeof runOrId === 'string' ? this.live.get(runOrId) : runOrId;
    if (!run || run.child.pid === undefined || run.child.exitCode !== null || run.child.signalCode !== null) return;
    signalGroup(run.child, 'SIGTERM');
    run.killTimer ??= setTimeout(() => signalGroup(run.child, 'SIGKILL'), this.options.killGraceMs);
  }

  /** At shutdown: ask every process to stop and wait for them to be recorded. */
  async shutdown(finish: Finish): Promise<void> {
    const runs = [...this.live.values()];
    await Promise.all(runs.map((run) => this.stop(run.execution.id, finish)));
    await Promise.all(runs.map((run) => run.exited));
    // Give the exit handlers their turn to write logs before the store closes.
    while (this.live.size > 0) await new Promise((resolveTick) => setTimeout(resolveTick, 10));
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

function describeExit(child: ChildProcess, spawnError: Error | undefined, program: string, stderrTail: string[]): Finish {
  if (spawnError && child.pid === undefined) {
    const code = (spawnError as NodeJS.ErrnoException).code;
    const hint = code === 'ENOENT' ? 'not found: check the command in the cron config' : code === 'EACCES' ? 'not executable: check its permissions' : spawnError.message;
    return { status: 'failed', exitCode: null, errorMessage: `Cannot start ${program}: ${hint}` };
  }
  if (child.exitCode === 0) return { status: 'completed', exitCode: 0 };
  const ending = child.exitCode !== null ? `Exited with code ${child.exitCode}` : `Killed by ${child.signalCode}`;
  const tail = stderrTail.join('\n').slice(-2000);
  return { status: 'failed', exitCode: child.exitCode, errorMessage: tail ? `${ending}: ${tail}` : ending };
}

/**
 * After a crash the children live on in their own process groups. End a group only if its leader is still
 * the same run: on Linux its environment names the execution (elsewhere nothing is killed).
 */
export function endOrphan(pid: number, executionId: string): boolean {
  try {
    if (!readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`CRON_EXECUTION_ID=${executionId}`)) return false;
    process.kill(-pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}
