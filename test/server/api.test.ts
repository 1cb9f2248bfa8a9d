// Every row of the API table (DESIGN.md) against a real server: shapes, filters, and every refusal.
import assert from 'node:assert/strict';
import { ALREADY_RUNNING_ERROR, API_PATHS, MANUAL_FAILURE_REASON, MANUAL_TRIGGER_MESSAGE, MANUAL_TRIGGER_NOTE, type Cron, type Execution } from '../../src/shared/api';
import { api, getExecution, listExecutions, trigger, triggerOk, waitForExecution, waitForStatus } from '../support/http';
import { nodeCron, startServer, TEST_CRON_SECRET, type ServerProcess } from '../support/serverProcess';
import { waitFor } from '../support/waitFor';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const HANG = 'console.log("running " + process.pid); setInterval(() => {}, 1000)';

function assertErrorReply(reply: { status: number; body: any; text: string }, status: number, what: string): void {
  assert.equal(reply.status, status, `${what}: expected ${status}, got ${reply.status} ${reply.text}`);
  assert.equal(reply.body?.success, false, `${what}: success false in ${reply.text}`);
  assert.equal(typeof reply.body.error, 'string', `${what}: an error message in ${reply.text}`);
  assert.ok(reply.body.error.length > 5, `${what}: a message a person can act on, got ${JSON.stringify(reply.body.error)}`);
}

