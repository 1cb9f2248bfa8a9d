// The retry waiting after a failed attempt, as a client reads it: on the attempt (`retry`: which attempt
// comes next, of how many, when) in its `execution.finished` event, GET of the run, the history and /crons,
// and on the cron (`pendingRetry`); gone once the retry ran or a manual trigger cancelled it. A real server
// and a real process that fails.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cron, Execution } from '../../src/shared/api';
import { api, getExecution, listExecutions, triggerOk, waitForStatus } from '../support/http';
import { nodeCron, startServer, writeConfig, type ServerProcess } from '../support/serverProcess';
import { openSse, type SseStream } from '../support/sse';

const FAIL = 'console.error("ledger locked"); process.exit(2)';
// Long enough to read every reply before the retry runs, even on a loaded machine.
const DELAY_MS = 8000;

/** A config with retries (a key the test helper's type does not list), without rate limits. */
const configOf = (crons: unknown[]) => writeConfig(JSON.stringify({ crons, rateLimits: { perCronSeconds: 0, globalPerMinute: 0 } }));

async function cronNamed(server: ServerProcess, name: string): Promise<Cron> {
  const reply = await api(server, '/api/admin/crons');
  assert.equal(reply.status, 200, reply.text);
  return (reply.body.crons as Cron[]).find((cron) => cron.name === name)!;
}

describe('a failed attempt shows the retry waiting after it', function () {
  this.timeout(120_000);
  let server: ServerProcess;
  let events: SseStream;

  before(async () => {
    server = await startServer({
      config: configOf([{ ...nodeCron('billing-sync', FAIL), retries: { count: 2, delayMs: DELAY_MS, backoff: 1 } }]),
    });
    events = await openSse(server.url);
  });
  after(async () => {
    events?.drop();
    await server?.stop();
  });

  const finishedEvent = (id: string) => events.next((event) => event.event === 'execution.finished' && event.data.execution.id === id, `the end of ${id}`, 60_000).then((event) => event.data.execution as Execution);

  it('says "attempt 2 of 3 at …" on the failed attempt and the cron, and clears it when the retry runs, then when a manual trigger cancels the next one', async () => {
    const first = await triggerOk(server, 'billing-sync');
    const ended = await finishedEvent(first);
    assert.equal(ended.status, 'failed');
    assert.match(ended.errorMessage!, /ledger locked/);
    assert.deepEqual({ attempt: ended.retry?.attempt, of: ended.retry?.of }, { attempt: 2, of: 3 });
    const dueIn = Date.parse(ended.retry!.at) - Date.parse(ended.completedAt!);
    assert.ok(dueIn > DELAY_MS - 1000 && dueIn < DELAY_MS + 5000, `the retry is due about ${DELAY_MS} ms after the end (${dueIn} ms)`);

    // Every read says the same while the retry waits.
    assert.deepEqual((await getExecution(server, first)).retry, ended.retry);
    assert.deepEqual((await listExecutions(server, 'cronName=billing-sync')).find((run) => run.id === first)?.retry, ended.retry);
    const waiting = await cronNamed(server, 'billing-sync');
    assert.deepEqual(waiting.pendingRetry, { retryOf: first, ...ended.retry! });
    assert.deepEqual(waiting.lastExecution?.retry, ended.retry);

    // The retry runs: attempt 1 no longer waits for anything; attempt 2 fails and says attempt 3 comes.
    const started = await events.next((event) => event.event === 'execution.started' && event.data.execution.retryOf === first, 'the retry starting', 60_000);
    const second = started.data.execution as Execution;
    assert.equal(second.attempt, 2);
    assert.equal(second.retry, null, 'a running attempt has no retry waiting');
    assert.equal((await getExecution(server, first)).retry, null, 'the retry that ran is no longer shown on attempt 1');
    const secondEnded = await finishedEvent(second.id);
    assert.deepEqual({ attempt: secondEnded.retry?.attempt, of: secondEnded.retry?.of }, { attempt: 3, of: 3 });
    assert.deepEqual((await cronNamed(server, 'billing-sync')).pendingRetry, { retryOf: first, ...secondEnded.retry! });

    // A manual trigger runs now and cancels attempt 3: nothing of that chain waits any more.
    const manual = await triggerOk(server, 'billing-sync');
    await server.waitForOutput(new RegExp(`\\[Retry\\] billing-sync: attempt 3 cancelled: manual run ${manual} started`));
    assert.equal((await getExecution(server, second.id)).retry, null, 'the cancelled retry is no longer shown');
    await waitForStatus(server, manual, 'failed');
    const after = await cronNamed(server, 'billing-sync');
    // The manual run fails too and starts a chain of its own: only its retry waits.
    assert.notEqual(after.pendingRetry?.retryOf, first);
    assert.equal((await listExecutions(server, 'cronName=billing-sync')).find((run) => run.id === second.id)?.retry, null);
  });

  it('says a retry follows in the end\'s event even when it starts at once, and nothing waits after the last attempt', async () => {
    const lastServer = await startServer({
      config: configOf([{ ...nodeCron('one-shot', FAIL), retries: { count: 1, delayMs: 200 } }]),
    });
    try {
      const stream = await openSse(lastServer.url);
      const first = await triggerOk(lastServer, 'one-shot');
      // 200 ms: the retry may start before the end's event goes out; the event still says one follows.
      const attempt = await stream.next((event) => event.event === 'execution.finished' && event.data.execution.id === first, 'the first attempt ending', 60_000);
      assert.deepEqual([attempt.data.execution.retry?.attempt, attempt.data.execution.retry?.of], [2, 2]);
      const retried = await stream.next((event) => event.event === 'execution.finished' && event.data.execution.retryOf === first, 'the last attempt ending', 60_000);
      const last = retried.data.execution as Execution;
      assert.deepEqual([last.attempt, last.status, last.retry], [2, 'failed', null]);
      const cron = await cronNamed(lastServer, 'one-shot');
      assert.equal(cron.pendingRetry, null);
      assert.equal(cron.lastExecution?.retry, null);
      stream.drop();
    } finally {
      await lastServer.stop();
    }
  });
});

