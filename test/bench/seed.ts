// The benchmarks' shared generator: bulk-inserts a realistic history of the seven demo crons straight
// into the store (one INSERT ... SELECT per chunk, in the store's own SQL), on SQLite or PostgreSQL.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openPostgres, openSqlite, SQLITE_FILE, type Db } from '../../src/server/store/db';
import { migrate } from '../../src/server/store/migrations';
import { createLogger } from '../../src/server/logger';
import { LogStore } from '../../src/server/store/logStore';
import { durationClassSql } from '../../src/server/store/rollups';
import type { TestConfig } from '../support/serverProcess';

export interface DemoCron {
  name: string;
  description: string;
  schedule: string;
  estimatedDurationMs: number;
  /** Runs per day on its schedule: how often it shows up in the history. */
  runsPerDay: number;
}

// The guide's seven crons, with their schedules and estimated durations.
export const DEMO_CRONS: DemoCron[] = [
  { name: 'monitor-openai', description: 'Monitoring Budget OpenAI', schedule: '0 8 * * *', estimatedDurationMs: 5000, runsPerDay: 1 },
  { name: 'check-alerts', description: 'Vérification Alertes Système', schedule: '*/30 * * * *', estimatedDurationMs: 2000, runsPerDay: 48 },
  { name: 'refresh-mv-metadata', description: 'Rafraîchissement Vues Matérialisées', schedule: '0 */6 * * *', estimatedDurationMs: 8000, runsPerDay: 4 },
  { name: 'reanalyze-kb-failures', description: 'Réanalyse Échecs KB', schedule: '0 */4 * * *', estimatedDurationMs: 20000, runsPerDay: 6 },
  { name: 'index-kb-progressive', description: 'Indexation KB Progressive', schedule: '*/5 * * * *', estimatedDurationMs: 45000, runsPerDay: 288 },
  { name: 'acquisition-weekly', description: 'Acquisition Hebdomadaire', schedule: '0 2 * * 1', estimatedDurationMs: 30000, runsPerDay: 1 / 7 },
  { name: 'cleanup-executions', description: 'Nettoyage Anciennes Exécutions', schedule: '0 3 * * *', estimatedDurationMs: 1000, runsPerDay: 1 },
];

/** The demo crons as a server config whose commands do nothing (/bin/true), rate limits off. */
export function demoConfig(): TestConfig {
  return {
    crons: DEMO_CRONS.map((cron) => ({
      name: cron.name,
      description: cron.description,
      schedule: cron.schedule,
      timezone: 'Africa/Tunis',
      command: ['/bin/true'],
      estimatedDurationMs: cron.estimatedDurationMs,
      timeoutMs: cron.estimatedDurationMs * 4,
    })),
    rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
  };
}

export interface SeedOptions {
  /** Executions to insert. */
  count: number;
  /** Spread their start times over the last `days` days. */
  days: number;
  /** How many crons also get one execution still running (at most one per cron: the store's guard). */
  running?: number;
  /** Rows per INSERT statement. */
  chunk?: number;
  /** Log lines given to the newest completed execution (for the logs page). */
  logLines?: number;
  onProgress?: (inserted: number) => void;
}

export interface SeedResult {
  inserted: number;
  ms: number;
}

/** The cron ranges of the weighted pick, as SQL VALUES rows (name, estimate, low, high). */
function cronRanges(float: string): string {
  const total = DEMO_CRONS.reduce((sum, cron) => sum + cron.runsPerDay, 0);
  let low = 0;
  return DEMO_CRONS.map((cron, index) => {
    const high = index === DEMO_CRONS.length - 1 ? 1.000001 : low + cron.runsPerDay / total;
    const row = `('${cron.name}', ${cron.estimatedDurationMs}, ${low.toFixed(6)}${float}, ${high.toFixed(6)}${float})`;
    low = high;
    return row;
  }).join(', ');
}

