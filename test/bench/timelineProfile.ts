// A focused look at the 7-day timeline in process (no HTTP): its time per call on a seeded SQLite file.
// `node out/test/bench/timelineProfile.js FOLDER [COUNT]` seeds FOLDER once (when it holds no store yet).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openSqlite, SQLITE_FILE } from '../../src/server/store/db';
import { ExecutionStore } from '../../src/server/store/executionStore';
import { seedSqliteFolder } from './seed';
import { percentile } from './support';

const silent = { info() {}, warn() {}, error() {}, debug() {} };

async function main(): Promise<void> {
  const folder = process.argv[2];
  const count = Number(process.argv[3] ?? 200_000);
  if (!existsSync(join(folder, SQLITE_FILE))) await seedSqliteFolder(folder, { count, days: 7, running: 2, logLines: 0 });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a silent logger of the server's shape
  const db = await openSqlite({ file: join(folder, SQLITE_FILE), log: silent as any });
  const store = new ExecutionStore(db, () => undefined);
  for (const [label, query] of [['7 days', { days: 7 }], ['an hour', { from: new Date(Date.now() - 3 * 86_400_000).toISOString(), to: new Date(Date.now() - 3 * 86_400_000 + 3_600_000).toISOString() }]] as const) {
    const times: number[] = [];
    const cpu: number[] = [];
    // The longest the loop waited: what one request blocks it for (plus the wait for a CPU on a loaded machine).
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    for (let i = 0; i < 25; i++) {
      const started = performance.now();
      const cpuBefore = process.cpuUsage();
      await store.timeline(query);
      const used = process.cpuUsage(cpuBefore);
      cpu.push((used.user + used.system) / 1000);
      times.push(performance.now() - started);
    }
    delay.disable();
    const p = (values: number[], at: number) => percentile(values, at).toFixed(1);
    console.log(`${label}: p50 ${p(times, 50)} ms, p95 ${p(times, 95)} ms; CPU p50 ${p(cpu, 50)} ms; loop delay p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms`);
  }
  await db.close();
}

void main();