// On SQLite a manual trigger or a success looks for the cron's waiting retries only if it may have some: those
// read at start and those added since (retryScheduler.ts, soleWriter). A retry left waiting by the server
// before a restart is one the restarted server has only read at start.
describe('a retry waiting across a restart', function () {
  this.timeout(120_000);
  let server: ServerProcess | undefined;
  let dataDir: string;

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'cron-ops-retry-restart-'));
  });
  after(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is still shown after the restart, and a manual trigger there cancels it', async () => {
    const config = configOf([{ ...nodeCron('ledger-close', FAIL), retries: { count: 1, delayMs: 600_000, backoff: 1 } }, nodeCron('other', 'console.log("ok")')]);
    server = await startServer({ config, args: ['--data', dataDir] });
    const first = await triggerOk(server, 'ledger-close');
    const failed = await waitForStatus(server, first, 'failed');
    assert.equal(failed.retry?.attempt, 2, 'attempt 2 waits after the failure');
    await server.stop();

    server = await startServer({ config, args: ['--data', dataDir] });
    assert.equal((await getExecution(server, first)).retry?.attempt, 2, 'the retry still waits after the restart');
    // Another cron's manual run and success leave it alone.
    await waitForStatus(server, await triggerOk(server, 'other'), 'completed');
    assert.equal((await cronNamed(server, 'ledger-close')).pendingRetry?.retryOf, first);
    const manual = await triggerOk(server, 'ledger-close');
    await server.waitForOutput(new RegExp(`\\[Retry\\] ledger-close: attempt 2 cancelled: manual run ${manual} started`), 30_000);
    assert.equal((await getExecution(server, first)).retry, null, 'the cancelled retry is no longer shown');
  });
});
