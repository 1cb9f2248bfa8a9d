// The data folder has one owner: a server takes an exclusive lock (a PID file created with O_EXCL; a lock
// whose process is gone is taken over), and the folder is kept private (0700, files 0600). A folder other
// users can write is refused: they could replace the store under the server.
import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export class FolderError extends Error {}

/** Another live process holds the lock. */
export class InUseError extends FolderError {
  constructor(
    readonly pid: number,
    message: string,
  ) {
    super(message);
  }
}

/** Creates the folder private (0700), or checks an existing one: refused if others can write it. */
export function prepareDataFolder(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = statSync(dir);
  if (!stat.isDirectory()) throw new FolderError(`${dir} is not a folder: pass --data a folder of its own.`);
  if ((stat.mode & 0o022) !== 0) {
    throw new FolderError(
      `The data folder ${dir} can be written by other users (mode ${(stat.mode & 0o777).toString(8)}): they could replace the store. Run \`chmod 700 ${dir}\` (or pass another --data) and start again.`,
    );
  }
  if ((stat.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** Files 0600 and folders 0700 under `dir` (what the store created with the default umask). */
export function tightenPermissions(dir: string): void {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) continue;
    if (stat.isDirectory()) {
      if ((stat.mode & 0o077) !== 0) chmodSync(path, 0o700);
      tightenPermissions(path);
    } else if ((stat.mode & 0o077) !== 0) chmodSync(path, 0o600);
  }
}

/**
 * Whether a process id is alive (signal 0; EPERM means it exists under another user). A zombie is not: a
 * server killed with -9 answers signal 0 until its parent reaps it, and a restart right after must go on.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}

/** Linux: state Z (zombie) or X (dead) in /proc/PID/stat; elsewhere never known, so never. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The name (2nd field) is in parentheses and may hold spaces: the state follows its closing one.
    return /^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

export interface Lock {
  readonly path: string;
  release(): void;
}

/** The PID holding the lock at `path`, if a live process does (its own PID excluded). */
export function lockHolder(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim().split(/\s+/)[0]);
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid) ? pid : undefined;
}

/**
 * Takes the lock at `path` for this process, or throws InUseError naming the live holder. A lock left by
 * a process that died (kill -9) is taken over. Released at exit.
 */
export function acquireLock(path: string, what: string, advice = 'stop it, or pass another --data'): Lock {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        try {
          if (readFileSync(path, 'utf8').trim().split(/\s+/)[0] === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
      process.once('exit', release);
      return { path, release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = lockHolder(path);
      if (holder !== undefined) throw new InUseError(holder, `${what} is in use by PID ${holder} (another cron-ops-server): ${advice}.`);
      try {
        unlinkSync(path); // left by a process that is gone
      } catch (unlinkError) {
        if ((unlinkError as NodeJS.ErrnoException).code !== 'ENOENT') throw new FolderError(`Cannot take over the stale lock ${path}: ${(unlinkError as Error).message}`);
      }
    }
  }
  throw new FolderError(`Cannot take the lock ${path}: another process keeps taking it.`);
}

export const LOCK_FILE = 'cron-ops.lock';
export const CONTROL_SOCKET = 'control.sock';
