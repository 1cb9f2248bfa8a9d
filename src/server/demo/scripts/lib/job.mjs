// Shared by the demo cron scripts: timestamped log lines like the operator guide's, simulated waits,
// a graceful SIGTERM and the "Starting ... / Completed successfully (Nms)" frame. Plain Node, no dependencies.

const pad = (value, width = 2) => String(value).padStart(width, '0');

/** Local time as the guide prints it: 2026-02-14 15:26:04. */
export function timestamp(date = new Date()) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export function log(message) {
  process.stdout.write(`[${timestamp()}] ${message}\n`);
}

export function warn(message) {
  process.stderr.write(`[${timestamp()}] WARNING: ${message}\n`);
}

export function error(message) {
  process.stderr.write(`[${timestamp()}] ERROR: ${message}\n`);
}

// CRON_DEMO_SPEED=10 makes every simulated wait ten times shorter (handy when trying the demo).
const speed = (() => {
  const value = Number(process.env.CRON_DEMO_SPEED ?? '1');
  return Number.isFinite(value) && value > 0 ? value : 1;
})();

/** Waits about `ms` (±10 %), standing for simulated work. */
export function work(ms) {
  const jittered = ms * (0.9 + Math.random() * 0.2);
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.round(jittered / speed))));
}

export function randomInt(min, max) {
  return min + Math.floor(Math.random() * (max - min + 1));
}

export function chance(probability) {
  return Math.random() < probability;
}

/**
 * Runs a demo job: prints the start and end lines, exits 0 on success, 1 with the error on stderr on
 * failure, and 143 (128 + SIGTERM) when asked to stop.
 */
export function runJob(name, main) {
  const started = Date.now();
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
      log(`Received ${signal}: stopping ${name} after ${Date.now() - started}ms (nothing left half-done: the work is simulated)`);
      process.exit(signal === 'SIGTERM' ? 143 : 130);
    });
  }
  log(`Starting ${name}`);
  Promise.resolve()
    .then(() => main())
    .then(
      () => {
        log(`Completed successfully (${Date.now() - started}ms)`);
        process.exitCode = 0;
      },
      (failure) => {
        error(failure instanceof Error ? failure.message : String(failure));
        log(`Failed after ${Date.now() - started}ms`);
        process.exitCode = 1;
      },
    );
}
