// Starts the real backend (dist/server.mjs) as a child process on a free loopback port, for every test tier.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { databaseFor, TEST_DATABASE_ENV } from './postgres';

/** The repository root, found from wherever the bundled test file sits under out/. */
export const REPO_ROOT = (() => {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'esbuild.mjs'))) return dir;
  throw new Error(`cannot find the repository root above ${__dirname}`);
})();
export const SERVER_BUNDLE = join(REPO_ROOT, 'dist', 'server.mjs');
export const TEST_ADMIN_TOKEN = 'test-super-admin-token-0123456789abcdef';
export const TEST_CRON_SECRET = 'test-cron-secret-0123456789abcdef';

export interface TestCronDefinition {
  name: string;
  description?: string;
  schedule?: string;
  timezone?: string;
  command: string[];
  estimatedDurationMs?: number;
  timeoutMs?: number;
  enabled?: boolean;
  params?: Record<string, unknown>;
  runOn?: string[];
  catchUp?: 'none' | 'last';
}

export interface TestConfig {
  crons: TestCronDefinition[];
  rateLimits?: { perCronSeconds?: number; globalPerMinute?: number };
  retentionDays?: number;
  maxLogLinesPerExecution?: number;
  killGraceMs?: number;
  maxStreamsPerToken?: number;
  maxConnections?: number;
  allowedHosts?: string[];
  auditRetentionDays?: number;
}

/** A cron running `node -e SCRIPT`: the test's own little job. */
export function nodeCron(name: string, script: string, extra: Partial<TestCronDefinition> = {}): TestCronDefinition {
  return {
    name,
    description: `Test cron ${name}`,
    schedule: '0 0 1 1 *',
    command: [process.execPath, '-e', script],
    estimatedDurationMs: 1000,
    timeoutMs: 60_000,
    ...extra,
  };
}

/** Writes a config file in a fresh temporary folder and returns its path. */
export function writeConfig(config: TestConfig | string, fileName = 'crons.json'): string {
  const dir = mkdtempSync(join(tmpdir(), 'cron-ops-test-'));
  const path = join(dir, fileName);
  writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return path;
}

export interface StartOptions {
  /** A config object (written to a temporary file) or the path of one. Omit for the demo crons. */
  config?: TestConfig | string;
  /** Extra command-line arguments; `--memory` is used unless `--data` is given. */
  args?: string[];
  env?: Record<string, string | undefined>;
  /** Also pass CRON_OPS_ADMIN_TOKEN (default true). */
  adminToken?: boolean;
  timeoutMs?: number;
}

export interface ServerProcess {
  url: string;
  port: number;
  token: string;
  configPath: string | undefined;
  child: ChildProcess;
  /** Everything the process printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolves with the first output line matching `pattern`, from the start of the output. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then waits for exit; resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  /** SIGKILL, as a crash would. */
  kill9(): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let memoryDatabases = 0;

/**
 * With CRON_OPS_TEST_POSTGRES_URL set (the suite's PostgreSQL pass), a store argument becomes a database:
 * `--data DIR` the database named after DIR (restarts find their data), `--memory` a fresh one.
 */
async function storeEnv(args: string[]): Promise<Record<string, string>> {
  const base = process.env[TEST_DATABASE_ENV];
  if (!base) return {};
  const dataIndex = args.indexOf('--data');
  const key = dataIndex >= 0 ? args[dataIndex + 1] : `memory-${process.pid}-${Date.now()}-${memoryDatabases++}`;
  return { DATABASE_URL: await databaseFor(base, key) };
}

/** Runs the server bundle with arguments and resolves when it exits (for CLI commands and config errors). */
export async function runServerCommand(
  args: string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 30_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const store = await storeEnv(args);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [SERVER_BUNDLE, ...args], {
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', ...store, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server command ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  const configPath = options.config === undefined ? undefined : typeof options.config === 'string' ? options.config : writeConfig(options.config);
  const args = [...(configPath ? ['--config', configPath] : []), '--host', '127.0.0.1', '--port', '0', ...(options.args ?? [])];
  if (!args.includes('--data') && !args.includes('--memory')) args.push('--memory');
  const env: Record<string, string | undefined> = {
    ...process.env,
    // Inside a VS Code extension host process.execPath may be Electron: make it behave as Node.
    ELECTRON_RUN_AS_NODE: '1',
    CRON_SECRET: TEST_CRON_SECRET,
    ...(options.env?.DATABASE_URL ? {} : await storeEnv(args)),
    ...(options.adminToken === false ? {} : { CRON_OPS_ADMIN_TOKEN: TEST_ADMIN_TOKEN }),
    ...options.env,
  };
  if (options.adminToken === false) delete env.CRON_OPS_ADMIN_TOKEN;
  const child = spawn(process.execPath, [SERVER_BUNDLE, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });

  let output = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const wake of waiters) wake();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.on('exit', (code, signal) => {
      for (const wake of waiters) wake();
      resolveExit({ code, signal });
    }),
  );
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const waitForOutput = (pattern: RegExp, timeoutMs = 20_000) =>
    new Promise<string>((resolveLine, reject) => {
      const check = () => {
        const line = output.split('\n').find((candidate) => pattern.test(candidate));
        if (line !== undefined) {
          done();
          resolveLine(line);
        } else if (hasExited || child.exitCode !== null) {
          done();
          reject(new Error(`server exited before printing ${pattern}:\n${output}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`server did not print ${pattern} within ${timeoutMs} ms:\n${output}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  const listening = await waitForOutput(/listening on http:\/\/127\.0\.0\.1:\d+/, options.timeoutMs ?? 60_000);
  const port = Number(/:(\d+)/.exec(listening.slice(listening.indexOf('http')))![1]);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    token: TEST_ADMIN_TOKEN,
    configPath,
    child,
    output: () => output,
    waitForOutput,
    exited,
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const { code } = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
