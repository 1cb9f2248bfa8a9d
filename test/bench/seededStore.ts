// The benchmarks' seeded stores, kept between runs when CRON_OPS_BENCH_SEEDED=DIR is set: seeding ten
// million runs takes 30–45 minutes on a loaded machine, reading them a few. Each store and execution count
// has its own folder in DIR (`sqlite-1000000`, `postgres-10000000`, …), seeded on first use and marked
// done (a `.seeded` file with the time) only once the seeding finished, so an interrupted seeding starts over.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SQLITE_FILE } from '../../src/server/store/db';
import { databaseFor, startPostgres } from '../support/postgres';
import { seedPostgres, seedSqliteFolder, type SeedOptions } from './seed';
import type { BenchContext } from './support';

/** The history the read benchmarks seed (one kept store serves them all): `count` runs over 7 days. */
export function benchHistory(count: number): SeedOptions {
  return { count, days: 7, running: 2, logLines: 10_000 };
}

/** The folder that keeps seeded stores between runs, if any. */
export function seededDir(): string | undefined {
  return process.env.CRON_OPS_BENCH_SEEDED || undefined;
}

function keptFolder(root: string, store: 'sqlite' | 'postgres', count: number): string {
  return join(root, `${store}-${count}`);
}

const MARKER = '.seeded';

function seededAt(folder: string): string | undefined {
  const marker = join(folder, MARKER);
  return existsSync(marker) ? readFileSync(marker, 'utf8') : undefined;
}

function markSeeded(folder: string): void {
  writeFileSync(join(folder, MARKER), new Date().toISOString());
}

/**
 * `dataDir` gets an embedded store with the history: seeded there, or copied from the kept one (seeded there
 * once). A copy, because the server under test writes to its store (its own crons run): every run starts
 * from the same history.
 */
export async function seededSqlite(context: BenchContext, dataDir: string, options: SeedOptions): Promise<void> {
  const root = seededDir();
  const seed = async (into: string) => {
    const seeded = await seedSqliteFolder(into, { ...options, onProgress: (n) => n % 1_000_000 === 0 && context.log(`  SQLite: ${n.toLocaleString('en')} rows`) });
    context.log(`  SQLite: seeded ${seeded.inserted.toLocaleString('en')} executions in ${(seeded.ms / 1000).toFixed(1)} s`);
  };
  if (!root) return seed(dataDir);
  const kept = keptFolder(root, 'sqlite', options.count);
  if (!seededAt(kept)) {
    rmSync(kept, { recursive: true, force: true });
    mkdirSync(kept, { recursive: true });
    await seed(kept);
    markSeeded(kept);
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  copyFileSync(join(kept, SQLITE_FILE), join(dataDir, SQLITE_FILE));
  context.log(`  SQLite: copied the store seeded at ${seededAt(kept)} from ${kept}`);
}

/**
 * A PostgreSQL database with the history, its URL. Without CRON_OPS_BENCH_SEEDED: a database in the
 * benchmark's own cluster (context.postgres()), seeded now. With it: a cluster kept in its folder, started
 * for this run and stopped (data kept) in the benchmark's cleanup, seeded once. That database is read in
 * place (copying gigabytes per run would cost what seeding does): the server under test adds its demo crons'
 * few runs to it. A run killed before its cleanup leaves the cluster running: stop it with
 * `pg_ctl -D DIR/postgres-COUNT/data stop` (as the postgres user) before the next run.
 */
export async function seededPostgres(context: BenchContext, key: string, options: SeedOptions): Promise<string> {
  const root = seededDir();
  const seed = async (url: string) => {
    const seeded = await seedPostgres(url, { ...options, onProgress: (n) => n % 1_000_000 === 0 && context.log(`  PostgreSQL: ${n.toLocaleString('en')} rows`) });
    context.log(`  PostgreSQL: seeded ${seeded.inserted.toLocaleString('en')} executions in ${(seeded.ms / 1000).toFixed(1)} s`);
  };
  if (!root) {
    const url = await databaseFor((await context.postgres()).baseUrl, key);
    await seed(url);
    return url;
  }
  const kept = keptFolder(root, 'postgres', options.count);
  const fresh = !seededAt(kept);
  if (fresh) rmSync(kept, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const server = await startPostgres({ dir: kept });
  context.onCleanup(() => server.pause());
  const url = await databaseFor(server.baseUrl, 'seeded');
  if (fresh) {
    await seed(url);
    markSeeded(kept);
  } else {
    context.log(`  PostgreSQL: the cluster seeded at ${seededAt(kept)} in ${kept}`);
  }
  return url;
}
