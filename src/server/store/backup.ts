// A consistent copy of the embedded store while a server writes to it: SQLite's online backup, from a
// connection of its own, copying a few pages at a time so the server's writes go on meanwhile.
import { chmodSync, existsSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

/** Where the copy really lands: through a symlinked folder, or a symlink at the target itself. */
function realTarget(target: string): string {
  const folder = dirname(target);
  if (!existsSync(folder)) throw new Error(`Cannot write ${target}: the folder ${folder} does not exist. Create it, or pick another file.`);
  return existsSync(target) ? realpathSync(target) : join(realpathSync(folder), basename(target));
}

/** Copies `source` (a SQLite file) to `target`; resolves with the number of pages copied. */
export async function backupSqlite(source: string, target: string): Promise<number> {
  if (!existsSync(source)) throw new Error(`No store at ${source}: pass the server's --data folder.`);
  // Nothing in the data folder is a backup's place: the store, its WAL, the lock and the control socket
  // live there, and a copy written over one of them would break the running server.
  if (dirname(realTarget(target)) === dirname(realpathSync(source))) {
    throw new Error(`${target} is in the live store's data folder: write the backup to a file outside it, e.g. /var/backups/cron-ops-$(date +%F).db.`);
  }
  // Written beside the target first: a backup cut short never leaves a half copy under its name.
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  const db = new BetterSqlite3(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const { totalPages } = await db.backup(partial, { progress: () => 256 });
    // As private as the store it copies.
    chmodSync(partial, 0o600);
    renameSync(partial, target);
    return totalPages;
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  } finally {
    db.close();
  }
}
