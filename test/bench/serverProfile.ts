// Where the server's CPU goes under the throughput load (figure 6: 50 callers triggering /bin/true and
// waiting for its end): the server's main thread is profiled (cpuProfilePreload.ts), and its profile is summed up by self time per
// function and per source module (the bundle's `// src/…` module comments map a line to its module).
// `node out/test/bench/serverProfile.js [SECONDS] [--memory|--data] [--scheduler]` (default 15 s, in memory);
// prints the rate and the bare spawn baseline too. With --scheduler, the load is figure 5's instead: 1,000
// crons on "S * * * * *" (about 17 runs a second), no callers. Never asserts on time.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../support/serverProcess';
import { moduleOf, type CpuProfile } from './profileStretches';
import { cpuMs } from './support';
import { bareSpawnRate, runCallers } from './throughput';

function summarise(profile: CpuProfile): void {
  const sampleMs = new Map<number, number>();
  profile.samples.forEach((id, index) => sampleMs.set(id, (sampleMs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000));
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const ms = sampleMs.get(node.id) ?? 0;
    if (ms === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const module = url.endsWith('server.mjs') ? moduleOf(lineNumber) : url ? url.replace(/^.*\/node_modules\//, '') : functionName;
    const name = `${functionName || '(anonymous)'} ${module}${url.endsWith('server.mjs') ? `:${lineNumber + 1}` : ''}`;
    if (functionName === '(idle)') continue;
    total += ms;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    byModule.set(module, (byModule.get(module) ?? 0) + ms);
  }
  const top = (map: Map<string, number>, count: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, ms]) => `  ${ms.toFixed(0).padStart(7)} ms ${((ms / total) * 100).toFixed(1).padStart(5)} %  ${name}`)
      .join('\n');
  const wallMs = (profile.endTime - profile.startTime) / 1000;
  console.log(`main thread busy ${total.toFixed(0)} ms of ${wallMs.toFixed(0)} ms profiled (${((total / wallMs) * 100).toFixed(0)} %)`);
  console.log(`by module (self time):\n${top(byModule, 25)}`);
  console.log(`by function (self time):\n${top(byFunction, 40)}`);
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 15);
  const onFile = process.argv.includes('--data');
  const profileDir = mkdtempSync(join(tmpdir(), 'cron-ops-profile-'));
  console.log(`load average ${loadavg().map((value) => value.toFixed(1)).join(' ')}`);
  const scheduled = process.argv.includes('--scheduler');
  const bare = scheduled ? NaN : await bareSpawnRate();
  if (!scheduled) console.log(`bare spawn: ${bare.toFixed(0)}/s`);
  const crons = scheduled
    ? Array.from({ length: 1000 }, (_, index) => ({ name: `tick-${String(index).padStart(4, '0')}`, schedule: `${index % 60} * * * * *`, command: ['/bin/true'], estimatedDurationMs: 10, timeoutMs: 60_000 }))
    : Array.from({ length: 50 }, (_, index) => ({ name: `through-${String(index).padStart(2, '0')}`, schedule: '0 0 1 1 *', command: ['/bin/true'], estimatedDurationMs: 10, timeoutMs: 60_000 }));
  const server = await startServer({
    config: { crons, rateLimits: { perCronSeconds: 0, globalPerMinute: 0 } },
    args: onFile ? ['--data', join(profileDir, 'data')] : ['--memory'],
    env: { NODE_OPTIONS: `--require ${join(__dirname, 'cpuProfilePreload.js')}`, CRON_OPS_CPU_PROFILE: join(profileDir, 'server.cpuprofile') },
  });
  if (scheduled) {
    await new Promise((resolveLater) => setTimeout(resolveLater, seconds * 1000));
  } else {
    const cpuBefore = cpuMs(server.child.pid!);
    const result = await runCallers(server.url, crons.map((cron) => cron.name), seconds * 1000);
    const cpu = cpuMs(server.child.pid!) - cpuBefore;
    const rate = (result.accepted.length - result.timedOut) / result.elapsedS;
    console.log(`server: ${result.accepted.length} runs in ${result.elapsedS.toFixed(1)} s = ${rate.toFixed(0)}/s (${(rate / bare).toFixed(2)}× bare spawn); refused ${JSON.stringify(result.refused)}, ${result.timedOut} not finished`);
    // The profile's "busy" is wall time with JavaScript on the stack, the waits for a CPU inside a call
    // included (a loopback write that wakes the caller often gives the core away): its CPU, all threads, is this.
    console.log(`server CPU (all threads) while the callers ran: ${cpu} ms = ${(cpu / Math.max(1, result.accepted.length)).toFixed(1)} ms a run, ${((cpu / (result.elapsedS * 1000)) * 100).toFixed(0)} % of the wall time`);
  }
  console.log(`load average ${loadavg().map((value) => value.toFixed(1)).join(' ')}`);
  await server.stop(60_000);
  const files = readdirSync(profileDir).filter((file) => file.endsWith('.cpuprofile'));
  for (const file of files) {
    console.log(`\n${file}`);
    summarise(JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as CpuProfile);
  }
  console.log(`\nprofiles in ${profileDir}`);
}

void main();
