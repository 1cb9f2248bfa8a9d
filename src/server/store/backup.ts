// A consistent copy of the embedded store while a server writes to it: SQLite's online backup, from a
// connection of its own, copying a few pages at a time so the server's writes go on meanwhile.
import { existsSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

/** The store's own files: a backup written over one of them would replace the live store under the server. */
const STORE_SUFFIXES = ['', '-wal', '-shm', '-journal'];

function realTarget(target: string): string {
  const folder = dirname(target);
  if (!existsSync(folder)) throw new Error(`Cannot write ${target}: the folder ${folder} does not exist. Create it, or pick another file.`);
  return join(realpathSync(folder), basename(target));
}

/** Copies `source` (a SQLite file) to `target`; resolves with the number of pages copied. */
export async function backupSqlite(source: string, target: string): Promise<number> {
  if (!existsSync(source)) throw new Error(`No store at ${source}: pass the server's --data folder.`);
  const real = realTarget(target);
  const live = realpathSync(source);
  if (STORE_SUFFIXES.some((suffix) => real === live + suffix)) {
    throw new Error(`${target} is the live store itself: write the backup to a file outside the data folder, e.g. /var/backups/cron-ops-$(date +%F).db.`);
  }
  // Written beside the target first: a backup cut short never leaves a half copy under its name.
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  const db = new BetterSqlite3(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const { totalPages } = await db.backup(partial, { progress: () => 256 });
    renameSync(partial, target);
    return totalPages;
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  } finally {
    db.close();
  }
}
