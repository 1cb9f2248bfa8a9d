// The script version of a command, kept while nothing it was read from changed: a run of unchanged scripts
// costs a stat of each path the version depends on, not the realpaths, reads and hashes of reading it again.
import { stat } from 'node:fs/promises';
import { scriptVersion, type ScriptVersion, type ScriptVersionLimits } from './scriptVersion';

/**
 * A file changed this recently is not trusted to be told apart by its times: a second change within the
 * file system's timestamp granularity (a few ms here; 1–2 s on some file systems) could leave them equal.
 * Such a version is read again at the next run, as git does with its "racily clean" entries.
 */
const RACY_MS = 3_000;

/** At most this many commands are kept (one per cron, usually). */
const MAX_ENTRIES = 1_000;

interface Entry {
  version: ScriptVersion;
  /** Each path the version depends on, with its identity when the version was read. */
  identities: Map<string, string>;
  /** Read with no change under way: the identities may stand for the version. */
  trusted: boolean;
}

/**
 * What a path is now: absent, a directory (device and inode: entries added beside the scripts, logs a job
 * writes, do not count), or a file (device, inode, size, modification and change times). A
 * replaced file (an editor's save, a rename, `git checkout`) has a new inode or change time.
 */
async function identity(path: string, racyFromMs: number): Promise<{ id: string; racy: boolean }> {
  try {
    // Times in ms as doubles keep sub-microsecond precision; BigInt stats cost more to take and compare.
    const info = await stat(path);
    if (info.isDirectory()) return { id: `d:${info.dev}:${info.ino}`, racy: false };
    return {
      id: `f:${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`,
      racy: info.mtimeMs >= racyFromMs || info.ctimeMs >= racyFromMs,
    };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { id: '-', racy: false };
    throw error;
  }
}

async function identities(paths: Iterable<string>, racyFromMs: number): Promise<{ ids: Map<string, string>; racy: boolean }> {
  const list = [...paths];
  const found = await Promise.all(list.map((path) => identity(path, racyFromMs)));
  return { ids: new Map(list.map((path, index) => [path, found[index].id])), racy: found.some((entry) => entry.racy) };
}

function same(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [path, id] of a) if (b.get(path) !== id) return false;
  return true;
}

export class ScriptVersionCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    /** Reads a version (scriptVersion.ts; a counting stand-in in tests). */
    private readonly read: typeof scriptVersion = scriptVersion,
    private readonly racyMs = RACY_MS,
  ) {}

  /**
   * The version `command` launches from `folder` (scriptVersion.ts), from the cache when every path it was
   * read from is as it was then. A version is trusted once read between two looks at its paths that found
   * them the same and none changed within RACY_MS: a change during the read is never taken for the version.
   */
  async version(command: readonly string[], folder: string, limits: ScriptVersionLimits): Promise<ScriptVersion> {
    const key = JSON.stringify([folder, command, limits.maxFileBytes, limits.maxFiles]);
    const known = this.entries.get(key);
    let before: Map<string, string> | undefined;
    if (known) {
      const now = await identities(known.identities.keys(), Infinity);
      if (known.trusted && same(now.ids, known.identities)) return copy(known.version);
      before = now.ids;
    }
    const startedMs = Date.now();
    const consulted = new Set<string>();
    const version = await this.read(command, folder, limits, (path) => consulted.add(path));
    const after = await identities(consulted, startedMs - this.racyMs);
    const trusted = before !== undefined && !after.racy && same(before, after.ids);
    this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { version, identities: after.ids, trusted });
    return copy(version);
  }
}

/** The caller's own copy: it may add notes. The files' contents are shared (Buffers, never written). */
function copy(version: ScriptVersion): ScriptVersion {
  return { ...version, files: version.files.map((file) => ({ ...file })), git: version.git && { ...version.git }, notes: [...version.notes] };
}
