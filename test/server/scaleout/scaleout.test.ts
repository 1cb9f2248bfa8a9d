// Several backend instances on one real PostgreSQL: the guarantees of one machine hold across three.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { databaseFor, startPostgres, type TestPostgres } from '../../support/postgres';
import { nodeCron, startServer, TEST_ADMIN_TOKEN, writeConfig, type ServerProcess, type TestConfig } from '../../support/serverProcess';
import { api } from '../../support/http';
import { openSse } from '../../support/sse';
import { waitFor } from '../../support/waitFor';

const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/** A killed server leaves its children running in their own process groups: end them. */
function endOrphans(executionId: string): void {
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`CRON_EXECUTION_ID=${executionId}`)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Gone already, or not ours to read.
    }
  }
}

describe('several instances on one PostgreSQL', function () {
  this.timeout(120_000);
  let postgres: TestPostgres;
  let databaseUrl: string;
  let sql: pg.Pool;
  let servers: ServerProcess[] = [];

  const config: TestConfig = {
    crons: [
      nodeCron('every-second', 'console.log("tick")', { schedule: '* * * * * *' }),
      nodeCron('slow', 'console.log("working"); setTimeout(() => console.log("done"), 4000)', { estimatedDurationMs: 4000 }),
      nodeCron('hangs', 'console.log("hanging"); setInterval(() => {}, 1000)', { timeoutMs: 2000 }),
      nodeCron('pinned', 'console.log("on " + process.env.CRON_NAME)', { runOn: ['runner-c'] }),
      nodeCron('steady', 'let n = 0; const t = setInterval(() => { console.log("step " + ++n); if (n === 6) clearInterval(t); }, 500)'),
    ],
    rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
    killGraceMs: 500,
  };

  before(async () => {
    postgres = await startPostgres();
    const dataKey = mkdtempSync(join(tmpdir(), 'cron-ops-scaleout-'));
    databaseUrl = await databaseFor(postgres.baseUrl, dataKey);
    const configPath = writeConfig(config);
    servers = await Promise.all(
      ['runner-a', 'runner-b', 'runner-c'].map((runnerId) => startServer({ config: configPath, env: { DATABASE_URL: databaseUrl, CRON_OPS_RUNNER_ID: runnerId }, args: ['--data', dataKey] })),
    );
    sql = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  });

  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await sql?.end();
    postgres?.stop();
  });

  it('runs each scheduled tick exactly once across the three instances', async () => {
    const firstTick = await waitFor(async () => (await sql.query(`SELECT min(tick_at) AS t FROM schedule_ticks WHERE cron_name = 'every-second'`)).rows[0].t, 'a first tick');
    await waitFor(async () => (await sql.query(`SELECT count(*)::int AS n FROM cron_executions WHERE cron_name = 'every-second' AND started_at >= $1`, [firstTick])).rows[0].n >= 10, 'ten scheduled runs', 30_000);
    await api(servers[0], '/api/admin/crons/every-second/pause', { method: 'POST' });
    const { rows } = await sql.query(`SELECT date_trunc('second', started_at) AS second, count(*)::int AS n, array_agg(runner_id) AS runners
      FROM cron_executions WHERE cron_name = 'every-second' GROUP BY 1 ORDER BY 1`);
    const repeated = rows.filter((row) => row.n > 1);
    assert.deepEqual(repeated, [], 'no second has two scheduled runs');
    // Every claimed tick ran, or was skipped (and said so) because the previous run was still going, which
    // a loaded machine makes happen; the pause reaches the other instances a moment later, so a tick
    // claimed meanwhile gets its run just after.
    await waitFor(async () => {
      const { rows: [counts] } = await sql.query(`SELECT (SELECT count(*)::int FROM schedule_ticks WHERE cron_name = 'every-second') AS ticks,
        (SELECT count(*)::int FROM cron_executions WHERE cron_name = 'every-second') AS runs`);
      const skipped = servers.reduce((sum, server) => sum + (server.output().match(/Skipped every-second at/g) ?? []).length, 0);
      return counts.ticks === counts.runs + skipped;
    }, 'one run per claimed tick (or its skip)');
  });

  it('gives exactly one run for 30 concurrent triggers spread over the instances', async () => {
    const replies = await Promise.all(Array.from({ length: 30 }, (_, index) => api(servers[index % 3], '/api/admin/cron-executions/trigger', { method: 'POST', body: { cronName: 'slow' } })));
    const started = replies.filter((reply) => reply.status === 202);
    const refused = replies.filter((reply) => reply.status === 409);
    assert.equal(started.length, 1, `one 202, got ${replies.map((reply) => reply.status).join(',')}`);
    assert.equal(refused.length, 29);
    for (const reply of refused) assert.equal(reply.body.runningExecutionId, started[0].body.executionId);
    const { rows } = await sql.query(`SELECT count(*)::int AS n FROM cron_executions WHERE cron_name = 'slow'`);
    assert.equal(rows[0].n, 1);
  });

  it('delivers an event raised on one instance to an SSE client of another', async () => {
    const events = await openSse(servers[2].url);
    try {
      const trigger = await api(servers[0], '/api/admin/cron-executions/trigger', { method: 'POST', body: { cronName: 'steady' } });
      assert.equal(trigger.status, 202);
      const id = trigger.body.executionId;
      await events.next((event) => event.event === 'execution.started' && event.data.execution.id === id);
      const finished = await events.next((event) => event.event === 'execution.finished' && event.data.execution.id === id);
      assert.equal(finished.data.execution.status, 'completed');
    } finally {
      events.drop();
    }
  });

  it('shows an update made by hand in SQL (the guide\'s) in the API and the events', async () => {
    const trigger = await api(servers[1], '/api/admin/cron-executions/trigger', { method: 'POST', body: { cronName: 'hangs' } });
    const id = trigger.body.executionId;
    const events = await openSse(servers[0].url);
    try {
      await waitFor(async () => (await api(servers[0], `/api/admin/cron-executions/${id}/logs`)).body.lines.length > 0, 'the run to print');
      await sql.query(`UPDATE cron_executions SET status = 'failed', completed_at = NOW(), error_message = 'Timeout - manually cancelled' WHERE id = $1`, [id]);
      const finished = await events.next((event) => event.event === 'execution.finished' && event.data.execution.id === id);
      assert.equal(finished.data.execution.errorMessage, 'Timeout - manually cancelled');
      assert.ok(finished.data.execution.durationMs >= 0, 'the duration is filled in');
      const { body } = await api(servers[2], `/api/admin/cron-executions/${id}`);
      assert.equal(body.status, 'failed');
      const guide = await sql.query(`SELECT id, cron_name, status, duration_ms, TO_CHAR(started_at, 'HH24:MI:SS') as started
        FROM cron_executions WHERE cron_name = 'hangs' ORDER BY started_at DESC LIMIT 1`);
      assert.equal(guide.rows[0].id, id);
      assert.equal(guide.rows[0].status, 'failed');
    } finally {
      events.drop();
    }
  });

  it('runs a cron pinned with runOn on its runner, whichever instance was asked', async () => {
    const trigger = await api(servers[0], '/api/admin/cron-executions/trigger', { method: 'POST', body: { cronName: 'pinned' } });
    assert.equal(trigger.status, 202);
    const ended = await waitFor(async () => {
      const { body } = await api(servers[1], `/api/admin/cron-executions/${trigger.body.executionId}`);
      return body.status !== 'running' ? body : undefined;
    }, 'the pinned run to end');
    assert.equal(ended.status, 'completed');
    assert.equal(ended.runnerId, 'runner-c');
    const logs = await api(servers[1], `/api/admin/cron-executions/${trigger.body.executionId}/logs`);
    assert.deepEqual(logs.body.lines.map((line: { line: string }) => line.line), ['on pinned']);
  });

  it('reports the runs of a killed instance as stuck, and Mark as Failed ends them', async () => {
    const victim = servers[1];
    const trigger = await api(victim, '/api/admin/cron-executions/trigger', { method: 'POST', body: { cronName: 'hangs' } });
    assert.equal(trigger.status, 202);
    const id = trigger.body.executionId;
    await waitFor(async () => (await api(victim, `/api/admin/cron-executions/${id}/logs`)).body.lines.length > 0, 'the run to print');
    await victim.kill9();
    const stuck = await waitFor(async () => {
      const { body } = await api(servers[0], `/api/admin/cron-executions/${id}`);
      return body.stuck === true ? body : undefined;
    }, 'the run to be reported stuck', 15_000);
    assert.equal(stuck.status, 'running');
    const marked = await api(servers[2], `/api/admin/cron-executions/${id}/mark-failed`, { method: 'POST', body: {} });
    assert.equal(marked.status, 200);
    assert.equal(marked.body.status, 'failed');
    assert.equal(marked.body.errorMessage, 'Timeout - manually cancelled');
    servers = servers.filter((server) => server !== victim);
    endOrphans(id);
  });

  it('loses no execution when the database stops and starts during runs', async () => {
    const trigger = await api(servers[0], '/api/admin/cron-executions/trigger', { method: 'POST', body: { cronName: 'steady' } });
    const id = trigger.body.executionId;
    await waitFor(async () => (await api(servers[0], `/api/admin/cron-executions/${id}/logs`)).body.lines.length > 0, 'the run to print');
    await sql.end();
    postgres.pause();
    const during = await fetch(`${servers[0].url}/api/admin/crons`, { headers: auth });
    assert.equal(during.status, 503);
    assert.match(((await during.json()) as { error: string }).error, /store is unavailable/);
    // The run goes on printing and ends while the database is down.
    await servers[0].waitForOutput(new RegExp(`Storing the last log lines of ${id}|Recording the end of ${id}`), 20_000);
    postgres.resume();
    sql = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    const ended = await waitFor(async () => {
      const { status, body } = await api(servers[0], `/api/admin/cron-executions/${id}`);
      return status === 200 && body.status !== 'running' ? body : undefined;
    }, 'the run to be recorded', 60_000);
    assert.equal(ended.status, 'completed');
    const logs = await api(servers[0], `/api/admin/cron-executions/${id}/logs`);
    assert.deepEqual(logs.body.lines.map((line: { line: string }) => line.line), ['step 1', 'step 2', 'step 3', 'step 4', 'step 5', 'step 6']);
    for (const server of servers) assert.equal(server.child.exitCode, null, 'every instance is still up');
  });
});
