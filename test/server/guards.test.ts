// The guide's guards: one running execution per cron (409, checked first, holding under 30 concurrent
// triggers) and the manual rate limits (429 with Retry-After), per cron and overall.
import assert from 'node:assert/strict';
import { ALREADY_RUNNING_ERROR, API_PATHS, type Execution } from '../../src/shared/api';
import { api, listExecutions, trigger, triggerOk, waitForExecution } from '../support/http';
import { nodeCron, startServer, TEST_CRON_SECRET, type ServerProcess } from '../support/serverProcess';
import { waitFor } from '../support/waitFor';

const HANG = 'console.log("working"); setInterval(() => {}, 1000)';
const PER_CRON_S = 4;
const GLOBAL_PER_MINUTE = 4;

function assertRateLimited(reply: { status: number; headers: Headers; body: any; text: string }, maxSeconds: number, what: string): number {
  assert.equal(reply.status, 429, `${what}: ${reply.text}`);
  assert.equal(reply.body.success, false);
  assert.equal(typeof reply.body.error, 'string');
  const header = reply.headers.get('retry-after');
  assert.match(header ?? '', /^\d+$/, `${what}: Retry-After header in whole seconds, got ${header}`);
  const seconds = Number(header);
  assert.ok(seconds >= 1 && seconds <= maxSeconds, `${what}: Retry-After ${seconds} within 1..${maxSeconds}`);
  assert.equal(reply.body.retryAfterS, seconds, `${what}: retryAfterS matches the header`);
  return seconds;
}

describe('guards: already running and rate limits', function () {
  let server: ServerProcess;

  before(async () => {
    server = await startServer({
      config: {
        crons: [nodeCron('long', HANG, { estimatedDurationMs: 20_000 }), ...['a', 'b', 'c', 'd'].map((name) => nodeCron(`job-${name}`, HANG))],
        rateLimits: { perCronSeconds: PER_CRON_S, globalPerMinute: GLOBAL_PER_MINUTE },
        killGraceMs: 500,
      },
    });
  });

  after(async () => {
    await server?.stop();
  });

  let runningId = '';

  it('30 concurrent triggers of one cron give exactly one execution and 29 409s', async () => {
    const replies = await Promise.all(Array.from({ length: 30 }, () => trigger(server, 'long')));
    const accepted = replies.filter((reply) => reply.status === 202);
    const refused = replies.filter((reply) => reply.status === 409);
    assert.equal(accepted.length, 1, `statuses: ${replies.map((reply) => reply.status).join(',')}`);
    assert.equal(refused.length, 29, `statuses: ${replies.map((reply) => reply.status).join(',')}`);
    runningId = accepted[0].body.executionId;
    for (const reply of refused) {
      assert.equal(reply.body.success, false);
      assert.equal(reply.body.error, ALREADY_RUNNING_ERROR);
      assert.equal(reply.body.runningExecutionId, runningId);
    }
    const executions = await listExecutions(server, 'cronName=long');
    assert.deepEqual(executions.map((execution) => execution.id), [runningId]);
    assert.equal(executions[0].status, 'running');
  });

  it('checks "already running" before the rate limit', async () => {
    // Within the per-cron window and with the cron running: the answer is 409, not 429.
    const reply = await trigger(server, 'long');
    assert.equal(reply.status, 409, reply.text);
    assert.equal(reply.body.error, 'Cron is already running');
    assert.equal(reply.body.runningExecutionId, runningId);
    assert.equal(reply.headers.get('retry-after'), null);
  });

  it('allows one manual run per cron per window: 429 with Retry-After, then accepted once it has passed', async () => {
    const cancelled = await api<Execution>(server, API_PATHS.cancel(runningId), { method: 'POST' });
    assert.equal(cancelled.status, 200, cancelled.text);
    const refusedAt = Date.now();
    const seconds = assertRateLimited(await trigger(server, 'long'), PER_CRON_S, 'second manual run within the window');
    assert.equal((await listExecutions(server, 'cronName=long')).length, 1, 'a refused trigger creates no execution');
    const id = await waitFor(
      async () => {
        const reply = await trigger(server, 'long');
        if (reply.status === 429) return undefined;
        assert.equal(reply.status, 202, reply.text);
        return reply.body.executionId as string;
      },
      'the per-cron window to pass',
      (PER_CRON_S + 3) * 1000,
      250,
    );
    assert.ok(Date.now() - refusedAt >= (seconds - 1) * 1000, 'not accepted long before Retry-After');
    await api(server, API_PATHS.cancel(id), { method: 'POST' });
    await waitForExecution(server, id);
  });

  it(`allows ${GLOBAL_PER_MINUTE} manual runs a minute overall: the next one, on another cron, gets 429`, async () => {
    // Two manual runs of "long" so far.
    const a = await triggerOk(server, 'job-a');
    const b = await triggerOk(server, 'job-b');
    const reply = await trigger(server, 'job-c');
    assertRateLimited(reply, 60, 'fifth manual run in a minute');
    assert.deepEqual(await listExecutions(server, 'cronName=job-c'), [], 'no execution for the refused trigger');
    // External scripts record their runs whatever the manual limits.
    const external = await api<Execution>(server, API_PATHS.externalStart, { secret: TEST_CRON_SECRET, body: { cronName: 'job-d' } });
    assert.ok([200, 201].includes(external.status), `external start is not a manual trigger: ${external.text}`);
    await api(server, API_PATHS.externalComplete, { secret: TEST_CRON_SECRET, body: { executionId: external.body.id, status: 'completed' } });
    for (const id of [a, b]) await api(server, API_PATHS.cancel(id), { method: 'POST' });
  });

  it('audits the refusals', async () => {
    const entries: any[] = (await api(server, `${API_PATHS.audit}?limit=1000`)).body.entries;
    const refusals = entries.filter((entry) => entry.target === 'long' && entry.details?.status === 409);
    assert.ok(refusals.length >= 29, `each 409 is in the audit trail (${refusals.length})`);
    assert.ok(entries.some((entry) => entry.target === 'job-c' && entry.details?.status === 429), 'the 429 is in the audit trail');
  });
});