/**
 * One statement per chunk, in the store's own SQL: every row draws its cron (weighted by how often it
 * runs), its status (~91 % completed, 7 % failed, 2 % cancelled), its trigger type, a duration around
 * the cron's estimate and a start time spread evenly over the period (`newest` to `oldest` fraction of
 * `days` before `nowMs`).
 */
function chunkSql(kind: Db['kind'], count: number, days: number, newest: number, oldest: number, nowMs: number): string {
  if (kind === 'postgres') {
    return `
    INSERT INTO cron_executions (id, cron_name, status, trigger_type, triggered_by, params, started_at, completed_at,
                                 duration_ms, exit_code, error_message, runner_id)
    SELECT gen_random_uuid(), c.name, s.status, t.trigger_type,
           CASE t.trigger_type WHEN 'scheduled' THEN 'scheduler' WHEN 'manual' THEN 'token:operator' ELSE 'machine:x-cron-secret' END,
           CASE WHEN c.name = 'index-kb-progressive' THEN '{"batchSize": 2}'::jsonb ELSE '{}'::jsonb END,
           x.ended - d.ms * interval '1 millisecond', x.ended, d.ms,
           CASE s.status WHEN 'completed' THEN 0 WHEN 'failed' THEN 1 ELSE NULL END,
           CASE s.status WHEN 'failed' THEN 'Exited with code 1: Error: upstream returned 503'
                         WHEN 'cancelled' THEN 'Cancelled by token:operator' ELSE NULL END,
           'bench-seed'
    FROM (SELECT g, random() AS pick, random() AS state, random() AS kind, random() AS spread,
                 to_timestamp(${nowMs}::float8 / 1000) - interval '5 seconds' - (${newest}::float8 + random() * (${oldest}::float8 - ${newest}::float8)) * ${days}::float8 * interval '1 day' AS ended
          FROM generate_series(1, ${count}) g ORDER BY ended) x
    JOIN (VALUES ${cronRanges('::float8')}) AS c (name, estimate, low, high) ON x.pick >= c.low AND x.pick < c.high
    CROSS JOIN LATERAL (SELECT CASE WHEN x.state < 0.91 THEN 'completed' WHEN x.state < 0.98 THEN 'failed' ELSE 'cancelled' END AS status) s
    CROSS JOIN LATERAL (SELECT CASE WHEN x.kind < 0.85 THEN 'scheduled' WHEN x.kind < 0.97 THEN 'manual' ELSE 'external' END AS trigger_type) t
    CROSS JOIN LATERAL (SELECT GREATEST(50, (c.estimate * (0.6 + 0.8 * x.spread)
                                 * CASE WHEN s.status = 'completed' THEN 1 ELSE 0.5 END)::int) AS ms) d`;
  }
  const uniform = '(random() / 18446744073709551616.0 + 0.5)';
  // MATERIALIZED: each row draws its random numbers once, however often the later steps read them.
  const iso = (ms: string) => `strftime('%Y-%m-%dT%H:%M:%fZ', (${ms}) / 1000.0, 'unixepoch')`;
  return `
    WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ${count}),
    x AS MATERIALIZED (SELECT ${uniform} AS pick, ${uniform} AS state, ${uniform} AS kind, ${uniform} AS spread,
                 ${nowMs} - 5000 - (${newest} + ${uniform} * (${oldest} - ${newest})) * ${days} * 86400000.0 AS ended_ms
          FROM g ORDER BY ended_ms),
    c(name, estimate, low, high) AS (VALUES ${cronRanges('')}),
    r AS (SELECT x.*, c.name, c.estimate,
                 CASE WHEN x.state < 0.91 THEN 'completed' WHEN x.state < 0.98 THEN 'failed' ELSE 'cancelled' END AS status,
                 CASE WHEN x.kind < 0.85 THEN 'scheduled' WHEN x.kind < 0.97 THEN 'manual' ELSE 'external' END AS trigger_type
          FROM x JOIN c ON x.pick >= c.low AND x.pick < c.high),
    d AS (SELECT r.*, max(50, CAST(r.estimate * (0.6 + 0.8 * r.spread) * CASE WHEN r.status = 'completed' THEN 1 ELSE 0.5 END AS integer)) AS ms FROM r)
    INSERT INTO cron_executions (id, cron_name, status, trigger_type, triggered_by, params, started_at, completed_at,
                                 duration_ms, exit_code, error_message, runner_id)
    SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
           name, status, trigger_type,
           CASE trigger_type WHEN 'scheduled' THEN 'scheduler' WHEN 'manual' THEN 'token:operator' ELSE 'machine:x-cron-secret' END,
           CASE WHEN name = 'index-kb-progressive' THEN '{"batchSize": 2}' ELSE '{}' END,
           ${iso('ended_ms - ms')}, ${iso('ended_ms')}, ms,
           CASE status WHEN 'completed' THEN 0 WHEN 'failed' THEN 1 ELSE NULL END,
           CASE status WHEN 'failed' THEN 'Exited with code 1: Error: upstream returned 503'
                       WHEN 'cancelled' THEN 'Cancelled by token:operator' ELSE NULL END,
           'bench-seed'
    FROM d ORDER BY ended_ms`;
}

