// A real PostgreSQL server for the tests: initdb into a temporary folder, loopback only, stopped after.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  /** postgres://… of the server, without a database name. */
  baseUrl: string;
  dir: string;
  port: number;
  /** Stops the server (fast shutdown: connections are cut), keeping its data. */
  pause(): void;
  /** Starts it again on the same port. */
  resume(): void;
  stop(): void;
}

/** The environment variable that switches startServer() to PostgreSQL. */
export const TEST_DATABASE_ENV = 'CRON_OPS_TEST_POSTGRES_URL';

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) if (existsSync(join(root, version, 'bin', 'initdb'))) return join(root, version, 'bin');
  throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql: apt-get install postgresql');
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

// PostgreSQL refuses to run as root: run its programs as the postgres user then.
function asPostgres(program: string, args: string[]): string {
  const isRoot = process.getuid?.() === 0;
  const command = isRoot ? 'runuser' : program;
  const argv = isRoot ? ['-u', 'postgres', '--', program, ...args] : args;
  return execFileSync(command, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * `dir`: a cluster kept in that folder (the benchmarks' seeded stores), made there on first use and started
 * again on its data after; stop() then keeps it too. Without it, a new cluster in a temporary folder.
 */
export async function startPostgres(options: { dir?: string } = {}): Promise<TestPostgres> {
  const bin = binDir();
  const kept = options.dir;
  if (kept) mkdirSync(kept, { recursive: true });
  const dir = kept ?? mkdtempSync(join(tmpdir(), 'cron-ops-pg-'));
  if (process.getuid?.() === 0) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
  const data = join(dir, 'data');
  if (!existsSync(join(data, 'PG_VERSION'))) asPostgres(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const start = () =>
    asPostgres(join(bin, 'pg_ctl'), [
      '-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start',
      '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`,
    ]);
  start();
  return {
    baseUrl: `postgres://postgres@127.0.0.1:${port}`,
    dir,
    port,
    pause() {
      asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
    },
    resume: start,
    stop() {
      if (kept) {
        asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
        return;
      }
      spawnSync(process.getuid?.() === 0 ? 'runuser' : join(bin, 'pg_ctl'), process.getuid?.() === 0 ? ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop'] : ['-D', data, '-m', 'immediate', 'stop'], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A database named after `key` (a --data folder), created on first use: same key, same data. */
export async function databaseFor(baseUrl: string, key: string): Promise<string> {
  const name = 'cronops_' + createHash('sha256').update(key).digest('hex').slice(0, 16);
  const client = new pg.Client({ connectionString: `${baseUrl}/postgres` });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    // Several servers of one test may ask for the same database at once: the loser of the race finds it made.
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${name}`).catch((error: { code?: string }) => {
      if (error.code !== '42P04' && error.code !== '23505') throw error;
    });
  } finally {
    await client.end();
  }
  return `${baseUrl}/${name}`;
}
