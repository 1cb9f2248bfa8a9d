// Preloaded into the server by the reads benchmarks (NODE_OPTIONS=--require): measures the event loop's
// delay in the server process itself and writes the histogram to CRON_OPS_LOOP_DELAY_FILE every 200 ms.
// `reset` in that file's sibling `.reset` starts a new window. With CRON_OPS_LOOP_DELAY_PROFILE=1 the main
// thread is also CPU-profiled, one profile per window: a reset writes the window just ended to
// `<file>.window-<n>.cpuprofile` (n counts the resets from 1), so what blocked a window can be named
// (firstReads.ts). On Linux it also times each turn of the loop in the main thread's own CPU time
// (`/proc/thread-self/schedstat`, read at a 2 ms timer): `turnCpuMax` is the most CPU one stretch between two
// ticks of that timer took, which a loaded machine does not inflate as it does the wall-clock delay (a
// thread waiting for a CPU is delayed, not busy). Only for benchmarks: the server knows nothing of it.
import { existsSync, openSync, readSync, writeFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

const file = process.env.CRON_OPS_LOOP_DELAY_FILE;
// Preloads run in worker threads too: only the server's main loop is measured (the timeline worker's
// loop is meant to block on its reads).
if (file && isMainThread) {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const profiler = process.env.CRON_OPS_LOOP_DELAY_PROFILE === '1' ? new Session() : undefined;
  let window = 0;
  const threadCpu = threadCpuReader();
  // The window's heaviest turn: its main-thread CPU, its wall time, and when (process.hrtime, µs: the
  // clock of V8's profiles, so the bench can cut that turn out of the window's profile).
  let heaviest = { cpu: 0, wall: 0, fromUs: 0, toUs: 0 };
  let lastUs = 0;
  let lastCpu = 0;
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  const restartTurns = () => {
    heaviest = { cpu: 0, wall: 0, fromUs: 0, toUs: 0 };
    lastUs = nowUs();
    lastCpu = threadCpu?.() ?? 0;
  };
  if (threadCpu) {
    restartTurns();
    const turns = setInterval(() => {
      const us = nowUs();
      const cpu = threadCpu();
      if (cpu - lastCpu > heaviest.cpu) heaviest = { cpu: cpu - lastCpu, wall: (us - lastUs) / 1000, fromUs: lastUs, toUs: us };
      lastUs = us;
      lastCpu = cpu;
    }, 2);
    turns.unref();
  }
  if (profiler) {
    profiler.connect();
    profiler.post('Profiler.enable');
    profiler.post('Profiler.setSamplingInterval', { interval: 250 });
    profiler.post('Profiler.start');
  }
  let resetting = false;
  let writing = false;
  const timer = setInterval(() => {
    if (!resetting && existsSync(`${file}.reset`)) {
      const ended = window++;
      // A same-thread session answers synchronously: the profile is written before the reset is acknowledged.
      profiler?.post('Profiler.stop', (error, result) => {
        if (!error) writeFileSync(`${file}.window-${ended}.cpuprofile`, JSON.stringify(result.profile));
      });
      profiler?.post('Profiler.start');
      // The new window starts a little later: the histogram's own timer, late by the work above, lands in
      // the old one.
      resetting = true;
      setTimeout(() => {
        histogram.reset();
        restartTurns();
        // Off the loop too (the new window has started): the bench starts its work once the file is gone.
        void rm(`${file}.reset`, { force: true }).finally(() => (resetting = false));
      }, 20);
    }
    const ms = (ns: number) => ns / 1e6;
    // Written aside and renamed: a reader never sees a half-written file. Asynchronously: a synchronous
    // write held the server's loop for 239 ms while another process filled the disk (a CPU profile of a
    // PostgreSQL timeline window, 2026-11-30), and the probe then measured itself, not the server.
    if (writing) return;
    writing = true;
    const figures = JSON.stringify({ p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), count: histogram.count, turnCpuMax: heaviest.cpu, turnWallAtCpuMax: heaviest.wall, turnFromUs: heaviest.fromUs, turnToUs: heaviest.toUs });
    writeFile(`${file}.tmp`, figures)
      .then(() => rename(`${file}.tmp`, file))
      .catch(() => undefined)
      .finally(() => (writing = false));
  }, 200);
  timer.unref();
}

/** The calling thread's CPU time in ms (Linux' schedstat, ns), or undefined where there is none. */
function threadCpuReader(): (() => number) | undefined {
  try {
    const fd = openSync('/proc/thread-self/schedstat', 'r');
    const buffer = Buffer.alloc(80);
    const read = () => Number(buffer.toString('latin1', 0, readSync(fd, buffer, 0, buffer.length, 0)).split(' ')[0]) / 1e6;
    return Number.isFinite(read()) ? read : undefined;
  } catch {
    return undefined;
  }
}
