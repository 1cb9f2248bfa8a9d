// Which version of a cron's scripts a run launches: the files its command names inside the config's folder,
// a content hash over them, and the git commit when that folder is in a repository. Read at launch, so it is
// bounded (file size and count caps) and never spawns (git's files are read directly).
import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** One file the command names, relative to the config folder with forward slashes. */
export interface ScriptFileVersion {
  path: string;
  size: number;
  /** sha-256 of the content (hex); absent when the file was not read (`skipped`). */
  sha256?: string;
  /** The content, for the store to keep this version (content-addressed by `sha256`); absent when skipped. */
  content?: Buffer;
  /** Why the content was not read: over the per-file cap, or past the number of files hashed. */
  skipped?: 'too-large' | 'too-many-files';
}

export interface GitVersion {
  /** The repository's working tree (the folder holding .git). */
  root: string;
  /** The commit HEAD points to; null on a branch with no commit yet, or refs git stores in a reftable. */
  commit: string | null;
  /** "refs/heads/main"; null when HEAD is detached. */
  ref: string | null;
}

export interface ScriptVersion {
  /**
   * sha-256 over each file's path and content, in path order (a skipped file counts by path and size): equal
   * hashes mean the same scripts. Null when the command names no file inside the folder.
   */
  hash: string | null;
  files: ScriptFileVersion[];
  git: GitVersion | null;
  /** What was left out and why, for the log and the execution's details. */
  notes: string[];
}

export interface ScriptVersionLimits {
  /** Files larger than this are not read (default 1 MiB). */
  maxFileBytes: number;
  /** At most this many files are read (default 16). */
  maxFiles: number;
}

/**
 * Told each path whose state the version depends on (the folder, each argv entry as resolved, the .git
 * looked for in each parent, git's files read), for a cache to check them for changes (scriptVersionCache.ts).
 */
export type Consulted = (path: string) => void;

export const DEFAULT_SCRIPT_VERSION_LIMITS: ScriptVersionLimits = { maxFileBytes: 1024 * 1024, maxFiles: 16 };

