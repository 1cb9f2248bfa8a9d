// Runner ids are leases, with real server processes on a real PostgreSQL (the test's own, so both passes
// of the suite run it): an id held by a live instance (on this host, or heartbeating from another) is
// refused at start with a message naming the holder, and its runs are left alone; only the runs of an
// expired lease are reconciled.
import assert from 'node:assert/strict';
import pg from 'pg';
import { API_PATHS } from '../../src/shared/api';
import { api, getExecution } from '../support/http';
import { databaseFor, startPostgres, type TestPostgres } from '../support/postgres';
import { nodeCron, runServerCommand, startServer, writeConfig, type ServerProcess } from '../support/serverProcess';

describe('runner ids are leases', function () {
  this.timeout(180_000);
  let postgres: TestPostgres;
  let databaseUrl: string;
  let configPath: string;
  let first: ServerProcess | undefined;
  let sql: pg.Client;

  before(async () => {
    postgres = await startPostgres();
    databaseUrl = await databaseFor(postgres.baseUrl, `lease-${process.pid}`);
    configPath = writeConfig({ crons: [nodeCron('hangs', 'setInterval(() => {}, 1000)'), nodeCron('remote-job', 'setInterval(() => {}, 1000)')] });
    first = await startServer({ config: configPath, env: { DATABASE_URL: databaseUrl, CRON_OPS_RUNNER_ID: 'runner-one' } });
    sql = new pg.Client({ connectionString: databaseUrl });
    await sql.connect();
  });

  after(async () => {
    await sql?.end();
    await first?.stop();
    postgres?.stop();
  });

  const startWith = (runnerId: string) => runServerCommand(['--config', configPath, '--host', '127.0.0.1', '--port', '0', '--memory'], { DATABASE_URL: databaseUrl, CRON_OPS_RUNNER_ID: runnerId }, 60_000);

  it('a second instance with the id of a live one on this host fails at once, naming its PID; the first one\'s run goes on', async () => {
    const triggered = await api(first!, API_PATHS.trigger, { body: { cronName: 'hangs' } });
    assert.equal(triggered.status, 202, triggered.text);
    const second = await startWith('runner-one');
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, new RegExp(`Runner id "runner-one".*in use by PID ${first!.child.pid}\\b`), second.stderr);
    assert.equal((await getExecution(first!, triggered.body.executionId)).status, 'running', 'not marked failed by the second instance');
    assert.equal((await api(first!, API_PATHS.cancel(triggered.body.executionId), { method: 'POST' })).status, 200);
  });

  it('an id heartbeating from another host is refused, naming the host; once its lease expired, its runs are reconciled', async () => {
    const [{ id }] = (
      await sql.query(`INSERT INTO cron_executions (id, cron_name, status, trigger_type, runner_id) VALUES (gen_random_uuid(), 'remote-job', 'running', 'manual', 'runner-two') RETURNING id`)
    ).rows;
    await sql.query(`INSERT INTO runners (runner_id, host, version, last_seen_at) VALUES ('runner-two', 'other-host.example', '0.1.0', now())`);
    const refused = await startWith('runner-two');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Runner id "runner-two" is held by a live instance on other-host\.example/, refused.stderr);
    assert.equal((await getExecution(first!, id)).status, 'running', 'the live lease\'s run is left alone');

    await sql.query(`UPDATE runners SET last_seen_at = now() - interval '1 hour' WHERE runner_id = 'runner-two'`);
    const taker = await startServer({ config: configPath, env: { DATABASE_URL: databaseUrl, CRON_OPS_RUNNER_ID: 'runner-two' } });
    try {
      const reconciled = await getExecution(taker, id);
      assert.equal(reconciled.status, 'failed', 'the expired lease\'s run is reconciled');
      assert.match(reconciled.errorMessage ?? '', /Interrupted/);
    } finally {
      await taker.stop();
    }
  });
});
