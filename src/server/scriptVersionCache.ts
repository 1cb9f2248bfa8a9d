// The script version of a command, kept while nothing it was read from changed: a run of unchanged scripts
// costs a stat of each path the version depends on, not the realpaths, reads and hashes of reading it again.
// Those stats are synchronous when every path is on a local disk: under 50 runs a second the same stats
// through libuv's thread pool took ~7 % of the server's main thread and ~100 ms of each run's start (the
// pool's queue), against microseconds. On a network or FUSE file system, which may hang, they stay
// asynchronous and bounded by the recorder's time limit.
import { statSync, type Stats } from 'node:fs';
import { stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
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
  /** Every path is on a local file system: checked with synchronous stats. */
  local: boolean;
}

/**
 * File systems (statfs f_type) on local storage, where a stat answers in microseconds or the machine has
 * worse problems: ext2/3/4, XFS, Btrfs, tmpfs, overlayfs (containers), ZFS, F2FS, ramfs, squashfs.
 */
const LOCAL_FILE_SYSTEMS = new Set([0xef53, 0x58465342, 0x9123683e, 0x01021994, 0x794c7630, 0x2fc12fc1, 0xf2f52010, 0x858458f6, 0x73717368]);

/** Whether the folder holding each path (or its nearest existing parent) is on a local file system. */
async function allLocal(paths: Iterable<string>): Promise<boolean> {
  const folders = new Set([...paths].map((path) => dirname(path)));
  for (const folder of folders) {
    let type: number | undefined;
    for (let dir = folder; type === undefined; dir = dirname(dir)) {
      type = await statfs(dir).then(
        (info) => info.type,
        () => (dirname(dir) === dir ? -1 : undefined),
      );
    }
    if (!LOCAL_FILE_SYSTEMS.has(type)) return false;
  }
  return true;
}

/**
 * What a path is: absent, a directory (device and inode: entries added beside the scripts, logs a job
 * writes, do not count), or a file (device, inode, size, modification and change times). A
 * replaced file (an editor's save, a rename, `git checkout`) has a new inode or change time.
 */
function identityOf(info: Stats | string, racyFromMs: number): { id: string; racy: boolean } {
  if (typeof info === 'string') return { id: info, racy: false };
  if (info.isDirectory()) return { id: `d:${info.dev}:${info.ino}`, racy: false };
  // Times in ms as doubles keep sub-microsecond precision; BigInt stats cost more to take and compare.
  return { id: `f:${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`, racy: info.mtimeMs >= racyFromMs || info.ctimeMs >= racyFromMs };
}

/** A path that cannot be looked at is known by why (absent, not a folder, not allowed): as the read saw it. */
function failure(error: unknown): string {
  return `-${(error as NodeJS.ErrnoException).code ?? 'error'}`;
}

async function identities(paths: Iterable<string>, racyFromMs: number): Promise<{ ids: Map<string, string>; racy: boolean }> {
  const list = [...paths];
  const found = await Promise.all(list.map(async (path) => identityOf(await stat(path).catch(failure), racyFromMs)));
  return { ids: new Map(list.map((path, index) => [path, found[index].id])), racy: found.some((entry) => entry.racy) };
}

/** The same, synchronously: for paths on local file systems only. */
function identitiesNow(paths: Iterable<string>): Map<string, string> {
  const ids = new Map<string, string>();
  for (const path of paths) {
    let info: Stats | string;
    try {
      info = statSync(path, { throwIfNoEntry: false }) ?? '-ENOENT';
    } catch (error) {
      info = failure(error);
    }
    ids.set(path, identityOf(info, Infinity).id);
  }
  return ids;
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
      const now = known.local ? identitiesNow(known.identities.keys()) : (await identities(known.identities.keys(), Infinity)).ids;
      if (known.trusted && same(now, known.identities)) return copy(known.version);
      before = now;
    }
    const startedMs = Date.now();
    const consulted = new Set<string>();
    const version = await this.read(command, folder, limits, (path) => consulted.add(path));
    const after = await identities(consulted, startedMs - this.racyMs);
    const trusted = before !== undefined && !after.racy && same(before, after.ids);
    const samePaths = known !== undefined && known.identities.size === consulted.size && [...consulted].every((path) => known.identities.has(path));
    const local = samePaths ? known.local : await allLocal(consulted);
    this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { version, identities: after.ids, trusted, local });
    return copy(version);
  }
}

/** The caller's own copy: it may add notes. The files' contents are shared (Buffers, never written). */
function copy(version: ScriptVersion): ScriptVersion {
  return { ...version, files: version.files.map((file) => ({ ...file })), git: version.git && { ...version.git }, notes: [...version.notes] };
}
