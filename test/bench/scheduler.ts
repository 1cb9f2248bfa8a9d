// Figure 5: 1,000 crons on second-level schedules. Bounded for a small machine: cron i runs at second
// (i mod 60) of every minute ("S * * * * *"), so about 17 fire each second and each fires once in the
// 60 s window, spawning /bin/true. Two latenesses per tick, each beside its bare equivalent:
// - recorded start: the execution's `started_at` minus its scheduled second, what an operator reads in the
//   history (stamped when the run's insert is issued, once the instant's claims are written); baseline: croner's call-back once
//   spawn() has returned;
// - where the tick fires: the tick's claim (`schedule_ticks.claimed_at`, the first thing the server writes
//   for a tick, stamped by SQLite) minus its scheduled second; baseline: croner's call-back itself.
// Idle CPU is the server's CPU time (/proc/PID/stat) in the gaps between ticks (from +500 ms to +950 ms after
// each second). The runs are read from the store's folder once the server has stopped (a saturated server
// cannot hold the benchmark). Baseline, run at the same time: croner alone with the same schedules and the
// same command in a bare process (schedulerBaseline.ts), armed before the window starts; and the same schedules
// with call-backs that do nothing, in a process of their own: a bare timer's wake-up lateness, the machine's
// share of any figure here. The server records each tick's stages (src/server/tickTrace.ts): printed stage by
// stage, by order within a second, and for the slowest 1 % by cause (tickTraceReport.ts), with the lateness
// once the run is handed to the runner (its spawn requested).
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createLogger } from '../../src/server/logger';
import { openSqlite, SQLITE_FILE } from '../../src/server/store/db';
import { startServer } from '../support/serverProcess';
import { readTickTrace } from './tickTraceReport';
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


type BaselineTick = [scheduledMs: number, firedLateMs: number, spawnedLateMs: number];

