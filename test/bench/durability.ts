// Issue 10, data safety: what synchronous=NORMAL (the store's setting) saves over FULL. The store's own
// code (ExecutionStore: the insert of a run, then its end) on a SQLite file in WAL mode, one mode then the
// other; figure: execution lifecycles recorded per second. Baseline: the same with synchronous=FULL.
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/server/logger';
import { openSqlite, SQLITE_FILE } from '../../src/server/store/db';
import { ExecutionStore } from '../../src/server/store/executionStore';
import { migrate } from '../../src/server/store/migrations';
import { removeLater, type BenchContext, type Benchmark } from './support';

const LIFECYCLES = 1000;

async function lifecyclesPerSecond(context: BenchContext, synchronous: 'NORMAL' | 'FULL'): Promise<number> {
  const dir = removeLater(context, mkdtempSync(join(tmpdir(), 'cron-ops-bench-sync-')));
  const db = await openSqlite({ file: join(dir, SQLITE_FILE), log: createLogger({ level: 'error' }) });
  try {
    await migrate(db);
    await db.execScript(`PRAGMA synchronous = ${synchronous};`);
    const store = new ExecutionStore(db, () => undefined);
    const started = performance.now();
    for (let index = 0; index < LIFECYCLES; index++) {
      const id = randomUUID();
      await store.startUnguarded({ id, cronName: `cron-${index % 50}`, triggerType: 'scheduled', triggeredBy: 'scheduler', params: {}, runnerId: 'bench' });
      await store.finish(id, { status: 'completed', exitCode: 0 });
    }
    return LIFECYCLES / ((performance.now() - started) / 1000);
  } finally {
    await db.close();
  }
}

export const durability: Benchmark = {
  name: 'durability',
  title: 'Issue 10: SQLite synchronous=NORMAL against FULL (execution lifecycles per second, store code)',
  async run(context) {
    const full = await lifecyclesPerSecond(context, 'FULL');
    const normal = await lifecyclesPerSecond(context, 'NORMAL');
    const fullAgain = await lifecyclesPerSecond(context, 'FULL');
    const baseline = (full + fullAgain) / 2;
    context.log(`  NORMAL ${normal.toFixed(0)}/s; FULL ${full.toFixed(0)}/s and ${fullAgain.toFixed(0)}/s`);
    return [
      {
        figure: '10',
        what: `execution lifecycles per second (insert + end, ${LIFECYCLES} in a row), SQLite WAL, synchronous=NORMAL`,
        value: `${normal.toFixed(0)}/s`,
        baseline: `synchronous=FULL ${baseline.toFixed(0)}/s`,
        ratio: `${(normal / baseline).toFixed(2)}×`,
        goal: '(justifies the setting: a kill -9 loses nothing with either; see Data safety)',
      },
    ];
  },
};
