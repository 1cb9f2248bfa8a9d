// Retries that do not run, on a real server with real failing processes and a web hook receiver on loopback:
// a later success ends the chain (the waiting retry is dropped, no `failed` alert); a retry dropped because
// its cron was paused or disabled sends the alert its failure held back, saying why; clients learn of both
// through `crons.changed`.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_PATHS, type Cron, type Execution } from '../../src/shared/api';
import { api, getExecution, listExecutions, triggerOk, waitForStatus } from '../support/http';
import { httpReceiver as receiver, type HttpReceiver } from '../support/httpReceiver';
import { nodeCron, startServer, writeConfig, type ServerProcess } from '../support/serverProcess';
import { openSse, type SseStream } from '../support/sse';
import { waitFor } from '../support/waitFor';

const FAIL = 'console.error("tape drive offline"); process.exit(4)';

function configText(url: string, crons: unknown[]): string {
  return JSON.stringify({
    crons,
    rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
    alerts: {
      destinations: { ops: { type: 'webhook', url, secretEnv: 'ALERTS_TEST_SECRET' } },
      rules: [{ on: ['failed', 'timeout', 'recovered'], to: ['ops'] }],
      delivery: { attempts: 3, delayMs: 100 },
    },
  });
}

async function cronNamed(server: ServerProcess, name: string): Promise<Cron> {
  const reply = await api(server, '/api/admin/crons');
  assert.equal(reply.status, 200, reply.text);
  return (reply.body.crons as Cron[]).find((cron) => cron.name === name)!;
}

const alertsOf = (hook: HttpReceiver, cronName: string) => hook.received.map((received) => JSON.parse(received.body)).filter((message) => message.cronName === cronName);

