// The cron-ops-server command: serve (default), or manage tokens. Parses arguments, starts, shuts down.
import { homedir, hostname, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ROLES, type Role } from '../shared/api';
import { buildApp, type App } from './app';
import { ConfigError, loadConfig } from './config';
import { createLogger, errorText } from './logger';
import { AuditStore } from './store/auditStore';
import { backupSqlite } from './store/backup';
import { openPostgres, openSqlite, SQLITE_FILE, type Db } from './store/db';
import { migrate } from './store/migrations';
import { TokenStore } from './store/tokenStore';

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

async function openStore(values: { data?: string; memory?: boolean }): Promise<Db> {
  if (values.memory && values.data) throw new UsageError('--data and --memory exclude each other: choose one.');
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    try {
      return await openPostgres({ url: databaseUrl, log });
    } catch (error) {
      throw new Error(`Cannot reach PostgreSQL at ${redactUrl(databaseUrl)}: ${errorText(error)}. Check DATABASE_URL and that the server accepts connections.`);
    }
  }
  const file = values.memory ? undefined : join(resolve(values.data ?? defaultDataDir()), SQLITE_FILE);
  try {
    return await openSqlite({ file, log });
  } catch (error) {
    throw new Error(`Cannot open the store ${file ?? 'in memory'}: ${errorText(error)}. Check that the folder is writable, or pass another --data.`);
  }
}

async function backupCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { data: { type: 'string' } }, allowPositionals: true });
  const [target] = positionals;
  if (!target) throw new UsageError('backup needs the file to write: cron-ops-server backup FILE');
  if (process.env.DATABASE_URL) {
    throw new UsageError(`The store is PostgreSQL (DATABASE_URL is set): back it up with pg_dump, for example: pg_dump --format=custom --file=${target} "$DATABASE_URL"`);
  }
  const source = join(resolve(values.data ?? defaultDataDir()), SQLITE_FILE);
  const pages = await backupSqlite(source, resolve(target));
  process.stdout.write(`Backed up ${source} to ${resolve(target)} (${pages} pages). Restore: stop the server, put the copy in place as ${SQLITE_FILE} in the data folder, start it.\n`);
}

async function tokenCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: { name: { type: 'string' }, role: { type: 'string' }, data: { type: 'string' }, memory: { type: 'boolean' } },
    allowPositionals: true,
  });
  const [action, target] = positionals;
  const db = await openStore(values);
  try {
    await migrate(db);
    const tokens = new TokenStore(db);
    const audit = new AuditStore(db);
    const actor = `cli:${userInfo().username}@${hostname()}`;
    switch (action) {
      case 'create': {
        if (!values.name) throw new UsageError('token create needs --name NAME');
        if (!ROLES.includes(values.role as Role)) throw new UsageError(`token create needs --role ${ROLES.join('|')}`);
        if (await tokens.exists(values.name)) throw new UsageError(`A token named "${values.name}" exists already: choose another name, or revoke it first.`);
        const token = await tokens.create(values.name, values.role as Role);
        await audit.record({ actor, role: null, action: 'token.create', target: values.name, details: { role: values.role } });
        process.stdout.write(`Created ${values.role} token "${values.name}". It is shown once; keep it safe:\n${token}\n`);
        return;
      }
      case 'list': {
        const list = await tokens.list();
        if (list.length === 0) process.stdout.write('No tokens yet: create one with `cron-ops-server token create --name NAME --role admin`.\n');
        for (const token of list) {
          process.stdout.write(`${token.name}\t${token.role}\tcreated ${token.createdAt}\tlast used ${token.lastUsedAt ?? 'never'}${token.revokedAt ? `\tREVOKED ${token.revokedAt}` : ''}\n`);
        }
        return;
      }
      case 'revoke': {
        const name = target ?? values.name;
        if (!name) throw new UsageError('token revoke needs the token name');
        if (!(await tokens.revoke(name))) throw new UsageError(`No active token named "${name}" (see \`cron-ops-server token list\`).`);
        await audit.record({ actor, role: null, action: 'token.revoke', target: name });
        process.stdout.write(`Revoked token "${name}".\n`);
        return;
      }
      default:
        throw new UsageError(`Unknown token command "${action ?? ''}".`);
    }
  } finally {
    await db.close();
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

  const db = await openStore(values);
  let app: App;
  try {
    app = await buildApp({ config, db, log, runnerId: values['runner-id'], adminToken: process.env.CRON_OPS_ADMIN_TOKEN || undefined, cronSecret: process.env.CRON_SECRET || undefined });
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
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
  const where = db.kind === 'postgres' ? `at ${redactUrl(process.env.DATABASE_URL!)}` : values.memory ? '(in memory)' : `in ${join(resolve(values.data ?? defaultDataDir()), SQLITE_FILE)}`;
  log.info(`Cron Ops server: ${config.crons.length} crons from ${configPath}, store ${db.kind} ${where}, runner ${app.runnerId}`);
  log.info(`Cron Ops server listening on ${url}`);
  if (firstToken) {
    process.stdout.write(
      [
        '',
        'First start: a super-admin token was created. It is shown only this once:',
        '',
        `    ${firstToken}`,
        '',
        'Sign in from VS Code: run "Cron Ops: Sign In" from the Command Palette and paste it',
        `(set "cronOps.serverUrl" to ${url} if you changed the port). More tokens: cron-ops-server token create --name NAME --role admin`,
        '',
      ].join('\n') + '\n',
    );
  } else {
    log.info(`Sign in from VS Code with "Cron Ops: Sign In" and a token (cron-ops-server token create --name NAME --role admin).`);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received: stopping (running executions are stopped and recorded)`);
    const forced = setTimeout(() => {
      log.error('Shutdown took too long: exiting anyway');
      process.exit(1);
    }, 20_000);
    forced.unref();
    app.close().then(
      () => {
        log.info('Stopped');
        process.exit(0);
      },
      (error) => {
        log.error('Shutdown failed', { error: errorText(error) });
        process.exit(1);
      },
    );
  };
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
  if (error instanceof ConfigError) {
    process.stderr.write(`Invalid cron config:\n${error.problems.map((problem) => `  ${problem}`).join('\n')}\nFix the file and start again.\n`);
  } else if (error instanceof UsageError || (error as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    process.stderr.write(`${errorText(error)}\n\n${USAGE}\n`);
  } else {
    process.stderr.write(`cron-ops-server: ${errorText(error)}\n`);
  }
  process.exit(2);
});