// Without rate limits a manual start is one insert, and on SQLite the starts, ends and pids of one turn of
// the server's loop are committed together (turnCommit.ts): a start refused by the one-running index must
// not take the others of its transaction with it.
describe('guards: concurrent triggers of many crons without rate limits', function () {
  let server: ServerProcess;
  const quick = Array.from({ length: 12 }, (_, index) => `quick-${index}`);

  before(async () => {
    server = await startServer({
      config: {
        crons: [nodeCron('hold', HANG, { estimatedDurationMs: 20_000 }), ...quick.map((name) => nodeCron(name, 'console.log("done")'))],
        rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
        killGraceMs: 500,
      },
    });
  });

  after(async () => {
    await server?.stop();
  });

  it('records every accepted trigger once, refuses only a cron already running, and ends every quick run completed', async () => {
    const names = [...Array.from({ length: 6 }, () => 'hold'), ...quick.flatMap((name) => [name, name, name])];
    const replies = await Promise.all(names.map(async (name) => ({ name, reply: await trigger(server, name) })));
    const acceptedOf = new Map<string, string[]>();
    for (const { name, reply } of replies) {
      assert.ok(reply.status === 202 || reply.status === 409, `${name}: ${reply.status} ${reply.text}`);
      if (reply.status === 202) acceptedOf.set(name, [...(acceptedOf.get(name) ?? []), reply.body.executionId]);
    }
    assert.equal(acceptedOf.get('hold')?.length, 1, 'one run of the cron that keeps running');
    for (const name of quick) assert.ok((acceptedOf.get(name)?.length ?? 0) >= 1, `${name} started at least once`);
    for (const { name, reply } of replies) {
      if (reply.status !== 409) continue;
      assert.equal(reply.body.error, ALREADY_RUNNING_ERROR);
      assert.ok(acceptedOf.get(name)?.includes(reply.body.runningExecutionId), `${name}: the 409 names a run of its own cron (${reply.body.runningExecutionId})`);
    }
    const accepted = [...acceptedOf.values()].flat();
    for (const id of accepted.filter((id) => id !== acceptedOf.get('hold')![0])) assert.equal((await waitForExecution(server, id)).status, 'completed', `run ${id}`);
    const rows = await listExecutions(server, 'limit=1000');
    assert.deepEqual(rows.map((row) => row.id).sort(), [...accepted].sort(), 'each accepted trigger recorded exactly once, nothing else');
    assert.equal(rows.find((row) => row.id === acceptedOf.get('hold')![0])?.status, 'running');
  });
});