describe('retries that do not run', function () {
  this.timeout(180_000);
  let hook: HttpReceiver;
  const servers: ServerProcess[] = [];
  const streams: SseStream[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'cron-ops-retry-drops-'));
  const start = async (configPath: string) => {
    const server = await startServer({ config: configPath, env: { ALERTS_TEST_SECRET: 'drops-secret' } });
    servers.push(server);
    const stream = await openSse(server.url);
    streams.push(stream);
    return { server, stream };
  };

  before(async () => {
    hook = await receiver();
  });
  after(async () => {
    for (const stream of streams) stream.drop();
    await Promise.all(servers.map((server) => server.stop()));
    hook.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('drops the retry waiting after a failed tick once a later tick succeeds, and sends no failed alert', async () => {
    // Fails the first time (it leaves a mark), succeeds from then on: one failing tick, then good ones.
    const mark = join(dir, 'flappy-failed-once');
    const script = `const fs = require("fs"); if (!fs.existsSync(${JSON.stringify(mark)})) { fs.writeFileSync(${JSON.stringify(mark)}, "x"); console.error("tape drive offline"); process.exit(4); }`;
    const { server, stream } = await start(writeConfig(configText(hook.url, [{ ...nodeCron('flappy', script, { schedule: '*/2 * * * * *' }), retries: { count: 2, delayMs: 25_000 } }])));
    const failed = (await stream.next((event) => event.event === 'execution.finished' && event.data.execution.cronName === 'flappy' && event.data.execution.status === 'failed', 'the failing tick', 60_000)).data.execution as Execution;
    assert.equal(failed.retry?.attempt, 2, 'the failed tick first says a retry waits');
    const success = (await stream.next((event) => event.event === 'execution.finished' && event.data.execution.cronName === 'flappy' && event.data.execution.status === 'completed', 'a later tick succeeding', 60_000)).data.execution as Execution;
    assert.ok(Date.parse(success.startedAt) > Date.parse(failed.startedAt));
    await server.waitForOutput(/\[Retry\] flappy: attempt 2 dropped: a later run of flappy succeeded/, 30_000);
    await stream.next((event) => event.event === 'crons.changed' && (event.data.cronNames as string[] | undefined)?.includes('flappy') === true, 'clients told the retry went away', 30_000);
    assert.equal((await getExecution(server, failed.id)).retry, null, 'the failed tick no longer shows a retry');
    assert.equal((await cronNamed(server, 'flappy')).pendingRetry, null);
    // The cron works again: `recovered`, and never a `failed` for the dropped chain.
    await waitFor(() => alertsOf(hook, 'flappy').find((message) => message.event === 'recovered'), 'the recovered alert', 30_000);
    await api(server, API_PATHS.pause('flappy'), { method: 'POST' });
    assert.deepEqual(alertsOf(hook, 'flappy').filter((message) => message.event === 'failed'), []);
    assert.deepEqual((await listExecutions(server, '?cronName=flappy')).filter((run) => run.retryOf === failed.id), [], 'the retry never ran');
  });

  it('sends the held-back failed alert when the retry is dropped because the cron was paused, or disabled by a reload', async () => {
    const crons = (disabled: boolean) => [
      { ...nodeCron('paused-job', FAIL), retries: { count: 1, delayMs: 3000 } },
      { ...nodeCron('disabled-job', FAIL, { enabled: !disabled }), retries: { count: 1, delayMs: 3000 } },
    ];
    const configPath = writeConfig(configText(hook.url, crons(false)));
    const { server, stream } = await start(configPath);

    // Paused during the wait: the retry does not run, and the failure is announced then.
    const pausedRun = await triggerOk(server, 'paused-job');
    await waitForStatus(server, pausedRun, 'failed');
    await server.waitForOutput(/\[Retry\] paused-job: attempt 2 at /);
    assert.equal(alertsOf(hook, 'paused-job').length, 0, 'the first failure is held back while its retry waits');
    assert.equal((await api(server, API_PATHS.pause('paused-job'), { method: 'POST' })).status, 200);
    await server.waitForOutput(/\[Retry\] paused-job: attempt 2 not started: its schedule is paused/, 30_000);
    const pausedAlert = await waitFor(() => alertsOf(hook, 'paused-job')[0], 'the paused cron\'s failed alert', 30_000);
    assert.deepEqual([pausedAlert.event, pausedAlert.executionId, pausedAlert.attempt], ['failed', pausedRun, 1]);
    assert.match(pausedAlert.summary, /^paused-job failed: Exited with code 4: tape drive offline; its retry \(attempt 2\) did not run: its schedule is paused$/);
    await stream.next((event) => event.event === 'crons.changed' && (event.data.cronNames as string[] | undefined)?.includes('paused-job') === true, 'clients told the retry went away', 30_000);
    assert.equal((await getExecution(server, pausedRun)).retry, null);
    assert.equal((await cronNamed(server, 'paused-job')).pendingRetry, null);

    // Disabled by a reload of the definitions during the wait: the same as paused.
    const disabledRun = await triggerOk(server, 'disabled-job');
    await waitForStatus(server, disabledRun, 'failed');
    await server.waitForOutput(/\[Retry\] disabled-job: attempt 2 at /);
    const mark = stream.events.length;
    writeFileSync(configPath, configText(hook.url, crons(true)));
    await stream.next((event) => stream.events.indexOf(event) >= mark && event.event === 'definitions.reloaded', 'the reload', 30_000);
    await server.waitForOutput(/\[Retry\] disabled-job: attempt 2 not started: the cron is disabled/, 30_000);
    const disabledAlert = await waitFor(() => alertsOf(hook, 'disabled-job')[0], 'the disabled cron\'s failed alert', 30_000);
    assert.deepEqual([disabledAlert.event, disabledAlert.executionId], ['failed', disabledRun]);
    assert.match(disabledAlert.summary, /did not run: the cron is disabled \("enabled": false\)$/);
    assert.deepEqual((await listExecutions(server, '?cronName=disabled-job')).filter((run) => run.retryOf === disabledRun), [], 'the retry never ran');
    assert.equal(alertsOf(hook, 'disabled-job').length, 1, 'one alert for the chain');
  });

  it('sends the alert when the cron left the config during the wait, and tells clients when a manual trigger cancels a retry', async () => {
    const crons = (withLeaving: boolean) => [
      { ...nodeCron('manual-job', FAIL), retries: { count: 1, delayMs: 600_000 } },
      ...(withLeaving ? [{ ...nodeCron('leaving-job', FAIL), retries: { count: 1, delayMs: 3000 } }] : []),
    ];
    const configPath = writeConfig(configText(hook.url, crons(true)));
    const { server, stream } = await start(configPath);

    // A manual trigger during the wait cancels the retry: clients hear of it, and no alert holds for it.
    const first = await triggerOk(server, 'manual-job');
    await waitForStatus(server, first, 'failed');
    await server.waitForOutput(/\[Retry\] manual-job: attempt 2 at /);
    const mark = stream.events.length;
    const manual = await triggerOk(server, 'manual-job');
    await server.waitForOutput(new RegExp(`\\[Retry\\] manual-job: attempt 2 cancelled: manual run ${manual} started`));
    await stream.next((event) => stream.events.indexOf(event) >= mark && event.event === 'crons.changed' && (event.data.cronNames as string[] | undefined)?.includes('manual-job') === true, 'clients told the retry was cancelled', 30_000);
    assert.equal((await getExecution(server, first)).retry, null);

    // Removed from the config during the wait: the retry is dropped and the failure announced.
    const leaving = await triggerOk(server, 'leaving-job');
    await waitForStatus(server, leaving, 'failed');
    await server.waitForOutput(/\[Retry\] leaving-job: attempt 2 at /);
    const reloadMark = stream.events.length;
    writeFileSync(configPath, configText(hook.url, crons(false)));
    await stream.next((event) => stream.events.indexOf(event) >= reloadMark && event.event === 'definitions.reloaded', 'the reload', 30_000);
    await server.waitForOutput(/\[Retry\] leaving-job: attempt 2 not started: the cron is no longer in the config/, 30_000);
    const alert = await waitFor(() => alertsOf(hook, 'leaving-job')[0], 'the removed cron\'s failed alert', 30_000);
    assert.deepEqual([alert.event, alert.executionId], ['failed', leaving]);
    assert.match(alert.summary, /^leaving-job failed: Exited with code 4: tape drive offline; its retry \(attempt 2\) did not run: the cron is no longer in the config$/);
    assert.equal((await getExecution(server, leaving)).retry, null);
  });

  it('drops a waiting retry when a reload lowers the cron\'s retry count below its attempt, and sends the held-back alert', async () => {
    // Retry 1 after 3 s, retry 2 after 30 s: the reload lands while retry 2 waits.
    const crons = (count: number) => [{ ...nodeCron('lowered-job', FAIL), retries: { count, delayMs: 3000, backoff: 10, maxDelayMs: 60_000 } }];
    const configPath = writeConfig(configText(hook.url, crons(2)));
    const { server, stream } = await start(configPath);
    const run = await triggerOk(server, 'lowered-job');
    await server.waitForOutput(/\[Retry\] lowered-job: attempt 3 at /, 60_000);
    const reloadMark = stream.events.length;
    writeFileSync(configPath, configText(hook.url, crons(1)));
    await stream.next((event) => stream.events.indexOf(event) >= reloadMark && event.event === 'definitions.reloaded', 'the reload', 30_000);
    await server.waitForOutput(/\[Definitions\] Reloaded .*retries changed for lowered-job/);
    // Until it is dropped, the retry the new count does not allow shows nowhere (clients re-read on crons.changed).
    await stream.next((event) => stream.events.indexOf(event) >= reloadMark && event.event === 'crons.changed', 'clients told the crons changed', 30_000);
    assert.equal((await cronNamed(server, 'lowered-job')).pendingRetry, null);
    const second = (await listExecutions(server, '?cronName=lowered-job')).find((other) => other.attempt === 2)!;
    assert.equal((await getExecution(server, second.id)).retry, null);
    await server.waitForOutput(/\[Retry\] lowered-job: attempt 3 not started: the config now allows 1 retry, and this was retry 2/, 60_000);
    const alert = await waitFor(() => alertsOf(hook, 'lowered-job')[0], 'the failed alert held back for the retry', 30_000);
    assert.equal(alert.event, 'failed');
    assert.match(alert.summary, /its retry \(attempt 3\) did not run: the config now allows 1 retry, and this was retry 2$/);
    const chain = (await listExecutions(server, '?cronName=lowered-job')).map((other) => [other.attempt, other.retryOf ?? other.id]);
    assert.deepEqual(chain.sort(), [[1, run], [2, run]], 'the first run and its first retry, and no third attempt');
    assert.equal(alertsOf(hook, 'lowered-job').length, 1, 'one alert for the chain');
  });
});
