// Figure 3: GET /api/admin/cron-executions/stats with 1,000,000 executions in the store, against the raw
// SQL of the same query (the store's own counts24h() statement) run in this process on the same data:
// a copy of the embedded data folder opened with SQLite, or the same PostgreSQL database through pg.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/server/logger';
import { openPostgres, openSqlite, SQLITE_FILE, type Db } from '../../src/server/store/db';
import { ExecutionStore } from '../../src/server/store/executionStore';
import { databaseFor } from '../support/postgres';
import { startServer, writeConfig } from '../support/serverProcess';
import { demoConfig, seedPostgres, seedSqliteFolder } from './seed';
import { api, ms, percentile, ratio, removeLater, stopLater, type BenchContext, type Benchmark, type FigureRow } from './support';

const EXECUTIONS = 1_000_000;
// The default retention keeps 7 days: a store holding a million executions holds them within a week.
const DAYS = 7;
const SAMPLES = 50;
const WARMUP = 5;

async function compare(context: BenchContext, label: string, serverUrl: string, db: Db, goalMs: number): Promise<FigureRow> {
  const store = new ExecutionStore(db, () => undefined);
  const viaApi: number[] = [];
  const raw: number[] = [];
  for (let index = 0; index < WARMUP + SAMPLES; index++) {
    let t0 = performance.now();
    const reply = await api<{ executions24h: number }>(serverUrl, '/api/admin/cron-executions/stats');
    const apiMs = performance.now() - t0;
    if (reply.status !== 200) throw new Error(`/stats answered ${reply.status}`);
    t0 = performance.now();
    const counts = await store.counts24h();
    const rawMs = performance.now() - t0;
    if (index === 0) context.log(`  ${label}: /stats ${JSON.stringify(reply.body)}; raw ${JSON.stringify(counts)}`);
    if (index < WARMUP) continue;
    viaApi.push(apiMs);
    raw.push(rawMs);
  }
  const p50 = percentile(viaApi, 50);
  const rawP50 = percentile(raw, 50);
  context.log(`  ${label}: /stats p50 ${ms(p50)} p99 ${ms(percentile(viaApi, 99))}; raw SQL p50 ${ms(rawP50)} p99 ${ms(percentile(raw, 99))}`);
  return {
    figure: '3',
    what: `/stats with 1,000,000 executions (${DAYS} days), ${label}, p50`,
    value: ms(p50),
    baseline: `raw SQL ${ms(rawP50)}`,
    ratio: ratio(p50, rawP50),
    goal: `p50 ≤ ${goalMs} ms, ratio ≤ 1.5`,
    met: p50 <= goalMs && p50 / rawP50 <= 1.5,
  };
}

async function embedded(context: BenchContext): Promise<FigureRow> {
  const dataDir = removeLater(context, mkdtempSync(join(tmpdir(), 'cron-ops-bench-stats-')));
  const seeded = await seedSqliteFolder(join(dataDir, 'server'), { count: EXECUTIONS, days: DAYS, running: 2 });
  context.log(`  embedded: seeded ${seeded.inserted} executions in ${(seeded.ms / 1000).toFixed(1)} s`);
  cpSync(join(dataDir, 'server'), join(dataDir, 'copy'), { recursive: true });
  const server = stopLater(context, await startServer({ config: writeConfig(demoConfig()), args: ['--data', join(dataDir, 'server')], timeoutMs: 120_000 }));
  const db = await openSqlite({ file: join(dataDir, 'copy', SQLITE_FILE), log: createLogger({ level: 'error' }) });
  try {
    return await compare(context, 'embedded (SQLite)', server.url, db, 50);
  } finally {
    await db.close();
    await server.stop();
  }
}

async function postgres(context: BenchContext): Promise<FigureRow> {
  const pgServer = await context.postgres();
  const url = await databaseFor(pgServer.baseUrl, removeLater(context, mkdtempSync(join(tmpdir(), 'cron-ops-bench-stats-pg-'))));
  const seeded = await seedPostgres(url, { count: EXECUTIONS, days: DAYS, running: 2 });
  context.log(`  PostgreSQL: seeded ${seeded.inserted} executions in ${(seeded.ms / 1000).toFixed(1)} s`);
  const server = stopLater(context, await startServer({ config: writeConfig(demoConfig()), env: { DATABASE_URL: url } }));
  const db = await openPostgres({ url, log: createLogger({ level: 'error' }), poolSize: 1 });
  try {
    return await compare(context, 'PostgreSQL 15', server.url, db, 20);
  } finally {
    await db.close();
    await server.stop();
  }
}

export const stats: Benchmark = {
  name: 'stats',
  title: 'Figure 3: KPIs (/stats) at 1,000,000 executions',
  async run(context) {
    return [await embedded(context), await postgres(context)];
  },
};