/**
 * SQLite's row triggers would cost every seeded row three roll-up writes, a revision and a change record:
 * they are set aside while seeding, and the roll-ups rebuilt in one grouped statement after (as
 * PostgreSQL's statement triggers do on their own).
 */
async function withoutSqliteTriggers(db: Db, work: () => Promise<void>): Promise<void> {
  const { rows: triggers } = await sql<{ name: string; sql: string }>`SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cron_executions'`.execute(db.q);
  await db.execScript(triggers.map((trigger) => `DROP TRIGGER ${trigger.name};`).join('\n'));
  try {
    await work();
  } finally {
    await db.transaction(async () => {
      await db.execScript(`
        DELETE FROM cron_execution_rollups;
        INSERT INTO cron_execution_rollups (bucket_s, bucket_start, cron_name, status, duration_class, runs, max_duration_ms)
        SELECT l.s, strftime(l.fmt, x.started_at), x.cron_name, x.status, x.duration_class, count(*), COALESCE(max(x.duration_ms), 0)
        FROM (SELECT started_at, cron_name, status, duration_ms, ${durationClassSql('duration_ms')} AS duration_class FROM cron_executions) x,
          (SELECT 60 AS s, '%Y-%m-%dT%H:%M:00.000Z' AS fmt UNION ALL SELECT 3600, '%Y-%m-%dT%H:00:00.000Z' UNION ALL SELECT 86400, '%Y-%m-%dT00:00:00.000Z') l
        GROUP BY 1, 2, 3, 4, 5;
        -- The roll-ups changed without their triggers: the whole history's revision moves (timeline cache).
        INSERT INTO cron_rollup_revisions (hour_start, revision) VALUES ('1970-01-01T00:00:00.000Z', 1)
          ON CONFLICT (hour_start) DO UPDATE SET revision = revision + 1;
        ${triggers.map((trigger) => trigger.sql + ';').join('\n')}`);
    });
  }
}

