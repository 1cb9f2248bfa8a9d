// Retries and alerts with three instances on one PostgreSQL: each retry runs once, each chain alerts once.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { databaseFor, startPostgres, type TestPostgres } from '../../support/postgres';
import { nodeCron, startServer, writeConfig, type ServerProcess } from '../../support/serverProcess';
import { triggerOk } from '../../support/http';
import { waitFor } from '../../support/waitFor';

const CRONS = ['fails-a', 'fails-b', 'fails-c', 'fails-d', 'fails-e', 'fails-f'];

describe('retries and alerts across instances on one PostgreSQL', function () {
  this.timeout(180_000);
  let postgres: TestPostgres;
  let sql: pg.Pool;
  let servers: ServerProcess[] = [];
  let hook: Server;
  const alerts: Array<{ cronName: string; event: string; attempt: number }> = [];

  before(async () => {
    hook = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        alerts.push(JSON.parse(body));
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    postgres = await startPostgres();
    const dataKey = mkdtempSync(join(tmpdir(), 'cron-ops-alerts-scaleout-'));
    const databaseUrl = await databaseFor(postgres.baseUrl, dataKey);
    const configPath = writeConfig(JSON.stringify({
      crons: CRONS.map((name) => ({ ...nodeCron(name, 'process.exit(1)'), retries: { count: 2, delayMs: 1000 } })),
      rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
      alerts: {
        destinations: { ops: { type: 'webhook', url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`, secretEnv: 'ALERTS_TEST_SECRET' } },
        rules: [{ on: ['failed'], to: ['ops'] }],
      },
    }));
    servers = await Promise.all(
      ['runner-a', 'runner-b', 'runner-c'].map((runnerId) =>
        startServer({ config: configPath, env: { DATABASE_URL: databaseUrl, CRON_OPS_RUNNER_ID: runnerId, ALERTS_TEST_SECRET: 'secret' }, args: ['--data', dataKey] }),
      ),
    );
    sql = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  });

  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await sql?.end();
    postgres?.stop();
    hook?.close();
  });

  it('runs each retry once and sends one alert per chain', async () => {
    const firsts = await Promise.all(CRONS.map((name, index) => triggerOk(servers[index % 3], name)));
    await waitFor(async () => (await sql.query(`SELECT count(*)::int AS n FROM cron_executions WHERE status = 'failed'`)).rows[0].n === CRONS.length * 3 && alerts.length >= CRONS.length, 'three failed attempts of each cron and their alerts', 120_000);
    const { rows } = await sql.query(`SELECT cron_name, array_agg(attempt ORDER BY attempt) AS attempts, count(DISTINCT COALESCE(retry_of, id))::int AS chains
      FROM cron_executions GROUP BY cron_name ORDER BY cron_name`);
    assert.deepEqual(rows, CRONS.map((name) => ({ cron_name: name, attempts: [1, 2, 3], chains: 1 })));
    const chained = await sql.query(`SELECT count(*)::int AS n FROM cron_executions WHERE retry_of = ANY($1::uuid[])`, [firsts]);
    assert.equal(chained.rows[0].n, CRONS.length * 2);
    // Whichever instance ended the last attempt sent the alert; no instance sent another.
    await waitFor(async () => (await sql.query(`SELECT count(*)::int AS n FROM alert_deliveries WHERE status = 'pending'`)).rows[0].n === 0, 'no delivery pending');
    assert.deepEqual(alerts.map((alert) => [alert.cronName, alert.event, alert.attempt]).sort(), CRONS.map((name) => [name, 'failed', 3]));
    assert.equal((await sql.query(`SELECT count(*)::int AS n FROM cron_retries`)).rows[0].n, 0);
  });
});
