// Retries and alerts on a real server: a failing process retried as linked attempts, one signed alert to a
// receiver on loopback when the last attempt fails, a manual run cancelling a waiting retry, and a retry
// waiting across a restart.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Execution } from '../../src/shared/api';
import { api, listExecutions, triggerOk, waitForStatus } from '../support/http';
import { nodeCron, startServer, TEST_CRON_SECRET, writeConfig, type ServerProcess } from '../support/serverProcess';
import { waitFor } from '../support/waitFor';
import { httpReceiver as receiver } from '../support/httpReceiver';

const SECRET = 'alerts-test-secret';
const FAIL = 'console.error("no route to the warehouse"); process.exit(3)';

function configWith(url: string, crons: unknown[]): string {
  return writeConfig(JSON.stringify({
    crons,
    rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
    alerts: {
      destinations: { ops: { type: 'webhook', url, secretEnv: 'ALERTS_TEST_SECRET' } },
      rules: [{ on: ['failed', 'timeout', 'recovered', 'stuck'], to: ['ops'] }],
      delivery: { attempts: 3, delayMs: 100 },
    },
  }));
}

const chainOf = (executions: Execution[], first: string) => executions.filter((execution) => execution.id === first || execution.retryOf === first).sort((a, b) => a.attempt! - b.attempt!);

