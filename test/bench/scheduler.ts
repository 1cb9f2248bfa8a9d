// Figure 5: 1,000 crons on second-level schedules. Bounded for a small machine: cron i runs at second
// (i mod 60) of every minute ("S * * * * *"), so about 17 fire each second and each fires once in the
// 60 s window, spawning /bin/true. Tick lateness is the execution's recorded start minus its scheduled
// second; idle CPU is the server's CPU time (/proc/PID/stat) in the gaps between ticks (from +500 ms to
// +950 ms after each second). The runs are read from the store's folder once the server has stopped (a
// saturated server cannot hold the benchmark). Baseline, run at the same time: croner alone with the same
// schedules and the same command in a bare process (schedulerBaseline.ts).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createLogger } from '../../src/server/logger';
import { openSqlite, SQLITE_FILE } from '../../src/server/store/db';
import { startServer } from '../support/serverProcess';
import { cpuMs, ms, percentile, ratio, removeLater, sleep, stopLater, type Benchmark } from './support';

const CRONS = 1000;
const WINDOW_S = 60;
const COMMAND = '/bin/true';

const nameOf = (index: number) => `tick-${String(index).padStart(4, '0')}`;
const scheduleOf = (index: number) => `${index % 60} * * * * *`;

/** The scheduled instant of a run of cron `index` that started at `startedMs`. */
function scheduledBefore(index: number, startedMs: number): number {
  let at = Math.floor(startedMs / 1000) * 1000;
  for (let step = 0; step < 60 && Math.floor(at / 1000) % 60 !== index % 60; step++) at -= 1000;
  return at;
}


