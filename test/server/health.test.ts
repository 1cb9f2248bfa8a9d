// Honest health, with a real server process on a real PostgreSQL made read-only under it (the test's own
// PostgreSQL, so both passes of the suite run it): /health says 503 degraded with the reason while writes
// fail, and a run that exited 0 meanwhile is recorded completed once writes work again.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { API_PATHS } from '../../src/shared/api';
import { api, getExecution, triggerOk, waitForStatus } from '../support/http';
import { databaseFor, startPostgres, type TestPostgres } from '../support/postgres';
import { nodeCron, startServer, type ServerProcess } from '../support/serverProcess';
import { waitFor } from '../support/waitFor';

describe('honest health', function () {
  this.timeout(180_000);
  let postgres: TestPostgres;
  let server: ServerProcess;
  let databaseUrl: string;
  const signal = join(mkdtempSync(join(tmpdir(), 'cron-ops-health-')), 'go');

  before(async () => {
    postgres = await startPostgres();
    databaseUrl = await databaseFor(postgres.baseUrl, `health-${process.pid}`);
    server = await startServer({
      config: {
        crons: [nodeCron('waits', `const fs = require("fs"); console.log("waiting"); const t = setInterval(() => { if (fs.existsSync(${JSON.stringify(signal)})) { clearInterval(t); console.log("done"); } }, 100)`)],
        rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
      },
      env: { DATABASE_URL: databaseUrl },
    });
  });

  after(async () => {
    await server?.stop();
    postgres?.stop();
  });

  /** Makes the database refuse writes (or take them again) for every new session, and ends the current ones. */
  async function setReadOnly(readOnly: boolean): Promise<void> {
    const name = new URL(databaseUrl).pathname.slice(1);
    const admin = new pg.Client({ connectionString: `${postgres.baseUrl}/postgres` });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE ${name} SET default_transaction_read_only = ${readOnly ? 'on' : 'off'}`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    } finally {
      await admin.end();
    }
  }

  it('says 503 degraded with the reason while writes fail; a run that exited 0 meanwhile is recorded completed after', async () => {
    const healthy = await api(server, API_PATHS.health, { token: null });
    assert.equal(healthy.status, 200, healthy.text);
    assert.equal(healthy.body.status, 'ok');
    const id = await triggerOk(server, 'waits');
    await waitFor(async () => (await api(server, `${API_PATHS.logs(id)}?after=0`)).body.lines.length > 0 || undefined, 'the run to start');

    await setReadOnly(true);
    const degraded = await waitFor(async () => {
      const reply = await api(server, API_PATHS.health, { token: null });
      return reply.status === 503 ? reply : undefined;
    }, '/health to say degraded', 20_000, 200);
    assert.equal(degraded.body.status, 'degraded');
    assert.match(degraded.body.reason, /writes/);
    assert.match(degraded.body.reason, /read-only/, 'the reason names the cause');

    writeFileSync(signal, 'go'); // the run exits 0 while nothing can be written
    await waitFor(async () => /Recording the end of|failed: retrying/.test(server.output()) || undefined, 'the server to retry recording the end', 20_000, 200);
    assert.equal((await getExecution(server, id)).status, 'running', 'not recorded yet: the store refuses writes');

    await setReadOnly(false);
    await waitFor(async () => (await api(server, API_PATHS.health, { token: null })).status === 200 || undefined, '/health back to ok', 30_000, 200).catch((error: Error) => {
      throw new Error(`${error.message}\nserver exit code: ${server.child.exitCode}, signal: ${server.child.signalCode}; its output ends with:\n${server.output().slice(-3000)}`);
    });
    const done = await waitForStatus(server, id, 'completed', 60_000);
    assert.equal(done.exitCode, 0);
  });
});
