// The in-process tier: the whole backend (buildApp: real store, runner, scheduler, HTTP) in the test's own
// process, asked through Fastify's inject (no socket). For route details; real processes stay for the
// runner, crashes and streams.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp, type App } from '../../src/server/app';
import { parseConfig } from '../../src/server/config';
import { createLogger } from '../../src/server/logger';
import { openPostgres, openSqlite, type Db } from '../../src/server/store/db';
import { databaseFor, TEST_DATABASE_ENV } from './postgres';
import { TEST_ADMIN_TOKEN, TEST_CRON_SECRET, type TestConfig } from './serverProcess';

export interface InProcessApp {
  app: App;
  /** The store, for setting up rows the API cannot make (old ones). */
  db: Db;
  /** Every line the server logged so far (pino's JSON lines). */
  logLines: string[];
  /** Injects a request; a token (default the test super-admin) unless `secret` or `token: null`. */
  request(options: InjectOptions & { token?: string | null; secret?: string }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

let databases = 0;

async function openStore(): Promise<Db> {
  const base = process.env[TEST_DATABASE_ENV];
  if (!base) return openSqlite({ file: undefined, log: createLogger({ level: 'error', write: () => undefined }) });
  return openPostgres({ url: await databaseFor(base, `inject-${process.pid}-${Date.now()}-${databases++}`), log: createLogger({ level: 'error', write: () => undefined }) });
}

export async function startInProcess(config: TestConfig & { allowedHosts?: string[]; maxStreamsPerToken?: number; host?: string }): Promise<InProcessApp> {
  const dir = mkdtempSync(join(tmpdir(), 'cron-ops-inject-'));
  const path = join(dir, 'crons.json');
  writeFileSync(path, JSON.stringify(config));
  const logLines: string[] = [];
  const log = createLogger({ json: true, level: 'debug', write: (line) => logLines.push(line) });
  const db = await openStore();
  const app = await buildApp({ config: parseConfig(JSON.stringify(config), path), db, log, adminToken: TEST_ADMIN_TOKEN, cronSecret: TEST_CRON_SECRET, runnerId: `inject-${process.pid}` });
  await app.http.ready();
  return {
    app,
    db,
    logLines,
    request({ token, secret, headers, ...options }) {
      const auth: Record<string, string> = {};
      const bearer = token === undefined ? (secret === undefined ? TEST_ADMIN_TOKEN : null) : token;
      if (bearer !== null) auth.authorization = `Bearer ${bearer}`;
      if (secret !== undefined) auth['x-cron-secret'] = secret;
      return app.http.inject({ ...options, headers: { ...auth, ...(headers ?? {}) } });
    },
    close: () => app.close(),
  };
}