describe('HTTP API', function () {
  let server: ServerProcess;

  before(async () => {
    server = await startServer({
      config: {
        crons: [
          nodeCron('quick', 'console.log("hello from " + process.env.CRON_NAME)', { description: 'Quick job', estimatedDurationMs: 1234 }),
          nodeCron('every-five', 'console.log("tick")', { description: 'Toutes les 5 minutes', schedule: '*/5 * * * *', timezone: 'Africa/Tunis' }),
          nodeCron('fails', 'console.error("first problem"); console.error("disk full on /data"); process.exit(3)'),
          nodeCron('hangs', HANG),
          nodeCron('hangs-too', HANG),
          nodeCron('pausable', 'console.log("tick")', { schedule: '0 3 * * *' }),
          nodeCron('with-params', 'console.log(process.env.CRON_PARAMS)', {
            params: {
              batchSize: { type: 'integer', min: 1, max: 50, default: 2, description: 'documents per batch' },
              label: { type: 'string', pattern: '^[a-z]+$' },
              dryRun: { type: 'boolean', default: false },
            },
          }),
          nodeCron('external', 'console.log("never run by the server")', { timeoutMs: 60_000 }),
          nodeCron('external-stuck', 'console.log("never run by the server")', { timeoutMs: 300 }),
        ],
        rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
        killGraceMs: 1000,
      },
    });
  });

  after(async () => {
    await server?.stop();
  });

  describe('GET /health', () => {
    it('answers without a token with status, version, store, runnerId and uptime', async () => {
      const reply = await api(server, API_PATHS.health, { token: null });
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.body.status, 'ok');
      assert.match(reply.body.version, /^\d+\.\d+\.\d+/);
      assert.ok(['sqlite', 'postgres'].includes(reply.body.store), reply.text);
      assert.equal(typeof reply.body.runnerId, 'string');
      assert.ok(reply.body.runnerId.length > 0);
      assert.equal(typeof reply.body.uptimeS, 'number');
      assert.ok(reply.body.uptimeS >= 0);
    });
  });

  describe('GET /api/admin/crons', () => {
    it('lists every cron with the documented fields', async () => {
      const reply = await api<{ crons: Cron[] }>(server, API_PATHS.crons);
      assert.equal(reply.status, 200, reply.text);
      assert.deepEqual(
        reply.body.crons.map((cron) => cron.name),
        ['quick', 'every-five', 'fails', 'hangs', 'hangs-too', 'pausable', 'with-params', 'external', 'external-stuck'],
      );
      const quick = reply.body.crons.find((cron) => cron.name === 'quick')!;
      for (const field of ['name', 'description', 'schedule', 'scheduleText', 'timezone', 'estimatedDurationMs', 'timeoutMs', 'enabled', 'paused', 'params', 'nextRunAt', 'lastExecution', 'runningExecution']) {
        assert.ok(field in quick, `cron has ${field}: ${JSON.stringify(quick)}`);
      }
      assert.equal(quick.description, 'Quick job');
      assert.equal(quick.schedule, '0 0 1 1 *');
      assert.equal(quick.timezone, 'UTC', 'the default time zone');
      assert.equal(quick.estimatedDurationMs, 1234);
      assert.equal(quick.timeoutMs, 60_000);
      assert.equal(quick.enabled, true);
      assert.equal(quick.paused, false);
      assert.match(quick.nextRunAt!, ISO);
      assert.equal(quick.nextRunAt, `${new Date().getUTCFullYear() + 1}-01-01T00:00:00.000Z`);
      const everyFive = reply.body.crons.find((cron) => cron.name === 'every-five')!;
      assert.equal(everyFive.description, 'Toutes les 5 minutes');
      assert.equal(everyFive.schedule, '*/5 * * * *');
      assert.equal(everyFive.timezone, 'Africa/Tunis');
      assert.equal(typeof everyFive.scheduleText, 'string');
      assert.ok(everyFive.scheduleText.length > 0 && everyFive.scheduleText !== everyFive.schedule, `schedule in words: ${everyFive.scheduleText}`);
      const next = Date.parse(everyFive.nextRunAt!);
      assert.ok(next > Date.now() - 1000 && next <= Date.now() + 5 * 60_000 + 1000, `next run of */5 within 5 minutes: ${everyFive.nextRunAt}`);
      assert.equal(new Date(next).getUTCMinutes() % 5, 0);
      assert.equal(new Date(next).getUTCSeconds(), 0);
      const withParams = reply.body.crons.find((cron) => cron.name === 'with-params')!;
      assert.deepEqual(withParams.params.batchSize, { type: 'integer', min: 1, max: 50, default: 2, description: 'documents per batch' });
      const fresh = reply.body.crons.find((cron) => cron.name === 'pausable')!;
      assert.equal(fresh.lastExecution, null);
      assert.equal(fresh.runningExecution, null);
    });
  });

  describe('POST /api/admin/cron-executions/trigger', () => {
    it('answers 202 with exactly the guide reply plus executionId', async () => {
      const reply = await trigger(server, 'quick');
      assert.equal(reply.status, 202, reply.text);
      assert.deepEqual(Object.keys(reply.body).sort(), ['cronName', 'description', 'estimatedDuration', 'executionId', 'message', 'note', 'success']);
      assert.deepEqual(reply.body, {
        success: true,
        cronName: 'quick',
        description: 'Quick job',
        estimatedDuration: 1234,
        executionId: reply.body.executionId,
        message: 'Cron execution started. Check table for results.',
        note: 'Execution is asynchronous. Refresh page in a few seconds.',
      });
      assert.equal(reply.body.message, MANUAL_TRIGGER_MESSAGE);
      assert.equal(reply.body.note, MANUAL_TRIGGER_NOTE);
      assert.match(reply.body.executionId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      const done = await waitForStatus(server, reply.body.executionId, 'completed');
      assert.equal(done.cronName, 'quick');
      assert.equal(done.triggerType, 'manual');
      assert.equal(typeof done.triggeredBy, 'string');
      assert.ok(done.triggeredBy!.length > 0);
      assert.deepEqual(done.params, {});
      assert.equal(done.exitCode, 0);
      assert.equal(done.errorMessage, null);
      assert.equal(done.stuck, false);
      assert.equal(done.logLinesDropped, 0);
      assert.match(done.startedAt, ISO);
      assert.match(done.completedAt!, ISO);
      assert.ok(Date.parse(done.completedAt!) >= Date.parse(done.startedAt));
      assert.equal(typeof done.durationMs, 'number');
      assert.ok(Math.abs(done.durationMs! - (Date.parse(done.completedAt!) - Date.parse(done.startedAt))) < 1000, JSON.stringify(done));
      assert.equal(done.runnerId, (await api(server, API_PATHS.health, { token: null })).body.runnerId, 'run by this server\'s runner');
    });

    it('accepts a trigger from a script with X-Cron-Secret (the guide\'s bulk calls)', async () => {
      const reply = await trigger(server, 'quick', undefined, { token: null, secret: TEST_CRON_SECRET });
      assert.equal(reply.status, 202, reply.text);
      const done = await waitForStatus(server, reply.body.executionId, 'completed');
      assert.equal(done.triggerType, 'manual');
      assert.ok(done.triggeredBy, 'the machine caller is recorded');
    });

    it('records the execution as running right away, seen in the cron list', async () => {
      const id = await triggerOk(server, 'hangs');
      const execution = await getExecution(server, id);
      assert.equal(execution.status, 'running');
      assert.equal(execution.completedAt, null);
      assert.equal(execution.stuck, false);
      const crons = (await api<{ crons: Cron[] }>(server, API_PATHS.crons)).body.crons;
      const hangs = crons.find((cron) => cron.name === 'hangs')!;
      assert.equal(hangs.runningExecution?.id, id);
      assert.equal(hangs.lastExecution?.id, id);
      const again = await trigger(server, 'hangs');
      assertErrorReply(again, 409, 'second trigger');
      assert.equal(again.body.error, ALREADY_RUNNING_ERROR);
      assert.equal(again.body.runningExecutionId, id);
      const cancelled = await api(server, API_PATHS.cancel(id), { method: 'POST' });
      assert.equal(cancelled.status, 200, cancelled.text);
    });

    it('applies param defaults and records the params', async () => {
      const id = await triggerOk(server, 'with-params', { label: 'abc' });
      const done = await waitForStatus(server, id, 'completed');
      assert.deepEqual(done.params, { batchSize: 2, label: 'abc', dryRun: false });
    });

    it('refuses an unknown cron with 404', async () => {
      assertErrorReply(await trigger(server, 'no-such-cron'), 404, 'unknown cron');
    });

    it('refuses bad params with 400, naming the param', async () => {
      const cases: Array<[string, unknown]> = [
        ['batchSize', { batchSize: 0 }],
        ['batchSize', { batchSize: 51 }],
        ['batchSize', { batchSize: 2.5 }],
        ['batchSize', { batchSize: '10' }],
        ['label', { label: 'ABC; rm -rf /' }],
        ['label', { label: 42 }],
        ['dryRun', { dryRun: 'yes' }],
        ['nope', { nope: 1 }],
      ];
      for (const [name, params] of cases) {
        const reply = await trigger(server, 'with-params', params as Record<string, unknown>);
        assertErrorReply(reply, 400, `params ${JSON.stringify(params)}`);
        assert.ok(reply.body.error.includes(name), `the error names ${name}: ${reply.body.error}`);
      }
      assertErrorReply(await trigger(server, 'quick', { anything: 1 }), 400, 'a param for a cron without params');
      const notObject = await api(server, API_PATHS.trigger, { method: 'POST', body: { cronName: 'with-params', params: [1, 2] } });
      assertErrorReply(notObject, 400, 'params as an array');
    });

    it('refuses a bad body with 400', async () => {
      const bodies: unknown[] = [{}, { cronName: 42 }, { cronName: '' }, { cronName: 'Bad Name!' }, [], 'monitor-openai', null, 17, { cronName: 'quick', params: 'x' }];
      for (const body of bodies) {
        assertErrorReply(await api(server, API_PATHS.trigger, { method: 'POST', rawBody: JSON.stringify(body) }), 400, `body ${JSON.stringify(body)}`);
      }
    });

    it('refuses invalid JSON and an empty JSON body with 400', async () => {
      assertErrorReply(await api(server, API_PATHS.trigger, { method: 'POST', rawBody: '{"cronName": "quick"' }), 400, 'truncated JSON');
      assertErrorReply(await api(server, API_PATHS.trigger, { method: 'POST', rawBody: "{cronName: 'quick'}" }), 400, 'not JSON');
      assertErrorReply(await api(server, API_PATHS.trigger, { method: 'POST', rawBody: '' }), 400, 'empty body');
    });

    it('refuses a body over 1 MB with 413', async () => {
      const huge = JSON.stringify({ cronName: 'quick', params: { padding: 'x'.repeat(1024 * 1024 + 10) } });
      assertErrorReply(await api(server, API_PATHS.trigger, { method: 'POST', rawBody: huge }), 413, 'body over 1 MB');
      // Just under the limit is parsed (and refused for its content, not its size).
      const under = JSON.stringify({ cronName: 'quick', params: { padding: 'x'.repeat(1024 * 1000) } });
      const reply = await api(server, API_PATHS.trigger, { method: 'POST', rawBody: under });
      assert.notEqual(reply.status, 413, reply.text.slice(0, 200));
      assert.ok(reply.status < 500, reply.text.slice(0, 200));
    });

    it('refuses a missing or wrong token with 401', async () => {
      assertErrorReply(await trigger(server, 'quick', undefined, { token: null }), 401, 'no token');
      assertErrorReply(await trigger(server, 'quick', undefined, { token: 'not-a-real-token' }), 401, 'wrong token');
      assertErrorReply(await api(server, API_PATHS.crons, { token: null, headers: { authorization: 'Basic dXNlcjpwYXNz' } }), 401, 'basic auth');
      assertErrorReply(await api(server, API_PATHS.crons, { token: null }), 401, 'read without token');
      assertErrorReply(await trigger(server, 'quick', undefined, { token: null, secret: 'wrong-secret' }), 401, 'wrong X-Cron-Secret');
    });
  });

  describe('GET /api/admin/cron-executions', () => {
    let ids: string[] = [];

    before(async () => {
      ids = [];
      for (let index = 0; index < 4; index++) {
        const id = await triggerOk(server, 'quick');
        await waitForExecution(server, id);
        ids.push(id);
      }
      const failed = await triggerOk(server, 'fails');
      await waitForStatus(server, failed, 'failed');
    });

    it('lists newest first, with filters by cron and status', async () => {
      const all = await listExecutions(server);
      const starts = all.map((execution) => Date.parse(execution.startedAt));
      assert.deepEqual(starts, [...starts].sort((a, b) => b - a), 'newest first');
      const quick = await listExecutions(server, 'cronName=quick');
      assert.ok(quick.length >= 4);
      assert.ok(quick.every((execution) => execution.cronName === 'quick'));
      assert.deepEqual(quick.slice(0, 4).map((execution) => execution.id), [...ids].reverse());
      const failed = await listExecutions(server, 'status=failed');
      assert.ok(failed.length >= 1);
      assert.ok(failed.every((execution) => execution.status === 'failed'));
      const both = await listExecutions(server, 'cronName=fails&status=completed');
      assert.deepEqual(both, []);
    });

    it('pages with limit and the before cursor, without overlap', async () => {
      const all = await listExecutions(server, 'cronName=quick&limit=1000');
      const first = await api(server, `${API_PATHS.executions}?cronName=quick&limit=2`);
      assert.equal(first.status, 200, first.text);
      assert.equal(first.body.executions.length, 2);
      assert.equal(typeof first.body.nextCursor, 'string');
      const second = await api(server, `${API_PATHS.executions}?cronName=quick&limit=2&before=${encodeURIComponent(first.body.nextCursor)}`);
      assert.equal(second.status, 200, second.text);
      const paged = [...first.body.executions, ...second.body.executions].map((execution: Execution) => execution.id);
      assert.deepEqual(paged, all.slice(0, 4).map((execution) => execution.id));
      const last = await api(server, `${API_PATHS.executions}?cronName=quick&limit=1000`);
      assert.equal(last.body.nextCursor, null);
      const gone = await api(server, `${API_PATHS.executions}?before=00000000-0000-4000-8000-000000000000`);
      assert.equal(gone.status, 400, 'a cursor whose run is gone is not the end of the history');
      assert.match(gone.body.error, /names no execution: it was removed \(retention\) or mistyped\. Start again without "before"/);
    });

    it('filters by since and until', async () => {
      const all = await listExecutions(server, 'cronName=quick');
      const pivot = all[1].startedAt;
      const since = await listExecutions(server, `cronName=quick&since=${encodeURIComponent(pivot)}`);
      assert.ok(since.every((execution) => Date.parse(execution.startedAt) >= Date.parse(pivot)), JSON.stringify(since));
      assert.ok(since.some((execution) => execution.id === all[0].id));
      const until = await listExecutions(server, `cronName=quick&until=${encodeURIComponent(pivot)}`);
      assert.ok(until.every((execution) => Date.parse(execution.startedAt) <= Date.parse(pivot)), JSON.stringify(until));
      assert.ok(!until.some((execution) => execution.id === all[0].id));
      const future = await listExecutions(server, `since=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`);
      assert.deepEqual(future, []);
    });

    it('returns 100 executions by default, up to 1000 with limit', async () => {
      for (let index = 0; index < 101; index++) {
        const started = await api<Execution>(server, API_PATHS.externalStart, { secret: TEST_CRON_SECRET, body: { cronName: 'external' } });
        assert.equal(started.status, 201, started.text);
        await api(server, API_PATHS.externalComplete, { secret: TEST_CRON_SECRET, body: { executionId: started.body.id, status: 'completed' } });
      }
      const page = await api(server, `${API_PATHS.executions}?cronName=external`);
      assert.equal(page.body.executions.length, 100);
      assert.equal(typeof page.body.nextCursor, 'string');
      const rest = await api(server, `${API_PATHS.executions}?cronName=external&before=${encodeURIComponent(page.body.nextCursor)}`);
      assert.equal(rest.body.executions.length, 1);
      assert.equal(rest.body.nextCursor, null);
      assert.equal((await listExecutions(server, 'cronName=external&limit=1000')).length, 101);
    });

    it('refuses bad query values with 400', async () => {
      for (const query of ['limit=0', 'limit=1001', 'limit=abc', 'status=done', 'before=not-a-cursor', 'since=yesterday', 'cronName=Not%20A%20Name']) {
        assertErrorReply(await api(server, `${API_PATHS.executions}?${query}`), 400, query);
      }
    });
  });

  describe('GET /api/admin/cron-executions/:id and its logs', () => {
    it('returns one execution, and 404 for an unknown one', async () => {
      const [latest] = await listExecutions(server, 'cronName=quick&limit=1');
      const one = await api(server, API_PATHS.execution(latest.id));
      assert.equal(one.status, 200, one.text);
      assert.deepEqual(one.body, latest);
      assertErrorReply(await api(server, API_PATHS.execution('00000000-0000-4000-8000-000000000000')), 404, 'unknown execution');
      const notUuid = await api(server, API_PATHS.execution('nope'));
      assert.ok([400, 404].includes(notUuid.status), `not a uuid: ${notUuid.status} ${notUuid.text}`);
      assert.equal(notUuid.body.success, false);
    });

    it('returns the log lines after a sequence number, done once ended', async () => {
      const id = await triggerOk(server, 'quick');
      await waitForStatus(server, id, 'completed');
      const logs = await api(server, `${API_PATHS.logs(id)}?after=0`);
      assert.equal(logs.status, 200, logs.text);
      assert.equal(logs.body.done, true);
      assert.equal(logs.body.lines.length, 1);
      assert.deepEqual({ ...logs.body.lines[0], at: undefined }, { seq: 1, at: undefined, stream: 'stdout', line: 'hello from quick' });
      assert.match(logs.body.lines[0].at, ISO);
      const after = await api(server, `${API_PATHS.logs(id)}?after=1`);
      assert.deepEqual(after.body, { lines: [], done: true });
      assertErrorReply(await api(server, API_PATHS.logs('00000000-0000-4000-8000-000000000000')), 404, 'logs of an unknown execution');
      assertErrorReply(await api(server, `${API_PATHS.logs(id)}?after=-1`), 400, 'negative after');
      assertErrorReply(await api(server, `${API_PATHS.logs(id)}?after=x`), 400, 'after not a number');
    });

    it('says done: false while the execution runs', async () => {
      const id = await triggerOk(server, 'hangs-too');
      await waitFor(async () => (await api(server, API_PATHS.logs(id))).body.lines.length > 0, 'the first line');
      const logs = await api(server, API_PATHS.logs(id));
      assert.equal(logs.body.done, false);
      assert.match(logs.body.lines[0].line, /^running \d+$/);
      await api(server, API_PATHS.cancel(id), { method: 'POST' });
      await waitFor(async () => (await api(server, API_PATHS.logs(id))).body.done === true, 'done after the cancel');
    });
  });

  describe('cancel and mark-failed', () => {
    it('cancels a running execution; a second cancel or mark-failed answers 409 with its status', async () => {
      const id = await triggerOk(server, 'hangs');
      const cancelled = await api<Execution>(server, API_PATHS.cancel(id), { method: 'POST' });
      assert.equal(cancelled.status, 200, cancelled.text);
      assert.equal(cancelled.body.id, id);
      assert.equal(cancelled.body.status, 'cancelled');
      assert.ok(cancelled.body.completedAt);
      const again = await api(server, API_PATHS.cancel(id), { method: 'POST' });
      assertErrorReply(again, 409, 'second cancel');
      assert.equal(again.body.status, 'cancelled');
      const markFailed = await api(server, API_PATHS.markFailed(id), { method: 'POST' });
      assertErrorReply(markFailed, 409, 'mark-failed after cancel');
      assert.equal(markFailed.body.status, 'cancelled');
      // The process ending later does not overwrite the first terminal status.
      await waitFor(async () => (await api(server, API_PATHS.logs(id))).body.done, 'the run to be fully over');
      assert.equal((await getExecution(server, id)).status, 'cancelled');
    });

    it('answers 409 with the status when cancelling a completed execution, and changes nothing', async () => {
      const id = await triggerOk(server, 'quick');
      const done = await waitForStatus(server, id, 'completed');
      const reply = await api(server, API_PATHS.cancel(id), { method: 'POST' });
      assertErrorReply(reply, 409, 'cancel after completion');
      assert.equal(reply.body.status, 'completed');
      assert.deepEqual(await getExecution(server, id), done);
    });

    it('marks a running execution failed with the default reason, or the one given', async () => {
      const first = await triggerOk(server, 'hangs');
      const failed = await api<Execution>(server, API_PATHS.markFailed(first), { method: 'POST' });
      assert.equal(failed.status, 200, failed.text);
      assert.equal(failed.body.status, 'failed');
      assert.equal(failed.body.errorMessage, MANUAL_FAILURE_REASON);
      assert.equal(failed.body.errorMessage, 'Timeout - manually cancelled');
      await waitFor(async () => (await api(server, API_PATHS.logs(first))).body.done, 'the first run to be over');
      const second = await triggerOk(server, 'hangs');
      const reasoned = await api<Execution>(server, API_PATHS.markFailed(second), { method: 'POST', body: { reason: 'Stuck on a lock, ticket #42' } });
      assert.equal(reasoned.status, 200, reasoned.text);
      assert.equal(reasoned.body.errorMessage, 'Stuck on a lock, ticket #42');
      await waitFor(async () => (await api(server, API_PATHS.logs(second))).body.done, 'the second run to be over');
      assert.equal((await getExecution(server, second)).errorMessage, 'Stuck on a lock, ticket #42');
    });

    it('answers 404 for unknown executions and 400 for a bad reason', async () => {
      const unknown = '00000000-0000-4000-8000-000000000000';
      assertErrorReply(await api(server, API_PATHS.cancel(unknown), { method: 'POST' }), 404, 'cancel unknown');
      assertErrorReply(await api(server, API_PATHS.markFailed(unknown), { method: 'POST' }), 404, 'mark-failed unknown');
      const id = await triggerOk(server, 'hangs');
      assertErrorReply(await api(server, API_PATHS.markFailed(id), { method: 'POST', body: { reason: 42 } }), 400, 'reason not a string');
      assertErrorReply(await api(server, API_PATHS.markFailed(id), { method: 'POST', body: [1] }), 400, 'body an array');
      assert.equal((await getExecution(server, id)).status, 'running', 'a refused request changes nothing');
      assert.equal((await api(server, API_PATHS.cancel(id), { method: 'POST' })).status, 200);
    });
  });

  describe('pause and resume', () => {
    it('pauses and resumes a schedule; manual triggers still work while paused', async () => {
      const paused = await api<Cron>(server, API_PATHS.pause('pausable'), { method: 'POST' });
      assert.equal(paused.status, 200, paused.text);
      assert.equal(paused.body.name, 'pausable');
      assert.equal(paused.body.paused, true);
      const listed = (await api<{ crons: Cron[] }>(server, API_PATHS.crons)).body.crons.find((cron) => cron.name === 'pausable')!;
      assert.equal(listed.paused, true);
      const id = await triggerOk(server, 'pausable');
      await waitForStatus(server, id, 'completed');
      const resumed = await api<Cron>(server, API_PATHS.resume('pausable'), { method: 'POST' });
      assert.equal(resumed.status, 200, resumed.text);
      assert.equal(resumed.body.paused, false);
      assert.match(resumed.body.nextRunAt!, ISO);
      assertErrorReply(await api(server, API_PATHS.pause('no-such-cron'), { method: 'POST' }), 404, 'pause unknown');
      assertErrorReply(await api(server, API_PATHS.resume('no-such-cron'), { method: 'POST' }), 404, 'resume unknown');
    });
  });

  describe('stats and timeline', () => {
    it('computes the four KPIs from the executions', async () => {
      const stats = await api(server, API_PATHS.stats);
      assert.equal(stats.status, 200, stats.text);
      const all = await listExecutions(server, 'limit=1000');
      const dayAgo = Date.now() - 86_400_000;
      const recent = all.filter((execution) => Date.parse(execution.startedAt) >= dayAgo);
      assert.equal(stats.body.executions24h, recent.length);
      assert.equal(stats.body.running, all.filter((execution) => execution.status === 'running').length);
      assert.equal(stats.body.failures24h, recent.filter((execution) => execution.status === 'failed').length);
      assert.ok(stats.body.failures24h >= 1);
      const crons = (await api<{ crons: Cron[] }>(server, API_PATHS.crons)).body.crons.filter((cron) => !cron.paused && cron.nextRunAt);
      const soonest = Math.min(...crons.map((cron) => Date.parse(cron.nextRunAt!)));
      assert.equal(Date.parse(stats.body.nextExecution.at), soonest);
      assert.ok(crons.some((cron) => cron.name === stats.body.nextExecution.cronName && Date.parse(cron.nextRunAt!) === soonest));
    });

    it('counts a running execution, then not once it ends', async () => {
      const before = (await api(server, API_PATHS.stats)).body;
      const id = await triggerOk(server, 'hangs');
      const during = (await api(server, API_PATHS.stats)).body;
      assert.equal(during.running, before.running + 1);
      assert.equal(during.executions24h, before.executions24h + 1);
      await api(server, API_PATHS.cancel(id), { method: 'POST' });
      const after = (await api(server, API_PATHS.stats)).body;
      assert.equal(after.running, before.running);
      assert.equal(after.failures24h, before.failures24h, 'a cancel is not a failure');
    });

    it('returns the 7-day timeline with filters', async () => {
      const reply = await api(server, `${API_PATHS.timeline}?days=7`);
      assert.equal(reply.status, 200, reply.text);
      assert.match(reply.body.from, ISO);
      assert.match(reply.body.to, ISO);
      const span = Date.parse(reply.body.to) - Date.parse(reply.body.from);
      assert.ok(Math.abs(span - 7 * 86_400_000) < 60_000, `from..to spans 7 days: ${reply.body.from} ${reply.body.to}`);
      const all = await listExecutions(server, 'limit=1000');
      assert.equal(reply.body.executions.length, all.length);
      for (const entry of reply.body.executions) {
        assert.deepEqual(Object.keys(entry).sort(), ['cronName', 'durationMs', 'id', 'startedAt', 'status']);
        assert.equal(typeof entry.durationMs, 'number');
        const execution = all.find((candidate) => candidate.id === entry.id)!;
        assert.equal(entry.cronName, execution.cronName);
        assert.equal(entry.status, execution.status);
        if (execution.status !== 'running') assert.equal(entry.durationMs, execution.durationMs);
      }
      const quick = await api(server, `${API_PATHS.timeline}?cronName=quick`);
      assert.ok(quick.body.executions.length > 0);
      assert.ok(quick.body.executions.every((entry: Execution) => entry.cronName === 'quick'));
      const failed = await api(server, `${API_PATHS.timeline}?status=failed`);
      assert.ok(failed.body.executions.length > 0);
      assert.ok(failed.body.executions.every((entry: Execution) => entry.status === 'failed'));
      const everything = await api(server, `${API_PATHS.timeline}?cronName=&status=`);
      assert.equal(everything.status, 200, 'empty filters mean all');
      for (const query of ['days=0', 'days=abc', 'days=1000', 'status=done']) assertErrorReply(await api(server, `${API_PATHS.timeline}?${query}`), 400, query);
    });
  });

  describe('external scripts (X-Cron-Secret)', () => {
    it('record a run with start and complete', async () => {
      const started = await api<Execution>(server, API_PATHS.externalStart, { secret: TEST_CRON_SECRET, body: { cronName: 'external' } });
      assert.ok([200, 201].includes(started.status), started.text);
      assert.equal(started.body.cronName, 'external');
      assert.equal(started.body.status, 'running');
      assert.equal(started.body.triggerType, 'external');
      const refused = await trigger(server, 'external');
      assertErrorReply(refused, 409, 'trigger while an external run is going');
      assert.equal(refused.body.runningExecutionId, started.body.id);
      const completed = await api<Execution>(server, API_PATHS.externalComplete, { secret: TEST_CRON_SECRET, body: { executionId: started.body.id, status: 'completed', exitCode: 0 } });
      assert.equal(completed.status, 200, completed.text);
      assert.equal(completed.body.status, 'completed');
      assert.equal(completed.body.exitCode, 0);
      assert.ok(completed.body.completedAt);
      const again = await api(server, API_PATHS.externalComplete, { secret: TEST_CRON_SECRET, body: { executionId: started.body.id, status: 'failed', errorMessage: 'late' } });
      assertErrorReply(again, 409, 'complete twice');
      assert.equal(again.body.status, 'completed');
      assert.equal((await getExecution(server, started.body.id)).status, 'completed');
    });

    it('record a failure with its message', async () => {
      const started = await api<Execution>(server, API_PATHS.externalStart, { secret: TEST_CRON_SECRET, body: { cronName: 'external' } });
      const failed = await api<Execution>(server, API_PATHS.externalComplete, {
        secret: TEST_CRON_SECRET,
        body: { executionId: started.body.id, status: 'failed', exitCode: 2, errorMessage: 'OpenAI API unreachable' },
      });
      assert.equal(failed.status, 200, failed.text);
      assert.equal(failed.body.status, 'failed');
      assert.equal(failed.body.exitCode, 2);
      assert.equal(failed.body.errorMessage, 'OpenAI API unreachable');
    });

    it('refuse bearer tokens, wrong secrets, unknown crons and bad bodies', async () => {
      assertErrorReply(await api(server, API_PATHS.externalStart, { body: { cronName: 'external' } }), 403, 'start with a bearer token');
      assertErrorReply(await api(server, API_PATHS.externalStart, { secret: 'wrong', body: { cronName: 'external' } }), 401, 'start with a wrong secret');
      assertErrorReply(await api(server, API_PATHS.externalStart, { token: null, body: { cronName: 'external' } }), 401, 'start without credentials');
      assertErrorReply(await api(server, API_PATHS.externalStart, { secret: TEST_CRON_SECRET, body: { cronName: 'no-such-cron' } }), 404, 'start of an unknown cron');
      assertErrorReply(await api(server, API_PATHS.externalStart, { secret: TEST_CRON_SECRET, body: {} }), 400, 'start without a cron name');
      assertErrorReply(
        await api(server, API_PATHS.externalComplete, { secret: TEST_CRON_SECRET, body: { executionId: '00000000-0000-4000-8000-000000000000', status: 'completed' } }),
        404,
        'complete of an unknown execution',
      );
      assertErrorReply(await api(server, API_PATHS.externalComplete, { secret: TEST_CRON_SECRET, body: { executionId: 'x', status: 'completed' } }), 400, 'complete with a bad id');
      const started = await api<Execution>(server, API_PATHS.externalStart, { secret: TEST_CRON_SECRET, body: { cronName: 'external' } });
      assertErrorReply(await api(server, API_PATHS.externalComplete, { secret: TEST_CRON_SECRET, body: { executionId: started.body.id, status: 'cancelled' } }), 400, 'complete as cancelled');
      assertErrorReply(await api(server, API_PATHS.crons, { secret: TEST_CRON_SECRET }), 403, 'reading with the machine secret');
      await api(server, API_PATHS.externalComplete, { secret: TEST_CRON_SECRET, body: { executionId: started.body.id, status: 'completed' } });
    });

    it('shows an external run past its timeoutMs as stuck; mark-failed ends it', async () => {
      const started = await api<Execution>(server, API_PATHS.externalStart, { secret: TEST_CRON_SECRET, body: { cronName: 'external-stuck' } });
      assert.equal(started.body.stuck, false);
      const stuck = await waitForExecution(server, started.body.id, (execution) => execution.stuck, 'the run to be stuck', 10_000);
      assert.equal(stuck.status, 'running', 'the server does not end a run it does not own');
      const cron = (await api<{ crons: Cron[] }>(server, API_PATHS.crons)).body.crons.find((candidate) => candidate.name === 'external-stuck')!;
      assert.equal(cron.runningExecution?.stuck, true);
      const failed = await api<Execution>(server, API_PATHS.markFailed(started.body.id), { method: 'POST' });
      assert.equal(failed.status, 200, failed.text);
      assert.equal(failed.body.status, 'failed');
      assert.equal(failed.body.errorMessage, 'Timeout - manually cancelled');
      assert.equal(failed.body.stuck, false);
      const late = await api(server, API_PATHS.externalComplete, { secret: TEST_CRON_SECRET, body: { executionId: started.body.id, status: 'completed' } });
      assertErrorReply(late, 409, 'complete after mark-failed');
      assert.equal(late.body.status, 'failed');
    });
  });

  describe('POST /api/cron/retention', () => {
    it('applies the retention for a machine caller and says how many rows went', async () => {
      const reply = await api(server, '/api/cron/retention', { secret: TEST_CRON_SECRET, body: {} });
      assert.equal(reply.status, 200, reply.text);
      assert.deepEqual(reply.body, { success: true, deleted: 0, days: 7, auditDeleted: 0 });
      const days = await api(server, '/api/cron/retention', { secret: TEST_CRON_SECRET, body: { days: 30 } });
      assert.deepEqual(days.body, { success: true, deleted: 0, days: 30, auditDeleted: 0 });
      assertErrorReply(await api(server, '/api/cron/retention', { secret: TEST_CRON_SECRET, body: { days: 0 } }), 400, 'days 0');
      assertErrorReply(await api(server, '/api/cron/retention', { secret: 'wrong', body: {} }), 401, 'wrong secret');
      assert.ok((await listExecutions(server, 'limit=1000')).length > 0, 'recent executions stay');
    });
  });

  describe('audit trail', () => {
    it('records a trigger and a refusal with actor and client address', async () => {
      const id = await triggerOk(server, 'quick');
      await trigger(server, 'no-such-cron');
      await trigger(server, 'quick', undefined, { token: 'bad-token' });
      const reply = await api(server, `${API_PATHS.audit}?limit=1000`);
      assert.equal(reply.status, 200, reply.text);
      const entries: any[] = reply.body.entries;
      const triggered = entries.find((entry) => /trigger/.test(entry.action) && entry.details?.executionId === id);
      assert.ok(triggered, `a trigger entry for ${id}: ${JSON.stringify(entries.slice(0, 5))}`);
      assert.equal(triggered.target, 'quick');
      assert.equal(triggered.actor, 'env:CRON_OPS_ADMIN_TOKEN');
      assert.equal(triggered.role, 'super-admin');
      assert.match(triggered.clientAddress, /127\.0\.0\.1|::1/);
      assert.match(triggered.at, ISO);
      const refused = entries.find((entry) => entry.target === 'no-such-cron');
      assert.ok(refused, 'a refusal entry for the unknown cron');
      assert.match(refused.clientAddress, /127\.0\.0\.1|::1/);
      assert.equal(refused.actor, 'env:CRON_OPS_ADMIN_TOKEN');
      const unauthenticated = entries.find((entry) => /refus/.test(entry.action) && entry.details?.status === 401);
      assert.ok(unauthenticated, 'a refusal entry for the bad token');
      assert.match(unauthenticated.clientAddress, /127\.0\.0\.1|::1/);
      const cancels = entries.filter((entry) => /cancel/.test(entry.action));
      assert.ok(cancels.length > 0, 'cancels are audited');
      const pauses = entries.filter((entry) => /pause/.test(entry.action) && entry.target === 'pausable');
      assert.equal(pauses.length, 1, 'the pause is audited');
      const markFailed = entries.filter((entry) => /mark-?failed/i.test(entry.action));
      assert.ok(markFailed.length >= 2, 'mark-failed is audited');
      const times = entries.map((entry) => Date.parse(entry.at));
      assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first');
    });
  });

  describe('bad input never gives a 500', () => {
    it('survives a fuzz of methods, paths, queries, headers and bodies', async () => {
      const [real] = await listExecutions(server, 'limit=1');
      const paths = [
        API_PATHS.logs(real.id) + '?after=1e309',
        API_PATHS.logs(real.id) + '?after=-1e309&limit=1e309',
        '/api/admin/cron-executions/timeline?days=1e309',
        '/api/admin/audit?limit=1e309',
        '/api/admin/cron-executions?limit=-1e309',
        '/',
        '/api',
        '/api/admin/crons/%00',
        '/api/admin/crons/quick/pause/extra',
        '/api/admin/cron-executions/%E0%A4%A',
        '/api/admin/cron-executions/' + 'a'.repeat(5000),
        '/api/admin/cron-executions/../../etc/passwd',
        '/api/admin/cron-executions?limit=1e309',
        '/api/admin/cron-executions?limit=-5&before=%27%20OR%201%3D1--',
        '/api/admin/cron-executions?since=2026-13-45T99:99:99Z',
        '/api/admin/cron-executions?cronName=quick&cronName=fails',
        '/api/admin/cron-executions/00000000-0000-4000-8000-000000000000/logs?after=99999999999999999999',
        '/api/admin/cron-executions/timeline?days=1.5',
        '/api/admin/audit?limit=abc',
        '/api/admin/crons/' + encodeURIComponent("'; DROP TABLE cron_executions; --") + '/pause',
        '/health?x=%',
      ];
      const bodies: Array<string | undefined> = [
        undefined,
        '',
        'null',
        '"string"',
        '[]',
        '{"cronName": null}',
        '{"cronName": "quick", "params": {"__proto__": {"admin": true}}}',
        '{"constructor": {"prototype": {"polluted": 1}}}',
        '{"cronName": "' + 'a'.repeat(10_000) + '"}',
        '{"cronName": "quick", "params": ' + '['.repeat(5000) + ']'.repeat(5000) + '}',
        '{"cronName": "quick", "params": {"x": 1e400}}',
        '\u0000\u0001\u0002',
        '{"cronName": "quick"}garbage',
        '{"reason": "' + '\\ud800' + '"}',
        '{"days": "seven"}',
        '{"executionId": "00000000-0000-4000-8000-000000000000", "status": "completed", "exitCode": 1.5}',
      ];
      const posts = [
        API_PATHS.trigger,
        API_PATHS.cancel('00000000-0000-4000-8000-000000000000'),
        API_PATHS.markFailed('not-a-uuid'),
        API_PATHS.pause('quick;rm'),
        API_PATHS.externalStart,
        API_PATHS.externalComplete,
        '/api/cron/retention',
      ];
      const failures: string[] = [];
      const check = async (label: string, run: () => Promise<{ status: number; text: string }>) => {
        const reply = await run();
        if (reply.status >= 500) failures.push(`${label} -> ${reply.status} ${reply.text.slice(0, 200)}`);
      };
      for (const path of paths) {
        for (const method of ['GET', 'POST', 'DELETE', 'PUT']) await check(`${method} ${path.slice(0, 80)}`, () => api(server, path, { method, rawBody: method === 'POST' ? '{}' : undefined }));
      }
      for (const path of posts) {
        for (const body of bodies) {
          await check(`POST ${path} ${String(body).slice(0, 60)}`, () => api(server, path, { method: 'POST', rawBody: body }));
          await check(`POST ${path} (secret) ${String(body).slice(0, 60)}`, () => api(server, path, { method: 'POST', rawBody: body, secret: TEST_CRON_SECRET }));
        }
        await check(`POST ${path} text/plain`, () => api(server, path, { method: 'POST', rawBody: 'hello', headers: { 'content-type': 'text/plain' } }));
        await check(`POST ${path} bad content-type`, () => api(server, path, { method: 'POST', rawBody: '{}', headers: { 'content-type': 'application/json; charset=klingon' } }));
      }
      for (const header of <Array<Record<string, string>>>[{ authorization: 'Bearer' }, { authorization: 'Bearer a b c' }, { authorization: 'x'.repeat(8000) }, { 'x-cron-secret': '' }, { 'last-event-id': 'abc' }]) {
        await check(`GET events with ${JSON.stringify(header).slice(0, 60)}`, () => api(server, `${API_PATHS.events}?follow=not-a-uuid`, { token: null, headers: header }));
        await check(`GET crons with ${JSON.stringify(header).slice(0, 60)}`, () => api(server, API_PATHS.crons, { token: null, headers: header }));
      }
      assert.deepEqual(failures, []);
      const health = await api(server, API_PATHS.health, { token: null });
      assert.equal(health.status, 200, 'still healthy afterwards');
      const crons = await api(server, API_PATHS.crons);
      assert.equal(crons.status, 200);
      assert.ok(!('polluted' in {}), 'no prototype pollution');
    });
  });
});
