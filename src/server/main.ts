// The cron-ops-server command: serve (default), or manage tokens. Parses arguments, starts, shuts down.
// First: start-up's allocations must not size V8's young generation (startupHeap.ts, issue 10's idle RSS).
import { releaseYoungGeneration } from './startupHeap';
import { createHash } from 'node:crypto';
import { homedir, hostname, tmpdir, userInfo } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp, defaultRunnerId, type App } from './app';
import { ConfigError, loadConfig } from './config';
import { sendControlCommand, serveControlSocket } from './controlSocket';
import { acquireLock, CONTROL_SOCKET, LOCK_FILE, lockHolder, prepareDataFolder, tightenPermissions, type Lock } from './dataFolder';
import { createLogger, errorText } from './logger';
import { AuditStore } from './store/auditStore';
import { backupSqlite } from './store/backup';
import { openPostgres, openSqlite, SQLITE_FILE, type Db } from './store/db';
import { migrate } from './store/migrations';
import { TokenStore } from './store/tokenStore';
import { runTokenCommand, TokenCommandError } from './tokenCommands';

const USAGE = `Usage:
  cron-ops-server [--config FILE] [--port 9998] [--host 127.0.0.1] [--data DIR | --memory]
  cron-ops-server token create --name NAME --role viewer|admin|super-admin [--data DIR]
  cron-ops-server token list [--data DIR]
  cron-ops-server token revoke NAME [--data DIR]
  cron-ops-server backup FILE [--data DIR]      a consistent copy of the embedded store, while the server runs

Environment: CRON_OPS_ADMIN_TOKEN (a super-admin token accepted as given), CRON_SECRET (scripts' X-Cron-Secret),
CRON_OPS_RUNNER_ID (default: the host name), DATABASE_URL (PostgreSQL instead of the embedded store), LOG_FORMAT=json, LOG_LEVEL=debug|info|warn|error.
Without --config the seven demo crons run. Data defaults to ${defaultDataDir()} (the store is its ${SQLITE_FILE}).`;

class UsageError extends Error {}

function defaultDataDir(): string {
  return process.env.CRON_OPS_DATA || join(homedir(), '.cron-ops', 'data');
}

const log = createLogger();

/** A connection string without its password, fit for a log line. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable DATABASE_URL)';
  }
}

interface OpenedStore {
  db: Db;
  /** The embedded store's folder (undefined for --memory and PostgreSQL). */
  dataDir?: string;
  lock?: Lock;
}

/**
 * Opens the store this process owns: the embedded folder under its exclusive lock (0700, files 0600), or
 * PostgreSQL, where `runnerId` (when serving) is locked on this host so a second instance with the same
 * id refuses to start instead of taking over the first one's runs.
 */

/** How to run this program again, as it was run: `cron-ops-server` when installed, `node dist/server.mjs` in a clone. */
function selfCommand(): string {
  const script = process.argv[1] ?? '';
  return /(^|[\\/])dist[\\/]server\.mjs$/.test(script) ? `node ${relative(process.cwd(), script) || script}` : 'cron-ops-server';
}
async function openStore(values: { data?: string; memory?: boolean }, runnerId?: string): Promise<OpenedStore> {
  if (values.memory && values.data) throw new UsageError('--data and --memory exclude each other: choose one.');
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    const lock = runnerId
      ? acquireLock(
          join(tmpdir(), `cron-ops-runner-${createHash('sha256').update(`${redactUrl(databaseUrl)}\n${runnerId}`).digest('hex').slice(0, 16)}.lock`),
          `Runner id "${runnerId}" on ${redactUrl(databaseUrl)}`,
          'stop it, or give this instance another id (--runner-id or CRON_OPS_RUNNER_ID)',
        )
      : undefined;
    try {
      return { db: await openPostgres({ url: databaseUrl, log }), lock };
    } catch (error) {
      lock?.release();
      throw new Error(`Cannot reach PostgreSQL at ${redactUrl(databaseUrl)}: ${errorText(error)}. Check DATABASE_URL and that the server accepts connections.`);
    }
  }
  if (values.memory) return { db: await openSqlite({ file: undefined, log }) };
  const dataDir = resolve(values.data ?? defaultDataDir());
  prepareDataFolder(dataDir);
  const lock = acquireLock(join(dataDir, LOCK_FILE), `The data folder ${dataDir}`);
  // Files the store creates now are private; the umask is restored so the crons' own files are not affected.
  const umask = process.umask(0o077);
  try {
    const db = await openSqlite({ file: join(dataDir, SQLITE_FILE), log });
    tightenPermissions(dataDir);
    return { db, dataDir, lock };
  } catch (error) {
    lock.release();
    throw new Error(`Cannot open the store ${join(dataDir, SQLITE_FILE)}: ${errorText(error)}. Check that the folder is writable, or pass another --data.`);
  } finally {
    process.umask(umask);
  }
}