/** Inserts the history into an open store whose schema is migrated; nothing else may write meanwhile. */
export async function seedExecutions(db: Db, options: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const chunk = options.chunk ?? 100_000;
  const nowMs = Date.now();
  // Oldest first and in time order within a chunk, as a real history is appended: rows of the same day
  // share pages, which is what the store's range scans see in production.
  const insertAll = async () => {
    let inserted = 0;
    while (inserted < options.count) {
      const size = Math.min(chunk, options.count - inserted);
      const newest = 1 - (inserted + size) / options.count;
      const oldest = 1 - inserted / options.count;
      await db.transaction(async (tx) => {
        await sql.raw(chunkSql(db.kind, size, options.days, newest, oldest, nowMs)).execute(tx);
      });
      inserted += size;
      options.onProgress?.(inserted);
    }
  };
  if (db.kind === 'sqlite') await withoutSqliteTriggers(db, insertAll);
  else await insertAll();
  // A few crons are running now, started within their estimate (one per cron at most: the store's guard).
  for (const cron of DEMO_CRONS.slice(0, Math.min(options.running ?? 0, DEMO_CRONS.length))) {
    await db.q
      .insertInto('cron_executions')
      .values({
        id: randomUUID(),
        cron_name: cron.name,
        status: 'running',
        trigger_type: 'scheduled',
        triggered_by: 'scheduler',
        params: '{}',
        started_at: new Date(Date.now() - Math.round(cron.estimatedDurationMs / 2)).toISOString(),
        runner_id: 'bench-seed',
      })
      .execute();
  }
  if (options.logLines) {
    const newest = await db.q.selectFrom('cron_executions').select('id').where('status', '=', 'completed').orderBy('started_at', 'desc').limit(1).executeTakeFirstOrThrow();
    const at = new Date().toISOString();
    await new LogStore(db).append(
      newest.id,
      Array.from({ length: options.logLines }, (_, index) => ({ seq: index + 1, at, stream: index % 10 === 9 ? ('stderr' as const) : ('stdout' as const), line: `Indexed kb-doc-${index + 1} (batch ${Math.floor(index / 50) + 1}): 1,234 chunks, 42 ms` })),
    );
  }
  if (db.kind === 'sqlite') await sql`DELETE FROM cron_changes`.execute(db.q);
  return { inserted: options.count + Math.min(options.running ?? 0, DEMO_CRONS.length), ms: performance.now() - started };
}

/**
 * Creates (or extends) an embedded store in `dataDir` with the server's own migrations and the history:
 * run it before the server starts on that folder.
 */
const silentLogger = createLogger({ write: () => undefined });

export async function seedSqliteFolder(dataDir: string, options: SeedOptions): Promise<SeedResult> {
  const db = await openSqlite({ file: join(dataDir, SQLITE_FILE), log: silentLogger });
  try {
    await migrate(db);
    return await seedExecutions(db, options);
  } finally {
    await db.close();
  }
}

/** Migrates and seeds a PostgreSQL database directly (the server may start on it afterwards). */
export async function seedPostgres(url: string, options: SeedOptions & { analyze?: boolean }): Promise<SeedResult> {
  const db = await openPostgres({ url, log: silentLogger, poolSize: 2, statementTimeoutMs: 0 });
  try {
    await migrate(db);
    const result = await seedExecutions(db, options);
    // What autovacuum would do on its own a moment later on a real server (the log lines too: without their
    // statistics the planner sorted a whole 10,000-line log for each page of 1,000).
    if (options.analyze !== false) await sql`VACUUM ANALYZE cron_executions, cron_execution_logs, cron_execution_rollups`.execute(db.q);
    return result;
  } finally {
    await db.close();
  }
}

/** Run directly: `node out/test/bench/seed.js DIR COUNT DAYS` seeds an embedded store folder. */
// (Checked by file name too: bundled into index.js, this module is the main module's code as well.)
if (require.main === module && /seed\.js$/.test(process.argv[1] ?? '')) {
  const [dir, count = '100000', days = '7'] = process.argv.slice(2);
  if (!dir) {
    process.stderr.write('usage: node out/test/bench/seed.js DATA_DIR [COUNT] [DAYS]\n');
    process.exit(2);
  }
  seedSqliteFolder(dir, { count: Number(count), days: Number(days), running: 2, onProgress: (n) => process.stdout.write(`  ${n} rows\n`) }).then(
    (result) => process.stdout.write(`seeded ${result.inserted} executions in ${(result.ms / 1000).toFixed(1)} s\n`),
    (error) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
}