describe('retries and alerts', function () {
  this.timeout(120_000);
  let hook: Awaited<ReturnType<typeof receiver>>;
  const servers: ServerProcess[] = [];
  const dirs: string[] = [];
  const start = async (configPath: string, args: string[] = []) => {
    const server = await startServer({ config: configPath, args, env: { ALERTS_TEST_SECRET: SECRET } });
    servers.push(server);
    return server;
  };

  before(async () => {
    hook = await receiver();
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    hook.server.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('retries a failing process as attempts linked to the first, then sends one signed alert', async () => {
    const server = await start(configWith(hook.url, [{ ...nodeCron('flaky', FAIL), retries: { count: 2, delayMs: 200, backoff: 2 } }]));
    const first = await triggerOk(server, 'flaky');
    const chain = await waitFor(async () => {
      const found = chainOf(await listExecutions(server, '?cronName=flaky'), first);
      return found.length === 3 && found.every((execution) => execution.status === 'failed') ? found : undefined;
    }, 'three failed attempts', 60_000);
    assert.deepEqual(chain.map((execution) => [execution.attempt, execution.retryOf]), [[1, null], [2, first], [3, first]]);
    assert.deepEqual(chain.map((execution) => execution.triggerType), ['manual', 'scheduled', 'scheduled']);
    assert.match(chain[2].errorMessage!, /Exited with code 3: no route to the warehouse/);
    // Attempt 3 came at least 400 ms (200 × 2) after attempt 2 ended.
    assert.ok(Date.parse(chain[2].startedAt) - Date.parse(chain[1].completedAt!) >= 390);

    const [alert] = await waitFor(() => (hook.received.length > 0 ? hook.received : undefined), 'the alert', 30_000);
    const [t, v1] = String(alert.headers['x-cron-ops-signature']).split(',').map((part) => part.split('=')[1]);
    assert.equal(v1, createHmac('sha256', SECRET).update(`${t}.${alert.body}`).digest('hex'));
    const message = JSON.parse(alert.body);
    assert.deepEqual([message.event, message.cronName, message.executionId, message.attempt, message.retryOf], ['failed', 'flaky', chain[2].id, 3, first]);
    assert.match(message.summary, /^flaky failed after 3 attempts: Exited with code 3: no route to the warehouse$/);
    assert.equal(hook.received.length, 1, 'no alert for the attempts that were retried');
    await server.stop();
  });

  it('sends a test alert on request and shows the last delivery of each destination', async () => {
    const server = await start(configWith(hook.url, [nodeCron('quiet', 'process.exit(0)')]));
    const before = hook.received.length;
    // As `curl -X POST` sends it: no body at all means every destination.
    const sent = await api(server, '/api/admin/alerts/test', { method: 'POST' });
    assert.equal(sent.status, 202, sent.text);
    assert.deepEqual(sent.body.deliveries.map((delivery: { destination: string; status: string }) => [delivery.destination, delivery.status]), [['ops', 'pending']]);
    const received = await waitFor(() => hook.received[before], 'the test alert');
    const message = JSON.parse(received.body);
    assert.deepEqual([message.id, message.test], [sent.body.alertId, true]);
    const status = await waitFor(async () => {
      const reply = await api(server, '/api/admin/alerts');
      return reply.body.destinations[0]?.lastStatus === 'sent' ? reply.body : undefined;
    }, 'the delivery recorded as sent');
    assert.deepEqual(status.destinations, [{ name: 'ops', type: 'webhook', target: hook.url, lastStatus: 'sent', lastAttemptAt: status.deliveries[0].lastAttemptAt, lastSentAt: status.deliveries[0].sentAt, lastError: null }]);
    assert.equal(status.deliveries[0].alertId, sent.body.alertId);

    const unknown = await api(server, '/api/admin/alerts/test', { method: 'POST', body: { destination: 'pager' } });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, 'No alert destination named "pager": the config declares ops');
    await server.stop();
  });

  it('announces a run past its timeout that no runner here can end (an external script\'s), with the timeout in effect', async () => {
    // Started with a long timeout, then shortened by a reload: the alert quotes the timeout the run outlived.
    const configPath = configWith(hook.url, [nodeCron('external-job', 'process.exit(0)', { timeoutMs: 3_600_000 })]);
    const server = await start(configPath);
    const before = hook.received.length;
    const started = await api(server, '/api/cron/start', { method: 'POST', secret: TEST_CRON_SECRET, body: { cronName: 'external-job' } });
    assert.ok(started.status === 200 || started.status === 201, started.text);
    const id: string = started.body.id ?? started.body.executionId;
    writeFileSync(configPath, readFileSync(configWith(hook.url, [nodeCron('external-job', 'process.exit(0)', { timeoutMs: 500 })]), 'utf8'));
    await server.waitForOutput(/\[Definitions\] Reloaded .*changed external-job \(timeoutMs\)/);
    // The check runs every 15 s: the alert comes within two rounds.
    const alert = await waitFor(() => hook.received.slice(before).find((received) => JSON.parse(received.body).event === 'stuck'), 'the stuck alert', 40_000);
    const message = JSON.parse(alert.body);
    assert.equal(message.executionId, id);
    assert.match(message.summary, /^external-job is stuck: running for .+, past its timeout of 500 ms; Mark as Failed ends it$/);
    await server.waitForOutput(/\[Alerts\] Sent stuck of external-job to ops/);
    assert.equal((await api(server, `/api/admin/cron-executions/${id}`)).body.stuck, true);
    await server.stop();
  });

  it('runs a manual trigger now and cancels the retry that was waiting', async () => {
    const server = await start(configWith(hook.url, [{ ...nodeCron('patient', FAIL), retries: { count: 1, delayMs: 600_000 } }]));
    const first = await triggerOk(server, 'patient');
    await waitForStatus(server, first, 'failed');
    await server.waitForOutput(/\[Retry\] patient: attempt 2 at /);
    const manual = await triggerOk(server, 'patient');
    await server.waitForOutput(new RegExp(`\\[Retry\\] patient: attempt 2 cancelled: manual run ${manual} started`));
    await waitForStatus(server, manual, 'failed');
    // The manual run is a first attempt of its own, with a retry of its own.
    const runs = await listExecutions(server, '?cronName=patient');
    assert.deepEqual(runs.map((run) => [run.id, run.attempt, run.retryOf]).reverse(), [[first, 1, null], [manual, 1, null]]);
    await server.stop();
  });

  it('keeps a waiting retry across a restart and runs it once its time comes', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cron-ops-alerts-'));
    dirs.push(dataDir);
    const configPath = configWith(hook.url, [{ ...nodeCron('nightly', FAIL), retries: { count: 1, delayMs: 4000 } }]);
    let server = await start(configPath, ['--data', dataDir]);
    const first = await triggerOk(server, 'nightly');
    await waitForStatus(server, first, 'failed');
    await server.waitForOutput(/\[Retry\] nightly: attempt 2 at /);
    assert.equal(await server.stop(), 0);

    server = await start(configPath, ['--data', dataDir]);
    const retried = await waitFor(async () => (await listExecutions(server, '?cronName=nightly')).find((run) => run.retryOf === first), 'the retry after the restart', 60_000);
    assert.equal(retried.attempt, 2);
    assert.equal((await waitForStatus(server, retried.id, 'failed')).attempt, 2);
    await server.stop();
  });
});
