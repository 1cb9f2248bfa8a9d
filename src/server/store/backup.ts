// A consistent copy of the embedded store while a server writes to it: SQLite's online backup, from a
// connection of its own, copying a few pages at a time so the server's writes go on meanwhile.
import { existsSync, renameSync, rmSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';

/** Copies `source` (a SQLite file) to `target`; resolves with the number of pages copied. */
export async function backupSqlite(source: string, target: string): Promise<number> {
  if (!existsSync(source)) throw new Error(`No store at ${source}: pass the server's --data folder.`);
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
