// Footprint (issue 10; figure 7 of issue 6): the backend's resident memory when idle with the embedded
// store (SQLite) and the seven demo crons, on its first start (a new data folder: the schema is created)
// and after a restart on that folder. Baselines: Node with better-sqlite3 opened on a store file the same
// two ways, and Node alone.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startServer, writeConfig } from '../support/serverProcess';
import { demoConfig } from './seed';
import { removeLater, rssKb, sleep, stopLater, type BenchContext, type Benchmark, type FigureRow } from './support';

const IDLE_MS = 10_000;

/** Starts rssBaseline.js (Node, with SQLite on `dataDir` if given), waits until ready; its RSS in MB after `idleMs`. */
async function baselineRss(context: BenchContext, dataDir: string | undefined, idleMs: number): Promise<number> {
  const child = spawn(process.execPath, [join(__dirname, 'rssBaseline.js'), ...(dataDir ? [dataDir] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  context.onCleanup(() => child.kill('SIGKILL'));
  await new Promise<void>((resolveReady, reject) => {
    createInterface({ input: child.stdout! }).once('line', () => resolveReady());
    child.once('exit', () => reject(new Error('the RSS baseline exited')));
  });
  await sleep(idleMs);
  const mb = rssKb(child.pid!) / 1024;
  child.kill('SIGKILL');
  return mb;
}

async function serverRss(context: BenchContext, configPath: string, dataDir: string): Promise<number> {
  const server = stopLater(context, await startServer({ config: configPath, args: ['--data', dataDir], timeoutMs: 120_000 }));
  await sleep(IDLE_MS);
  const mb = rssKb(server.child.pid!) / 1024;
  await server.stop();
  return mb;
}

export const idleRss: Benchmark = {
  name: 'rss',
  title: 'Figure 7 (server): idle RSS with the embedded store',
  async run(context) {
    const dir = removeLater(context, mkdtempSync(join(tmpdir(), 'cron-ops-bench-rss-')));
    const configPath = writeConfig(demoConfig());
    const firstStart = await serverRss(context, configPath, join(dir, 'server'));
    const restart = await serverRss(context, configPath, join(dir, 'server'));
    const sqliteNew = await baselineRss(context, join(dir, 'sqlite'), 2000);
    const sqliteReopened = await baselineRss(context, join(dir, 'sqlite'), 2000);
    const nodeAlone = await baselineRss(context, undefined, 2000);
    context.log(`  server: first start ${firstStart.toFixed(0)} MB, restart ${restart.toFixed(0)} MB; Node + SQLite: new file ${sqliteNew.toFixed(0)} MB, reopened ${sqliteReopened.toFixed(0)} MB; Node alone ${nodeAlone.toFixed(0)} MB`);
    const row = (what: string, value: number, baseline: number, baselineWhat: string): FigureRow => ({
      figure: '7',
      what: `server idle RSS, embedded store, demo crons, ${what}, after ${IDLE_MS / 1000} s`,
      value: `${value.toFixed(0)} MB`,
      baseline: `${baselineWhat} ${baseline.toFixed(0)} MB (Node alone ${nodeAlone.toFixed(0)} MB)`,
      ratio: `${(value / baseline).toFixed(2)}×`,
      goal: '≤ 100 MB',
      met: value <= 100,
    });
    return [
      row('first start (new data folder)', firstStart, sqliteNew, 'Node + SQLite on a new file'),
      row('restarted on its folder', restart, sqliteReopened, 'Node + SQLite reopening its file'),
    ];
  },
};