async function backupCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { data: { type: 'string' } }, allowPositionals: true });
  const [target] = positionals;
  if (!target) throw new UsageError(`backup needs the file to write: ${selfCommand()} backup FILE`);
  if (process.env.DATABASE_URL) {
    throw new UsageError(`The store is PostgreSQL (DATABASE_URL is set): back it up with pg_dump, for example: pg_dump --format=custom --file=${target} "$DATABASE_URL"`);
  }
  const source = join(resolve(values.data ?? defaultDataDir()), SQLITE_FILE);
  const pages = await backupSqlite(source, resolve(target));
  process.stdout.write(`Backed up ${source} to ${resolve(target)} (${pages} pages). Restore: stop the server, delete ${SQLITE_FILE}-wal and ${SQLITE_FILE}-shm from the data folder (they belong to the old file), put the copy there as ${SQLITE_FILE}, start it.\n`);
}

async function tokenCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: { name: { type: 'string' }, role: { type: 'string' }, data: { type: 'string' }, memory: { type: 'boolean' } },
    allowPositionals: true,
  });
  const [action, target] = positionals;
  const command = { action: action ?? '', name: action === 'revoke' ? (target ?? values.name) : values.name, role: values.role, actor: `cli:${userInfo().username}@${hostname()}` };
  // A server holds the folder: it runs the command (whoever can open the data folder may).
  if (!process.env.DATABASE_URL && !values.memory) {
    const dataDir = resolve(values.data ?? defaultDataDir());
    if (lockHolder(join(dataDir, LOCK_FILE)) !== undefined) {
      process.stdout.write(await sendControlCommand(join(dataDir, CONTROL_SOCKET), command));
      return;
    }
  }
  const { db, lock } = await openStore(values);
  try {
    await migrate(db);
    process.stdout.write(await runTokenCommand(new TokenStore(db), new AuditStore(db), command));
  } finally {
    await db.close();
    lock?.release();
  }
}

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      memory: { type: 'boolean' },
      'runner-id': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const configPath = resolve(values.config ?? join(__dirname, 'demo', 'crons.json'));
  const config = loadConfig(configPath);
  const port = values.port !== undefined ? Number(values.port) : config.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number (0-65535), got "${values.port}"`);
  const host = values.host ?? config.host;

  const runnerId = values['runner-id'] ?? defaultRunnerId();
  const { db, dataDir, lock } = await openStore(values, runnerId);
  let app: App;
  try {
    app = await buildApp({ config, db, log, runnerId, adminToken: process.env.CRON_OPS_ADMIN_TOKEN || undefined, cronSecret: process.env.CRON_SECRET || undefined, watchDefinitions: true, warmUp: true, timeline: db.kind === 'postgres' ? { postgresUrl: process.env.DATABASE_URL } : undefined });
  } catch (error) {
    await db.close().catch(() => undefined);
    lock?.release();
    throw error;
  }
  const control = dataDir ? await serveControlSocket(join(dataDir, CONTROL_SOCKET), app.tokens, new AuditStore(db), log) : undefined;
  const firstToken = !process.env.CRON_OPS_ADMIN_TOKEN && (await app.tokens.count()) === 0 ? await app.tokens.create('initial-super-admin', 'super-admin') : undefined;
  if (firstToken) await new AuditStore(db).record({ actor: 'server', role: null, action: 'token.create', target: 'initial-super-admin', details: { role: 'super-admin', reason: 'first start' } });
  let url: string;
  try {
    url = await app.listen(port, host);
  } catch (error) {
    await app.close().catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`Port ${port} on ${host} is in use: is another cron-ops-server running? Stop it or pass --port.`);
    throw error;
  }
  releaseYoungGeneration();
  const where = db.kind === 'postgres' ? `at ${redactUrl(process.env.DATABASE_URL!)}` : values.memory ? '(in memory)' : `in ${join(resolve(values.data ?? defaultDataDir()), SQLITE_FILE)}`;
  log.info(`Cron Ops server: ${config.crons.length} crons from ${configPath}, store ${db.kind} ${where}, runner ${app.runnerId}`);
  log.info(`Cron Ops server listening on ${url}`);
  if (firstToken && log.json) {
    // A log shipper reads JSON lines only: the token rides in one (under a field name the redaction keeps).
    log.warn(`First start: a super-admin token was created, shown only this once (field initialSuperAdminToken). Sign in from VS Code with "Cron Ops: Sign In" (set "cronOps.serverUrl" to ${url} if you changed the port). More tokens: ${selfCommand()} token create --name NAME --role admin`, {
      initialSuperAdminToken: firstToken,
    });
  } else if (firstToken) {
    // The log's lines wait for the next turn (logger.ts): written first, they stay before the token.
    log.flush();
    process.stdout.write(
      [
        '',
        'First start: a super-admin token was created. It is shown only this once:',
        '',
        `    ${firstToken}`,
        '',
        'Sign in from VS Code: run "Cron Ops: Sign In" from the Command Palette and paste it',
        `(set "cronOps.serverUrl" to ${url} if you changed the port). More tokens: ${selfCommand()} token create --name NAME --role admin`,
        '',
      ].join('\n') + '\n',
    );
  } else {
    log.info(`Sign in from VS Code with "Cron Ops: Sign In" and a token (${selfCommand()} token create --name NAME --role admin).`);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received: stopping (running executions are stopped and recorded)`);
    const forced = setTimeout(() => {
      log.error('Shutdown took too long: exiting anyway');
      process.exit(1);
      // The runner ends every run within killGraceMs and a little: this is only the safety net past it.
    }, Math.max(20_000, config.killGraceMs + 10_000));
    forced.unref();
    Promise.all([app.close(), control?.close()]).then(
      () => {
        lock?.release();
        log.info('Stopped');
        process.exit(0);
      },
      (error) => {
        log.error('Shutdown failed', { error: errorText(error) });
        process.exit(1);
      },
    );
  };
  // SIGHUP reads the cron definitions again (as the file watch does on every save): see definitionsReload.ts.
  process.on('SIGHUP', () => {
    if (stopping) return;
    log.info(`SIGHUP received: reading ${configPath} again`);
    void app.reloadDefinitions('SIGHUP').catch((error) => log.error('Reload on SIGHUP failed', { error: errorText(error) }));
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

// A stray rejection (a store call during an outage) is logged; the server keeps serving.
process.on('unhandledRejection', (reason) => log.error('Unhandled rejection', { error: errorText(reason) }));

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === 'token') await tokenCommand(args.slice(1));
  else if (args[0] === 'backup') await backupCommand(args.slice(1));
  else await serve(args);
}

main().catch((error) => {
  // The lines logged before the failure come first: they say how far the start got.
  log.flush();
  if (error instanceof ConfigError) {
    process.stderr.write(`Invalid cron config:\n${error.problems.map((problem) => `  ${problem}`).join('\n')}\nFix the file and start again.\n`);
  } else if (error instanceof UsageError || error instanceof TokenCommandError || (error as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    process.stderr.write(`${errorText(error)}\n\n${USAGE}\n`);
  } else {
    process.stderr.write(`cron-ops-server: ${errorText(error)}\n`);
  }
  process.exit(2);
});