/** schedulerBaseline.js with the same schedules: 'spawn' runs the command on each tick, 'timers' does nothing. */
function startBaseline(context: Parameters<Benchmark['run']>[0], schedules: string[], mode: 'spawn' | 'timers') {
  const child = spawn(process.execPath, [join(__dirname, 'schedulerBaseline.js'), JSON.stringify(schedules), COMMAND, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  context.onCleanup(() => child.kill('SIGKILL'));
  let output = '';
  const ready = new Promise<void>((resolveReady, rejectReady) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.startsWith('ready\n')) resolveReady();
    });
    child.on('exit', (code) => rejectReady(new Error(`the scheduler baseline (${mode}) exited (${code}) before it was ready`)));
  });
  const exited = new Promise<void>((resolveExit) => child.on('exit', () => resolveExit()));
  return {
    child,
    ready,
    /** Stops it; resolves with every tick it saw. */
    async stop(): Promise<BaselineTick[]> {
      child.kill('SIGTERM');
      await exited;
      return JSON.parse(output.slice('ready\n'.length).trim() || '[]') as BaselineTick[];
    },
  };
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
    const benchDir = removeLater(context, mkdtempSync(join(tmpdir(), 'cron-ops-bench-scheduler-')));
    const dataDir = join(benchDir, 'data');
    // Each tick's stages, written by the server when it exits (src/server/tickTrace.ts).
    const traceFile = join(benchDir, 'ticks.json');
    const server = stopLater(
      context,
      await startServer({ config: { crons, rateLimits: { perCronSeconds: 0, globalPerMinute: 0 } }, args: ['--data', dataDir], env: { CRON_OPS_TICK_TRACE: traceFile }, timeoutMs: 120_000 }),
    );
    const serverPid = server.child.pid!;

    // The baselines arm their jobs first; the window starts on a whole second a little after all are up.
    const baseline = startBaseline(context, crons.map((cron) => cron.schedule), 'spawn');
    const timersBaseline = startBaseline(context, crons.map((cron) => cron.schedule), 'timers');
    await Promise.all([baseline.ready, timersBaseline.ready]);
    const loadBefore = loadavg()[0];
    const windowStart = Math.ceil((Date.now() + 2000) / 1000) * 1000;
    const windowEnd = windowStart + WINDOW_S * 1000;

    // CPU between ticks, both processes, sampled on the same instants.
    let gapWallMs = 0;
    const gapCpu = { server: 0, baseline: 0 };
    const totalCpu = { server: -cpuMs(serverPid), baseline: 0 };
    await sleep(windowStart - Date.now());
    totalCpu.server = -cpuMs(serverPid);
    totalCpu.baseline = -cpuMs(baseline.child.pid!);
    for (let second = windowStart; second < windowEnd; second += 1000) {
      await sleep(second + 500 - Date.now());
      const wall0 = Date.now();
      const server0 = cpuMs(serverPid);
      const baseline0 = cpuMs(baseline.child.pid!);
      await sleep(second + 950 - Date.now());
      gapWallMs += Date.now() - wall0;
      gapCpu.server += cpuMs(serverPid) - server0;
      gapCpu.baseline += cpuMs(baseline.child.pid!) - baseline0;
    }
    totalCpu.server += cpuMs(serverPid);
    totalCpu.baseline += cpuMs(baseline.child.pid!);
    const loadAfter = loadavg()[0];
    await sleep(windowEnd + 1500 - Date.now());
    const [baselineTicks, timerTicks] = await Promise.all([baseline.stop(), timersBaseline.stop()]);

    // Every scheduled run recorded, read from the store once the server has stopped.
    await server.stop();
    const db = await openSqlite({ file: join(dataDir, SQLITE_FILE), log: createLogger({ level: 'error' }) });
    let executions: Array<{ cron_name: string; started_at: Date | string }>;
    let claims: Array<{ tick_at: Date | string; claimed_at: Date | string }>;
    try {
      executions = (await sql<{ cron_name: string; started_at: string }>`SELECT cron_name, started_at FROM cron_executions WHERE trigger_type = 'scheduled'`.execute(db.q)).rows;
      claims = (await sql<{ tick_at: string; claimed_at: string }>`SELECT tick_at, claimed_at FROM schedule_ticks`.execute(db.q)).rows;
    } finally {
      await db.close();
    }
    const claimLateness = claims
      .map((claim) => ({ tickAt: new Date(claim.tick_at).getTime(), claimedAt: new Date(claim.claimed_at).getTime() }))
      .filter((claim) => claim.tickAt >= windowStart && claim.tickAt < windowEnd)
      .map((claim) => claim.claimedAt - claim.tickAt);

    const lateness: number[] = [];
    /** The latest recorded start of each scheduled second: tells a steady cost from a few stalls. */
    const worstOfSecond = new Map<number, number>();
    const ticks = new Set<string>();
    for (const execution of executions) {
      const index = Number(execution.cron_name.slice(5));
      const startedMs = new Date(execution.started_at).getTime();
      const scheduled = scheduledBefore(index, startedMs);
      if (scheduled < windowStart || scheduled >= windowEnd) continue;
      ticks.add(`${index}@${scheduled}`);
      lateness.push(startedMs - scheduled);
      worstOfSecond.set(scheduled, Math.max(worstOfSecond.get(scheduled) ?? 0, startedMs - scheduled));
    }
    const expected = CRONS * (WINDOW_S / 60);
    const inWindow = ([scheduled]: BaselineTick) => scheduled >= windowStart && scheduled < windowEnd;
    const timerFired = timerTicks.filter(inWindow).map(([, fired]) => fired);
    const baselineFired = baselineTicks.filter(inWindow).map(([, fired]) => fired);
    const baselineSpawned = baselineTicks.filter(inWindow).map(([, , spawned]) => spawned);
    const p99 = percentile(lateness, 99);
    const baseP99 = percentile(baselineSpawned, 99);
    const claimP99 = percentile(claimLateness, 99);
    const baseFiredP99 = percentile(baselineFired, 99);
    const idle = (gapCpu.server / gapWallMs) * 100;
    const baseIdle = (gapCpu.baseline / gapWallMs) * 100;
    const busy = (totalCpu.server / (WINDOW_S * 1000)) * 100;
    const baseBusy = (totalCpu.baseline / (WINDOW_S * 1000)) * 100;
    const load = `load average ${loadBefore.toFixed(1)}–${loadAfter.toFixed(1)}`;
    context.log(`  ${load}`);
    context.log(`  ${lateness.length} runs of ${expected} ticks (${ticks.size} distinct); recorded start lateness p50 ${ms(percentile(lateness, 50))} p99 ${ms(p99)} max ${ms(Math.max(...lateness))}`);
    const stalls = [...worstOfSecond].filter(([, late]) => late > 100).map(([second, late]) => `+${(second - windowStart) / 1000} s: ${late} ms`);
    context.log(`  seconds with a run recorded over 100 ms late: ${stalls.length} of ${worstOfSecond.size}${stalls.length ? ` (${stalls.join(', ')})` : ''}`);
    context.log(`  ${claimLateness.length} ticks claimed; lateness at the claim p50 ${ms(percentile(claimLateness, 50))} p99 ${ms(claimP99)} max ${ms(Math.max(...claimLateness))}`);
    context.log(`  baseline ${baselineFired.length} ticks; lateness at the call-back p50 ${ms(percentile(baselineFired, 50))} p99 ${ms(baseFiredP99)}; once spawned p50 ${ms(percentile(baselineSpawned, 50))} p99 ${ms(baseP99)}`);
    // CRON_OPS_KEEP_TICK_TRACE=FILE keeps the raw trace for a closer look.
    if (process.env.CRON_OPS_KEEP_TICK_TRACE && existsSync(traceFile)) copyFileSync(traceFile, process.env.CRON_OPS_KEEP_TICK_TRACE);
    const trace = readTickTrace(traceFile, windowStart, windowEnd);
    for (const line of trace?.lines ?? ['  no tick trace']) context.log(line);
    context.log(`  timers alone (croner, call-backs doing nothing) ${timerFired.length} ticks; wake-up lateness p50 ${ms(percentile(timerFired, 50))} p99 ${ms(percentile(timerFired, 99))}`);
    context.log(`  CPU between ticks ${idle.toFixed(2)} % (baseline ${baseIdle.toFixed(2)} %); over the whole window ${busy.toFixed(1)} % (baseline ${baseBusy.toFixed(1)} %)`);
    const missed = expected - ticks.size;
    return [
      {
        figure: '5',
        what: `tick lateness as recorded (started_at), p99 (p50), ${CRONS} crons "S * * * * *", ~${Math.round(CRONS / 60)} runs/s for ${WINDOW_S} s, ${load}`,
        value: `${ms(p99)} (${ms(percentile(lateness, 50))}); ${ticks.size}/${expected} ticks ran${missed ? `, ${missed} missed` : ''}`,
        baseline: `croner + spawn alone, once spawned ${ms(baseP99)} (${ms(percentile(baselineSpawned, 50))}), ${baselineFired.length}/${expected} ticks`,
        ratio: ratio(p99, baseP99),
        goal: 'p99 ≤ 50 ms',
        met: p99 <= 50 && missed === 0,
        note: 'bounded for a 2-core machine: each cron fires once a minute at its own second, about 17 runs of /bin/true a second, rather than 1,000 a second',
      },
      {
        figure: '5',
        what: `tick lateness where it fires (the tick's claim, its first write), p99 (p50), same run`,
        value: `${ms(claimP99)} (${ms(percentile(claimLateness, 50))}); ${claimLateness.length} ticks`,
        baseline: `croner's call-back alone ${ms(baseFiredP99)} (${ms(percentile(baselineFired, 50))})`,
        ratio: ratio(claimP99, baseFiredP99),
        goal: 'p99 ≤ 50 ms',
        met: claimP99 <= 50,
      },
      {
        figure: '5',
        what: `tick lateness once handed to the runner (spawn requested), p99 (p50), same run, from the server's tick trace`,
        value: trace && trace.ticks > 0 ? `${ms(trace.launched.p99)} (${ms(trace.launched.p50)}); ${trace.ticks} ticks` : 'no trace',
        baseline: `croner + spawn alone, once spawned ${ms(baseP99)} (${ms(percentile(baselineSpawned, 50))})`,
        ratio: trace ? ratio(trace.launched.p99, baseP99) : 'n/a',
        goal: '—',
      },
      {
        figure: '5',
        what: `the machine's share: a bare timer's wake-up lateness at the same instants (croner, call-backs doing nothing), p99 (p50), same run`,
        value: `${ms(percentile(timerFired, 99))} (${ms(percentile(timerFired, 50))}); ${timerFired.length} ticks`,
        baseline: '—',
        ratio: '—',
        goal: '—',
      },
      {
        figure: '5',
        what: `server CPU between ticks (+500..+950 ms of each second); whole window in brackets`,
        value: `${idle.toFixed(2)} % (${busy.toFixed(1)} %)`,
        baseline: `croner alone ${baseIdle.toFixed(2)} % (${baseBusy.toFixed(1)} %)`,
        ratio: ratio(idle, baseIdle),
        goal: '≤ 5 % (issue 10)',
        met: idle <= 5,
      },
    ];
  },
};
