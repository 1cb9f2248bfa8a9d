// In-process (buildApp + inject): bad input is a 400, never a 500 (NUL, lone surrogates, deep nesting,
// every param shape); a 500 never echoes an internal message; logs show params after validation, cut
// short, and never a credential; a loopback server answers only loopback Host names.
import assert from 'node:assert/strict';
import { API_PATHS } from '../../../src/shared/api';
import { startInProcess, type InProcessApp } from '../../support/inProcess';
import { waitFor } from '../../support/waitFor';
import { nodeCron, TEST_ADMIN_TOKEN, TEST_CRON_SECRET } from '../../support/serverProcess';

describe('in-process: input, errors, logs and Host', function () {
  let server: InProcessApp;

  before(async () => {
    server = await startInProcess({
      crons: [
        nodeCron('quick', 'console.log("ok")'),
        nodeCron('with-params', 'console.log(process.env.CRON_PARAMS)', {
          params: { label: { type: 'string' }, batchSize: { type: 'integer', min: 1, max: 50 }, dryRun: { type: 'boolean' } },
        }),
      ],
      rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
      allowedHosts: ['ops.example.internal'],
    });
  });

  after(async () => {
    await server?.close();
  });

  const json = (reply: { body: string }) => JSON.parse(reply.body);
  const post = (url: string, payload: string, secret = false) =>
    server.request({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' }, ...(secret ? { secret: TEST_CRON_SECRET } : {}) });

  describe('bad input is a 400 that says what is wrong', () => {
    it('refuses NUL characters and lone surrogates in any string: params, reason, keys, query', async () => {
      const cases: Array<[string, string]> = [
        [API_PATHS.trigger, '{"cronName": "with-params", "params": {"label": "a\\u0000b"}}'],
        [API_PATHS.trigger, '{"cronName": "with-params", "params": {"label": "\\ud800"}}'],
        [API_PATHS.trigger, '{"cronName": "with-params", "params": {"label": "\\udc00x"}}'],
        [API_PATHS.trigger, '{"cronName": "with-params", "params": {"la\\u0000bel": "x"}}'],
        [API_PATHS.cancel('00000000-0000-4000-8000-000000000000'), '{"reason": "stop\\u0000"}'],
        [API_PATHS.markFailed('00000000-0000-4000-8000-000000000000'), '{"reason": "\\ud83d"}'],
      ];
      for (const [url, body] of cases) {
        const reply = await post(url, body);
        assert.equal(reply.statusCode, 400, `${url} ${body}: ${reply.body}`);
        assert.match(json(reply).error, /NUL|surrogate/, `${body}: says which character: ${reply.body}`);
      }
      const external = await post(API_PATHS.externalComplete, '{"executionId": "00000000-0000-4000-8000-000000000000", "status": "failed", "errorMessage": "x\\u0000"}', true);
      assert.equal(external.statusCode, 400, external.body);
      const query = await server.request({ url: `${API_PATHS.audit}?actor=a%00b` });
      assert.equal(query.statusCode, 400, query.body);
      const pair = await post(API_PATHS.trigger, '{"cronName": "with-params", "params": {"label": "emoji \\ud83d\\ude00 ok"}}');
      assert.notEqual(pair.statusCode, 500, 'a surrogate pair is fine text');
    });

    it('answers a path with a bad percent-escape or an unknown route in the API error shape', async () => {
      const badEscape = await server.request({ url: `${API_PATHS.crons}/%E0%A4%A/pause`, method: 'POST', payload: '{}', headers: { 'content-type': 'application/json' } });
      assert.equal(badEscape.statusCode, 400, badEscape.body);
      assert.match(json(badEscape).error, /percent-encoding/);
      const unknown = await server.request({ url: '/api/admin/nothing-here' });
      assert.equal(unknown.statusCode, 404, unknown.body);
      assert.match(json(unknown).error, /No route GET \/api\/admin\/nothing-here/);
    });

    it('names the allowed values of a bad status, and answers a body that is not JSON with 415', async () => {
      for (const url of [`${API_PATHS.executions}?status=bogus`, `${API_PATHS.timeline}?status=FAILED`]) {
        const reply = await server.request({ url });
        assert.equal(reply.statusCode, 400, reply.body);
        assert.match(json(reply).error, /status must be one of: "completed", "running", "failed", "cancelled"/, reply.body);
      }
      // A cron name filter, which may also be empty ("no filter"), says what a name must look like.
      const nameRule = /cronName must be a cron name: lower-case letters, digits and dashes, starting with a letter or a digit, at most 63 characters/;
      for (const [name, rule] of [['BAD%20NAME', nameRule], ["o'brien", nameRule], ['Alpha', nameRule], ['x'.repeat(64), /cronName must NOT have more than 63 characters/]] as const) {
        const reply = await server.request({ url: `${API_PATHS.timeline}?cronName=${name}` });
        assert.equal(reply.statusCode, 400, reply.body);
        assert.match(json(reply).error, rule, reply.body);
      }
      const text = await server.request({ method: 'POST', url: API_PATHS.trigger, payload: 'quick', headers: { 'content-type': 'text/plain' } });
      assert.equal(text.statusCode, 415, text.body);
      assert.match(json(text).error, /send application\/json/);
    });

    it('refuses JSON nested past 32 levels before parsing it', async () => {
      const deep = (levels: number) => `{"cronName": "quick", "params": {"x": ${'['.repeat(levels)}${']'.repeat(levels)}}}`;
      for (const levels of [40, 5000, 400_000]) {
        const reply = await post(API_PATHS.trigger, deep(levels));
        assert.equal(reply.statusCode, 400, `${levels} levels: ${reply.body.slice(0, 200)}`);
        assert.match(json(reply).error, /nested deeper than 32/);
      }
      const shallow = await post(API_PATHS.trigger, deep(3));
      assert.equal(shallow.statusCode, 400, 'parsed, then refused for its content');
      assert.match(json(shallow).error, /param/i);
    });

    it('answers every param shape with a 4xx, never a 500', async () => {
      const shapes: unknown[] = [null, true, 0, -1, 1.5, 1e308, 'text', '', [], [1], {}, { a: 1 }, { a: { b: { c: 1 } } }, 'x'.repeat(100_000)];
      const failures: string[] = [];
      for (const shape of shapes) {
        const bodies = [
          { cronName: 'with-params', params: { label: shape } },
          { cronName: 'with-params', params: { batchSize: shape } },
          { cronName: 'with-params', params: { dryRun: shape } },
          { cronName: 'with-params', params: shape },
          { cronName: shape },
          { cronName: 'quick', params: { [String(shape).slice(0, 60)]: shape } },
        ];
        for (const body of bodies) {
          const reply = await post(API_PATHS.trigger, JSON.stringify(body));
          if (reply.statusCode >= 500) failures.push(`${JSON.stringify(body).slice(0, 100)} -> ${reply.statusCode} ${reply.body.slice(0, 200)}`);
        }
        for (const url of [API_PATHS.cancel('00000000-0000-4000-8000-000000000000'), '/api/cron/retention', API_PATHS.externalStart, API_PATHS.externalComplete, API_PATHS.tokens]) {
          for (const body of [{ reason: shape }, { days: shape }, { cronName: shape }, { executionId: shape, status: shape }, { name: shape, role: shape }]) {
            const reply = await post(url, JSON.stringify(body), url.startsWith('/api/cron/') && url !== '/api/cron/retention');
            if (reply.statusCode >= 500) failures.push(`${url} ${JSON.stringify(body).slice(0, 100)} -> ${reply.statusCode} ${reply.body.slice(0, 200)}`);
          }
        }
      }
      for (const query of ['limit=1e309', 'limit=%00', 'cronName[]=x', 'cronName[a]=1', 'before=%ud800', 'status=running&status=failed', 'since=2026-02-30T00:00:00Z']) {
        const reply = await server.request({ url: `${API_PATHS.executions}?${query}` });
        if (reply.statusCode >= 500) failures.push(`?${query} -> ${reply.statusCode} ${reply.body.slice(0, 200)}`);
      }
      assert.deepEqual(failures, []);
    });
  });

  describe('500 replies', () => {
    it('never echo the internal message; they name the request id the log has it under', async () => {
      const service = server.app.service;
      const original = service.stats.bind(service);
      service.stats = async () => {
        throw new Error('relation "secret_internal_table" does not exist at SELECT password FROM');
      };
      try {
        const reply = await server.request({ url: API_PATHS.stats });
        assert.equal(reply.statusCode, 500, reply.body);
        const body = json(reply);
        assert.equal(body.success, false);
        assert.ok(!reply.body.includes('secret_internal_table'), `no internal message in ${reply.body}`);
        const requestId = /request (\S+)\)/.exec(body.error)?.[1];
        assert.ok(requestId, `names the request: ${body.error}`);
        const logged = server.logLines.find((line) => line.includes('secret_internal_table'));
        assert.ok(logged && logged.includes(requestId), 'the log has the message under that request id');
      } finally {
        service.stats = original;
      }
    });
  });

  describe('logs', () => {
    it('show params only after validation, cut short; never a token or the secret', async () => {
      // An earlier test's run of with-params may still be going on a busy machine: "already running" would refuse.
      await waitFor(async () => {
        const { crons } = json(await server.request({ url: API_PATHS.crons })) as { crons: Array<{ name: string; runningExecution: unknown }> };
        return crons.find((cron) => cron.name === 'with-params')?.runningExecution === null || undefined;
      }, 'the earlier run of with-params to end', 60_000);
      const start = server.logLines.length;
      const huge = 'y'.repeat(900_000);
      const refused = await post(API_PATHS.trigger, JSON.stringify({ cronName: 'with-params', params: { label: huge, batchSize: 0 } }));
      assert.equal(refused.statusCode, 400);
      const accepted = await post(API_PATHS.trigger, JSON.stringify({ cronName: 'with-params', params: { label: 'z'.repeat(5000), batchSize: 3 } }));
      assert.equal(accepted.statusCode, 202, accepted.body);
      await server.request({ url: API_PATHS.crons, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'x-cron-secret': TEST_CRON_SECRET } });
      await server.request({ method: 'POST', url: API_PATHS.trigger, secret: TEST_CRON_SECRET, token: null, payload: { cronName: 'quick' } });
      const lines = server.logLines.slice(start);
      assert.ok(lines.length > 0);
      const longest = Math.max(...lines.map((line) => line.length));
      assert.ok(longest < 2_000, `no huge log line (longest ${longest})`);
      const params = lines.filter((line) => line.includes('Parameters for with-params'));
      assert.equal(params.length, 1, `only the valid params are logged: ${params.map((line) => line.slice(0, 200)).join('\n')}`);
      assert.match(params[0], /characters\)/, 'cut short, saying how long it was');
      const all = lines.join('\n');
      assert.ok(!all.includes(TEST_ADMIN_TOKEN) && !all.includes(TEST_CRON_SECRET), 'no credential in the log');
    });

    it('redact tokens and secrets passed as fields', () => {
      const start = server.logLines.length;
      server.app.http.log.info({ token: 'cop_leaked', req: { headers: { authorization: 'Bearer cop_leaked2', 'x-cron-secret': 'leaked3' } }, details: { secret: 'leaked4' } }, 'with credentials');
      const line = server.logLines.slice(start).join('\n');
      assert.match(line, /with credentials/);
      for (const leaked of ['cop_leaked', 'cop_leaked2', 'leaked3', 'leaked4']) assert.ok(!line.includes(`"${leaked}"`) && !line.includes(`${leaked}"`), `${leaked} redacted in ${line}`);
      assert.match(line, /\[redacted\]/);
    });
  });

  describe('Host check on a loopback server', () => {
    it('answers loopback names and allowedHosts, refuses any other Host with 403', async () => {
      for (const host of ['localhost', 'localhost:9998', '127.0.0.1:9998', '127.1.2.3', '[::1]:9998', 'ops.example.internal:9998', 'OPS.example.internal']) {
        const reply = await server.request({ url: API_PATHS.health, token: null, headers: { host } });
        assert.equal(reply.statusCode, 200, `${host}: ${reply.body}`);
      }
      for (const host of ['evil.example', 'evil.example:9998', '127.0.0.1.evil.example', 'localhost.evil.example', '10.0.0.1']) {
        for (const url of [API_PATHS.health, API_PATHS.crons]) {
          const reply = await server.request({ url, headers: { host } });
          assert.equal(reply.statusCode, 403, `${host} ${url}: ${reply.body}`);
          assert.match(json(reply).error, /allowedHosts/);
        }
      }
    });
  });
});
