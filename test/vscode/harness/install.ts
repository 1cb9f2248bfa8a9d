// Installs code-server (VS Code 1.100.3 as a server) into .vscode-test/ without internet beyond the npm registry.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CODE_SERVER_VERSION = '4.100.3';
// @vscode/ripgrep's postinstall downloads this release from GitHub unless it finds it in its cache folder.
const RIPGREP_PACKAGE_VERSION = '1.15.11';
const RIPGREP_ASSET = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';

export interface CodeServerInstall {
  /** The script to run with Node: code-server's own entry point. */
  entry: string;
  /** Seconds the install took; 0 when it was already there. */
  installSeconds: number;
}

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'inherit', 'inherit'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${options.timeoutMs / 1000} s`));
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolveRun();
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`));
    });
  });
}

function which(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, program))) return join(dir, program);
  return undefined;
}

/** Builds the tarball @vscode/ripgrep expects from the system's `rg` (Debian's ripgrep package), under tmpDir. */
async function seedRipgrepCache(tmpDir: string): Promise<void> {
  const rg = which('rg');
  if (!rg) throw new Error('ripgrep (`rg`) is not installed: `apt-get install ripgrep` (code-server needs it and cannot download it offline)');
  const cacheDir = join(tmpDir, `vscode-ripgrep-cache-${RIPGREP_PACKAGE_VERSION}`);
  mkdirSync(cacheDir, { recursive: true });
  const staging = mkdtempSync(join(tmpDir, 'rg-'));
  await run('cp', [rg, join(staging, 'rg')], { cwd: tmpDir, env: process.env, timeoutMs: 30_000 });
  await run('tar', ['czf', join(cacheDir, RIPGREP_ASSET), '-C', staging, 'rg'], { cwd: tmpDir, env: process.env, timeoutMs: 30_000 });
}

/**
 * Installs code-server into `<cacheDir>/code-server-<version>` unless a finished install is already there
 * (a marker file is written last, so an interrupted install is redone from scratch).
 */
export async function ensureCodeServer(cacheDir: string, timeoutMs = 30 * 60_000): Promise<CodeServerInstall> {
  const root = join(cacheDir, `code-server-${CODE_SERVER_VERSION}`);
  const entry = join(root, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  const marker = join(root, '.installed');
  if (existsSync(marker) && existsSync(entry)) return { entry, installSeconds: 0 };

  // Another harness run (a colleague's, in the same tree) may be installing: wait for it rather than clash.
  mkdirSync(cacheDir, { recursive: true });
  const lock = `${root}.lock`;
  const lockDeadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(existsSync(join(lock, 'pid')) ? readFileSync(join(lock, 'pid'), 'utf8') : 0);
      if (!isAlive(owner)) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > lockDeadline) throw new Error(`another process (${owner}) has been installing code-server for too long; remove ${lock} if it is gone`);
      else await new Promise((resolveDelay) => setTimeout(resolveDelay, 2_000));
    }
  }
  try {
    if (existsSync(marker) && existsSync(entry)) return { entry, installSeconds: 0 };
    return await install(root, entry, marker, timeoutMs);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Whether a process with this id exists (for lock and run folders left by a harness that died). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function install(root: string, entry: string, marker: string, timeoutMs: number): Promise<CodeServerInstall> {
  const started = Date.now();
  console.log(`[harness] installing code-server ${CODE_SERVER_VERSION} into ${root} (once; takes a few minutes)`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  // Its own package.json, so npm installs here and never touches the project's dependency tree.
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'cron-ops-vscode-test', private: true }, null, 2));
  // A private TMPDIR: @vscode/ripgrep looks for its cached download under os.tmpdir().
  const tmpDir = join(root, 'tmp');
  mkdirSync(tmpDir, { recursive: true });
  await seedRipgrepCache(tmpDir);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TMPDIR: tmpDir,
    npm_config_unsafe_perm: 'true',
    npm_config_yes: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  try {
    await run('npm', ['install', '--no-package-lock', `code-server@${CODE_SERVER_VERSION}`], { cwd: root, env, timeoutMs });
  } catch (error) {
    throw new Error(
      `installing code-server failed: ${(error as Error).message}\n` +
        'It needs the npm registry, Debian packages libkrb5-dev, ripgrep, python3, make and g++ (see .ci/run).',
    );
  }
  if (!existsSync(entry)) throw new Error(`code-server installed but ${entry} is missing`);
  rmSync(tmpDir, { recursive: true, force: true });
  writeFileSync(marker, new Date().toISOString() + '\n');
  const installSeconds = Math.round((Date.now() - started) / 1000);
  console.log(`[harness] code-server installed in ${installSeconds} s`);
  return { entry, installSeconds };
}
