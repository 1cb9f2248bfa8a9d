// The idle-RSS baseline, run as its own process: Node alone, or Node with SQLite (better-sqlite3) open on
// a data folder's store file (the floor the embedded store sets). Prints "ready" and idles until killed.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

async function main(): Promise<void> {
  const dataDir = process.argv[2];
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    const db = new BetterSqlite3(join(dataDir, 'cron-ops.db'));
    db.pragma('journal_mode = WAL');
    db.prepare('SELECT 1').get();
  }
  process.stdout.write('ready\n');
  setInterval(() => undefined, 60_000);
}

void main();