export const scheduler: Benchmark = {
  name: 'scheduler',
  title: 'Figure 5: scheduler with 1,000 second-level crons',
  async run(context) {
    const crons = Array.from({ length: CRONS }, (_, index) => ({
      name: nameOf(index),
      schedule: scheduleOf(index),
      command: [COMMAND],
      estimatedDurationMs: 10,
      timeoutMs: 60_000,
    }));
    const dataDir = join(removeLater(context, mkdtempSync(join(tmpdir(), 'cron-ops-bench-scheduler-'))), 'data');
    const server = stopLater(context, await startServer({ config: { crons, rateLimits: { perCronSeconds: 0, globalPerMinute: 0 } }, args: ['--data', dataDir], timeoutMs: 120_000 }));
    const serverPid = server.child.pid!;

    // The window starts on a whole second a little after both are up; the baseline runs past its end.
    const windowStart = Math.ceil((Date.now() + 3000) / 1000) * 1000;
    const windowEnd = windowStart + WINDOW_S * 1000;
    const baseline = spawn(process.execPath, [join(__dirname, 'schedulerBaseline.js'), JSON.stringify(crons.map((cron) => cron.schedule)), COMMAND, String(windowEnd + 1500 - Date.now())], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    context.onCleanup(() => baseline.kill('SIGKILL'));
    let baselineOutput = '';
    baseline.stdout!.on('data', (chunk: Buffer) => (baselineOutput += chunk.toString()));
    const baselineDone = new Promise<void>((resolveDone) => baseline.on('exit', () => resolveDone()));

    // CPU between ticks, both processes, sampled on the same instants.
    let gapWallMs = 0;
    const gapCpu = { server: 0, baseline: 0 };
    const totalCpu = { server: -cpuMs(serverPid), baseline: 0 };
    await sleep(windowStart - Date.now());
    totalCpu.server = -cpuMs(serverPid);
    totalCpu.baseline = -cpuMs(baseline.pid!);
    for (let second = windowStart; second < windowEnd; second += 1000) {
      await sleep(second + 500 - Date.now());
      const wall0 = Date.now();
      const server0 = cpuMs(serverPid);
      const baseline0 = cpuMs(baseline.pid!);
      await sleep(second + 950 - Date.now());
      gapWallMs += Date.now() - wall0;
      gapCpu.server += cpuMs(serverPid) - server0;
      gapCpu.baseline += cpuMs(baseline.pid!) - baseline0;
    }
    totalCpu.server += cpuMs(serverPid);
    totalCpu.baseline += cpuMs(baseline.pid!);
    await baselineDone;
    await sleep(1000);

    // Every scheduled run recorded, read from the store once the server has stopped.
    await server.stop();
    const db = await openSqlite({ file: join(dataDir, SQLITE_FILE), log: createLogger({ level: 'error' }) });
    let executions: Array<{ cron_name: string; started_at: Date | string }>;
    try {
      executions = (await sql<{ cron_name: string; started_at: string }>`SELECT cron_name, started_at FROM cron_executions WHERE trigger_type = 'scheduled'`.execute(db.q)).rows;
    } finally {
      await db.close();
    }

    const lateness: number[] = [];
    const ticks = new Set<string>();
    for (const execution of executions) {
      const index = Number(execution.cron_name.slice(5));
      const startedMs = new Date(execution.started_at).getTime();
      const scheduled = scheduledBefore(index, startedMs);
      if (scheduled < windowStart || scheduled >= windowEnd) continue;
      ticks.add(`${index}@${scheduled}`);
      lateness.push(startedMs - scheduled);
    }
    const expected = CRONS * (WINDOW_S / 60);
    const baselineTicks = (JSON.parse(baselineOutput.trim() || '[]') as Array<[number, number]>).filter(([scheduled]) => scheduled >= windowStart && scheduled < windowEnd);
    const baselineLateness = baselineTicks.map(([, late]) => late);
    const p99 = percentile(lateness, 99);
    const baseP99 = percentile(baselineLateness, 99);
    const idle = (gapCpu.server / gapWallMs) * 100;
    const baseIdle = (gapCpu.baseline / gapWallMs) * 100;
    const busy = (totalCpu.server / (WINDOW_S * 1000)) * 100;
    const baseBusy = (totalCpu.baseline / (WINDOW_S * 1000)) * 100;
    context.log(`  ${lateness.length} runs of ${expected} ticks (${ticks.size} distinct); lateness p50 ${ms(percentile(lateness, 50))} p99 ${ms(p99)} max ${ms(Math.max(...lateness))}`);
    context.log(`  baseline ${baselineLateness.length} ticks; lateness p50 ${ms(percentile(baselineLateness, 50))} p99 ${ms(baseP99)}`);
    context.log(`  CPU between ticks ${idle.toFixed(2)} % (baseline ${baseIdle.toFixed(2)} %); over the whole window ${busy.toFixed(1)} % (baseline ${baseBusy.toFixed(1)} %)`);
    const missed = expected - ticks.size;
    return [
      {
        figure: '5',
        what: `tick lateness p99 (p50), ${CRONS} crons "S * * * * *", ~${Math.round(CRONS / 60)} runs/s for ${WINDOW_S} s`,
        value: `${ms(p99)} (${ms(percentile(lateness, 50))}); ${ticks.size}/${expected} ticks ran${missed ? `, ${missed} missed` : ''}`,
        baseline: `croner + spawn alone ${ms(baseP99)} (${ms(percentile(baselineLateness, 50))})`,
        ratio: ratio(p99, baseP99),
        goal: 'p99 ≤ 50 ms',
        met: p99 <= 50 && missed === 0,
        note: 'bounded for a 2-core machine: each cron fires once a minute at its own second, about 17 runs of /bin/true a second, rather than 1,000 a second',
      },
      {
        figure: '5',
        what: `server CPU between ticks (+500..+950 ms of each second); whole window in brackets`,
        value: `${idle.toFixed(2)} % (${busy.toFixed(1)} %)`,
        baseline: `croner alone ${baseIdle.toFixed(2)} % (${baseBusy.toFixed(1)} %)`,
        ratio: ratio(idle, baseIdle),
        goal: '≤ 2 %',
        met: idle <= 2,
      },
    ];
  },
};
