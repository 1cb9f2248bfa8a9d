// Preloaded into the server by the reads benchmark (NODE_OPTIONS=--require): measures the event loop's
// delay in the server process itself and writes the histogram to CRON_OPS_LOOP_DELAY_FILE every 200 ms.
// `reset` in that file's sibling `.reset` starts a new window. Only for benchmarks: the server knows
// nothing of it.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

const file = process.env.CRON_OPS_LOOP_DELAY_FILE;
// Preloads run in worker threads too: only the server's main loop is measured (the timeline worker's
// loop is meant to block on its reads).
if (file && isMainThread) {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const timer = setInterval(() => {
    if (existsSync(`${file}.reset`)) {
      rmSync(`${file}.reset`, { force: true });
      histogram.reset();
    }
    const ms = (ns: number) => ns / 1e6;
    writeFileSync(file, JSON.stringify({ p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), count: histogram.count }));
  }, 200);
  timer.unref();
}
