// The spawn helper: a small process the server starts (one, a few under a burst: jobLauncher.ts) that starts
// the jobs for it.
// fork() copies the page tables of the process that calls it and libuv waits on the calling thread until
// the child has exec'd, so a spawn from the server costs in proportion to the server's size (10–40 ms a
// job at ~150 MB under load, 37–55 % of its main thread in the README's profiles); from this ~40 MB
// process it costs what a bare spawn loop does, and off the server's thread.
// It only spawns and relays: each job's pid, its stdout and stderr bytes as they come (paused while the
// server does not keep up, so a flood of output is not held here), its exit code or signal. Everything
// else — splitting and capping the output, process groups and their signals, timeouts, leftovers — stays
// in the server. It exits when the server's end of the socket closes (its jobs are left to the server's
// next start, as they were when the server spawned them itself).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { encodeFrame, FrameDecoder, FrameKind, parseJson, type SignalRequest, type SpawnRequest } from './spawnProtocol';

const control = new Socket({ fd: 3, readable: true, writable: true });
/** Every output stream being read: paused together while the server does not keep up. */
const streams = new Set<Readable>();
/** Output streams by job, kept until both are closed (a job's children may hold them after it exited). */
const outputs = new Map<number, { stdout: Readable; stderr: Readable }>();
/** Each job's pid until it exits (a signal from the server may come before it heard of the pid). */
const pids = new Map<number, number>();
let blocked = false;
let corked = false;

function send(kind: FrameKind, id: number, payload?: Buffer | object): void {
  // The frames of one turn of the event loop go out in one write, at its end (setImmediate: after all its
  // I/O callbacks, so the exits and output ends of several jobs share it; nextTick wrote once per callback).
  if (!corked) {
    corked = true;
    control.cork();
    setImmediate(() => {
      corked = false;
      control.uncork();
    });
  }
  if (!control.write(encodeFrame(kind, id, payload)) && !blocked) {
    blocked = true;
    for (const stream of streams) stream.pause();
  }
}

control.on('drain', () => {
  blocked = false;
  for (const stream of streams) stream.resume();
});

function relay(id: number, stream: Readable, data: FrameKind, end: FrameKind, closed: () => void): void {
  streams.add(stream);
  if (blocked) stream.pause();
  stream.on('data', (chunk: Buffer) => send(data, id, chunk));
  stream.on('error', () => undefined);
  stream.on('close', () => {
    streams.delete(stream);
    closed();
    send(end, id);
  });
}

/** Clock ticks after boot at which the process started; it is not reaped yet (this process reaps it). */
function startTimeOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const startTime = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isFinite(startTime) ? startTime : undefined;
  } catch {
    // Not Linux.
    return undefined;
  }
}

function start(id: number, request: SpawnRequest): void {
  let child: ChildProcess;
  try {
    child = spawn(request.program, request.args, {
      cwd: request.cwd,
      env: request.env,
      // Its own process group: the server signals the whole group by its pid.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(request.uid !== undefined ? { uid: request.uid, gid: request.gid } : {}),
    });
  } catch (error) {
    send(FrameKind.Failed, id, { code: (error as NodeJS.ErrnoException).code, message: error instanceof Error ? error.message : String(error) });
    return;
  }
  // Known as spawn() returns: a signal in the same chunk as the request finds it.
  if (child.pid !== undefined) pids.set(id, child.pid);
  child.on('spawn', () => {
    send(FrameKind.Spawned, id, { pid: child.pid, startTime: startTimeOf(child.pid!) });
  });
  child.on('error', (error: NodeJS.ErrnoException) => {
    // 'exit' does not follow a failed spawn.
    if (child.pid === undefined) send(FrameKind.Failed, id, { code: error.code, message: error.message });
  });
  child.on('exit', (code, signal) => {
    pids.delete(id);
    send(FrameKind.Exit, id, { code, signal });
  });
  const output = { stdout: child.stdout!, stderr: child.stderr! };
  outputs.set(id, output);
  let open = 2;
  const closed = () => {
    if (--open === 0) outputs.delete(id);
  };
  relay(id, output.stdout, FrameKind.Stdout, FrameKind.StdoutEnd, closed);
  relay(id, output.stderr, FrameKind.Stderr, FrameKind.StderrEnd, closed);
}

const decoder = new FrameDecoder((kind, id, payload) => {
  switch (kind) {
    case FrameKind.Spawn:
      start(id, parseJson<SpawnRequest>(payload));
      break;
    case FrameKind.Signal: {
      // Its process group, as the server signals it (the job was started detached: its pid is the group's).
      const pid = pids.get(id);
      if (pid !== undefined) {
        try {
          process.kill(-pid, parseJson<SignalRequest>(payload).signal);
        } catch {
          // Gone already.
        }
      }
      break;
    }
    case FrameKind.CloseStdout:
      outputs.get(id)?.stdout.destroy();
      break;
    case FrameKind.CloseStderr:
      outputs.get(id)?.stderr.destroy();
      break;
    default:
      process.stderr.write(`cron-ops spawn helper: unknown frame kind ${kind as number}\n`);
  }
});

// Ctrl+C in a terminal signals the server's whole process group, and systemd its whole cgroup: the server
// then ends its runs and closes this socket, and only then is this process done (signalled first, the runs
// it relays would be lost rather than recorded as interrupted). Its jobs get the default handlers back.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);

control.on('data', (chunk: Buffer) => decoder.push(chunk));
// The server is gone (or closed its end): nothing more to start or to relay to.
control.on('end', () => process.exit(0));
control.on('close', () => process.exit(0));
control.on('error', () => process.exit(0));
