// The embedded store's WAL is checkpointed by a worker thread, not inside the server's commits: a real SQLite
// file written in bursts, as the scheduler writes (a burst each second, then a pause).
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createLogger } from '../../../src/server/logger';
import { openSqlite, WAL_SIZE_LIMIT_BYTES, type Db } from '../../../src/server/store/db';
import { WRITES_PER_CHECKPOINT } from '../../../src/server/store/walCheckpointer';

describe('store WAL checkpoints (SQLite file)', () => {
  let dir: string;
  let db: Db | undefined;
  const lines: string[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cron-ops-wal-'));
    lines.length = 0;
  });

  afterEach(async () => {
    await db?.close();
    db = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Resolves once a checkpoint that copied the whole WAL is reported after `since` lines (bounded). */
  async function completeCheckpointAfter(since: number): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const done = lines.slice(since).some((line) => {
        const match = /Store checkpoint .*"log":(\d+),"checkpointed":(\d+)/.exec(line);
        return match !== null && match[1] === match[2];
      });
      if (done) return;
      if (Date.now() > deadline) throw new Error(`no complete checkpoint reported:\n${lines.slice(since).join('\n')}`);
      await new Promise((resolveLater) => setTimeout(resolveLater, 50));
    }
  }

  it('bursts of writes leave the WAL bounded (it starts over once copied), every row kept, and the writer never checkpoints itself', async () => {
    const file = join(dir, 'store.db');
    db = await openSqlite({ file, log: createLogger({ level: 'debug', write: (line) => lines.push(line) }) });
    await sql`CREATE TABLE burst (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`.execute(db.q);
    const autoCheckpoint = await sql<{ wal_autocheckpoint: number }>`PRAGMA wal_autocheckpoint`.execute(db.q);
    assert.equal(autoCheckpoint.rows[0].wal_autocheckpoint, 0, 'the writer leaves checkpoints to the worker');
    const burst = async () => {
      for (let row = 0; row < WRITES_PER_CHECKPOINT * 3; row++) await sql`INSERT INTO burst (body) VALUES (${'x'.repeat(400)})`.execute(db!.q);
    };
    const since = lines.length;
    await burst();
    await completeCheckpointAfter(since);
    const walAfterFirst = statSync(`${file}-wal`).size;
    for (let round = 0; round < 4; round++) {
      const before = lines.length;
      await burst();
      await completeCheckpointAfter(before);
    }
    const walAtEnd = statSync(`${file}-wal`).size;
    assert.ok(walAtEnd <= walAfterFirst * 1.5, `the WAL grew from ${walAfterFirst} to ${walAtEnd} bytes over 5 bursts: it is not starting over`);
    const count = await sql<{ n: number }>`SELECT count(*) AS n FROM burst`.execute(db.q);
    assert.equal(count.rows[0].n, WRITES_PER_CHECKPOINT * 3 * 5);
    await db.close();
    db = undefined;
    // The last connection's close copies the rest and removes the WAL, as before.
    assert.throws(() => statSync(`${file}-wal`), /ENOENT/);
  });

  it('a WAL grown past the limit by a backlog is cut back once it starts over', async () => {
    const file = join(dir, 'store.db');
    db = await openSqlite({ file, log: createLogger({ level: 'debug', write: (line) => lines.push(line) }) });
    await sql`CREATE TABLE burst (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`.execute(db.q);
    // One write of a backlog's size (the server catching up after a lock): the WAL grows past the limit.
    const rows = Math.ceil((WAL_SIZE_LIMIT_BYTES * 1.5) / 4000);
    await db.transaction(async (tx) => {
      for (let row = 0; row < rows; row++) await sql`INSERT INTO burst (body) VALUES (${'y'.repeat(4000)})`.execute(tx);
    });
    assert.ok(statSync(`${file}-wal`).size > WAL_SIZE_LIMIT_BYTES, 'the backlog grew the WAL past the limit');
    // Writes go on; once a checkpoint copied everything, the next write starts the WAL over and cuts it.
    const deadline = Date.now() + 30_000;
    while (statSync(`${file}-wal`).size > WAL_SIZE_LIMIT_BYTES) {
      if (Date.now() > deadline) throw new Error(`the WAL is still ${statSync(`${file}-wal`).size} bytes:\n${lines.join('\n')}`);
      for (let row = 0; row < WRITES_PER_CHECKPOINT; row++) await sql`INSERT INTO burst (body) VALUES ('z')`.execute(db.q);
      await new Promise((resolveLater) => setTimeout(resolveLater, 100));
    }
    const count = await sql<{ n: number }>`SELECT count(*) AS n FROM burst WHERE body <> 'z'`.execute(db.q);
    assert.equal(count.rows[0].n, rows, 'every row of the backlog kept');
  });
});