function inside(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** Candidate paths of one argv entry: the entry itself, or the value of an `--option=value`. */
function argvPaths(entry: string): string[] {
  if (entry === '') return [];
  if (entry.startsWith('-')) {
    const equals = entry.indexOf('=');
    return equals > 0 && equals < entry.length - 1 ? [entry.slice(equals + 1)] : [];
  }
  return [entry];
}

/**
 * The regular files `command` names inside `folder` (absolute paths, in argv order, without duplicates).
 * Relative entries resolve from the folder (the runner's cwd); a program without a slash is looked up in PATH
 * (or is "node", the server's own), so it names no file here. The interpreter and anything else outside the
 * folder (a symlink in the folder pointing out of it included), options and words that are not files are left out.
 */
export async function namedFiles(command: readonly string[], folder: string, consulted?: Consulted): Promise<string[]> {
  const root = await realpath(folder);
  consulted?.(folder);
  const [program, ...args] = command;
  const entries = [...(program?.includes('/') ? [program] : []), ...args.flatMap(argvPaths)];
  const found: string[] = [];
  for (const entry of entries) {
    const absolute = resolve(root, entry);
    consulted?.(absolute);
    // An argv resolved before (the config makes script paths absolute) may reach the folder through a symlink.
    const real = await realpath(dirname(absolute)).then((dir) => join(dir, basename(absolute)), () => undefined);
    if (real === undefined || !inside(real, root) || found.includes(real)) continue;
    // The file itself may be a symlink: what it points to must be inside the folder too, or any file the
    // server can read (/etc/passwd) would be stored and served as a script. A link within the folder is kept
    // under its own name.
    const target = await realpath(real).catch(() => undefined);
    if (target === undefined || !inside(target, root)) continue;
    const info = await stat(target).catch(() => undefined);
    if (info?.isFile()) found.push(real);
  }
  return found;
}

function toSlashes(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

/** The script version a run of `command` launches, for a config file in `folder`. */
export async function scriptVersion(
  command: readonly string[],
  folder: string,
  limits: ScriptVersionLimits = DEFAULT_SCRIPT_VERSION_LIMITS,
  consulted?: Consulted,
): Promise<ScriptVersion> {
  const root = await realpath(folder);
  consulted?.(folder);
  const notes: string[] = [];
  const files: ScriptFileVersion[] = [];
  const paths = (await namedFiles(command, root, consulted)).map((absolute) => ({ absolute, path: toSlashes(relative(root, absolute)) }));
  paths.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const { absolute, path } of paths) {
    const { size } = await stat(absolute);
    if (size > limits.maxFileBytes) {
      files.push({ path, size, skipped: 'too-large' });
      notes.push(`${path}: ${size} bytes, over the ${limits.maxFileBytes}-byte cap: not read, only its size counts in the hash`);
      continue;
    }
    if (files.filter((file) => file.content).length >= limits.maxFiles) {
      files.push({ path, size, skipped: 'too-many-files' });
      notes.push(`${path}: past the ${limits.maxFiles} files read per run: not read, only its size counts in the hash`);
      continue;
    }
    const content = await readFile(absolute);
    files.push({ path, size: content.length, sha256: createHash('sha256').update(content).digest('hex'), content });
  }
  let hash: string | null = null;
  if (files.length > 0) {
    const digest = createHash('sha256');
    // Length-prefixed fields, so no two different file sets hash the same input.
    for (const file of files) digest.update(`${file.path.length}:${file.path}\0${file.sha256 ?? `unread:${file.size}`}\n`);
    hash = digest.digest('hex');
  }
  const git = await gitVersion(root, consulted).catch((error: unknown) => {
    notes.push(`git commit not read: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  });
  if (git && git.commit === null) notes.push(`${git.root}: git HEAD (${git.ref ?? 'detached'}) points to no commit that could be read`);
  return { hash, files, git, notes };
}

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const MAX_SYMBOLIC_REFS = 5;

async function readText(path: string, consulted: Consulted | undefined): Promise<string | undefined> {
  consulted?.(path);
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** The repository holding `folder`: its working tree, its git dir (per worktree) and the common dir (refs). */
async function findRepository(folder: string, consulted: Consulted | undefined): Promise<{ root: string; gitDir: string; commonDir: string } | undefined> {
  for (let dir = folder; ; dir = dirname(dir)) {
    const dotGit = join(dir, '.git');
    consulted?.(dotGit);
    const info = await stat(dotGit).catch(() => undefined);
    if (info?.isDirectory()) return { root: dir, gitDir: dotGit, commonDir: dotGit };
    if (info?.isFile()) {
      // A linked worktree or a submodule: ".git" is a file "gitdir: <path>", and <path>/commondir names the shared dir.
      const pointer = /^gitdir:\s*(.+?)\s*$/m.exec((await readText(dotGit, consulted)) ?? '');
      if (!pointer) throw new Error(`${dotGit} is neither a directory nor a "gitdir:" file`);
      const gitDir = resolve(dir, pointer[1]);
      const common = (await readText(join(gitDir, 'commondir'), consulted))?.trim();
      return { root: dir, gitDir, commonDir: common ? resolve(gitDir, common) : gitDir };
    }
    if (dirname(dir) === dir) return undefined;
  }
}

async function packedRef(commonDir: string, name: string, consulted: Consulted | undefined): Promise<string | undefined> {
  const packed = await readText(join(commonDir, 'packed-refs'), consulted);
  if (!packed) return undefined;
  for (const line of packed.split('\n')) {
    if (line.startsWith('#') || line.startsWith('^')) continue;
    const [sha, ref] = line.trim().split(' ');
    if (ref === name && SHA.test(sha)) return sha;
  }
  return undefined;
}

/** The commit a ref names, following symbolic refs ("ref: …"): loose files first, then packed-refs. */
async function resolveRef(repository: { gitDir: string; commonDir: string }, name: string, consulted: Consulted | undefined, depth = 0): Promise<string | null> {
  if (depth > MAX_SYMBOLIC_REFS) return null;
  const loose = ((await readText(join(repository.gitDir, name), consulted)) ?? (await readText(join(repository.commonDir, name), consulted)))?.trim();
  if (loose !== undefined) {
    if (SHA.test(loose)) return loose;
    const symbolic = /^ref:\s*(\S+)$/.exec(loose);
    return symbolic ? resolveRef(repository, symbolic[1], consulted, depth + 1) : null;
  }
  return (await packedRef(repository.commonDir, name, consulted)) ?? null;
}

/** The git commit checked out where `folder` lives, read from .git directly; null outside a repository. */
export async function gitVersion(folder: string, consulted?: Consulted): Promise<GitVersion | null> {
  consulted?.(folder);
  const repository = await findRepository(await realpath(folder), consulted);
  if (!repository) return null;
  const head = (await readText(join(repository.gitDir, 'HEAD'), consulted))?.trim();
  if (head === undefined) throw new Error(`${repository.gitDir} has no HEAD`);
  if (SHA.test(head)) return { root: repository.root, commit: head, ref: null };
  const symbolic = /^ref:\s*(\S+)$/.exec(head);
  if (!symbolic) throw new Error(`${join(repository.gitDir, 'HEAD')} holds neither a commit nor a ref`);
  return { root: repository.root, commit: await resolveRef(repository, symbolic[1], consulted), ref: symbolic[1] };
}
