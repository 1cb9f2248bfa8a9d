// In-process (buildApp + inject): who may do what. The machine secret stays in its lane, the session says
// who the caller is, tokens are managed through the API by a super-admin, a revoked token is refused at
// once, and refusals of unauthenticated callers are counted per address and minute, not written one by one.
import assert from 'node:assert/strict';
import { API_PATHS, type AuditEntry, type Cron } from '../../../src/shared/api';
import { startInProcess, type InProcessApp } from '../../support/inProcess';
import { nodeCron, TEST_CRON_SECRET } from '../../support/serverProcess';
import { waitFor } from '../../support/waitFor';

const HANG = 'setInterval(() => {}, 1000)';

describe('in-process: access', function () {
  let server: InProcessApp;

  before(async () => {
    server = await startInProcess({
      crons: [nodeCron('quick', 'console.log("ok")'), nodeCron('hangs', HANG), nodeCron('external', HANG)],
      rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
      killGraceMs: 200,
    });
  });

  after(async () => {
    await server?.close();
  });

  const json = <T = any>(reply: { body: string }): T => JSON.parse(reply.body) as T;

  async function createToken(name: string, role: string): Promise<string> {
    const reply = await server.request({ method: 'POST', url: API_PATHS.tokens, payload: { name, role } });
    assert.equal(reply.statusCode, 201, reply.body);
    return json(reply).token;
  }

  describe('the machine secret (X-Cron-Secret)', () => {
    it('may trigger, start and complete external runs, and apply retention', async () => {
      const triggered = await server.request({ method: 'POST', url: API_PATHS.trigger, secret: TEST_CRON_SECRET, payload: { cronName: 'quick' } });
      assert.equal(triggered.statusCode, 202, triggered.body);
      const started = await server.request({ method: 'POST', url: API_PATHS.externalStart, secret: TEST_CRON_SECRET, payload: { cronName: 'external' } });
      assert.equal(started.statusCode, 201, started.body);
      const completed = await server.request({ method: 'POST', url: API_PATHS.externalComplete, secret: TEST_CRON_SECRET, payload: { executionId: json(started).id, status: 'completed', exitCode: 0 } });
      assert.equal(completed.statusCode, 200, completed.body);
      assert.equal(json(completed).status, 'completed');
      const retention = await server.request({ method: 'POST', url: '/api/cron/retention', secret: TEST_CRON_SECRET, payload: {} });
      assert.equal(retention.statusCode, 200, retention.body);
    });

    it('cannot complete a run the server started (409), which keeps running', async () => {
      const triggered = await server.request({ method: 'POST', url: API_PATHS.trigger, payload: { cronName: 'hangs' } });
      assert.equal(triggered.statusCode, 202, triggered.body);
      const id = json(triggered).executionId;
      const complete = await server.request({ method: 'POST', url: API_PATHS.externalComplete, secret: TEST_CRON_SECRET, payload: { executionId: id, status: 'completed' } });
      assert.equal(complete.statusCode, 409, complete.body);
      assert.match(json(complete).error, /started by the server/);
      assert.equal(json((await server.request({ url: API_PATHS.execution(id) }))).status, 'running', 'the run is untouched');
      assert.equal((await server.request({ method: 'POST', url: API_PATHS.cancel(id) })).statusCode, 200);
    });

    it('is refused everything else with 403 and the reason', async () => {
      const triggered = await server.request({ method: 'POST', url: API_PATHS.trigger, payload: { cronName: 'hangs' } });
      const id = json(triggered).executionId;
      const refused: Array<[string, string]> = [
        ['POST', API_PATHS.pause('quick')],
        ['POST', API_PATHS.resume('quick')],
        ['POST', API_PATHS.cancel(id)],
        ['POST', API_PATHS.markFailed(id)],
        ['GET', API_PATHS.crons],
        ['GET', API_PATHS.executions],
        ['GET', API_PATHS.audit],
        ['GET', API_PATHS.tokens],
        ['POST', API_PATHS.tokens],
        ['GET', API_PATHS.session],
        ['GET', API_PATHS.events],
      ];
      for (const [method, url] of refused) {
        const reply = await server.request({ method: method as 'GET' | 'POST', url, secret: TEST_CRON_SECRET, ...(method === 'POST' ? { payload: { name: 'x', role: 'admin' } } : {}) });
        assert.equal(reply.statusCode, 403, `${method} ${url}: ${reply.body}`);
        assert.equal(json(reply).success, false);
        assert.match(json(reply).error, /X-Cron-Secret/, `${method} ${url} says why: ${reply.body}`);
      }
      assert.equal(json(await server.request({ url: API_PATHS.execution(id) })).status, 'running', 'the secret could not end the run');
      assert.equal((await server.request({ method: 'POST', url: API_PATHS.cancel(id) })).statusCode, 200);
    });
  });

  describe('session and tokens', () => {
    it('GET /api/admin/session names the caller and its role, for every role', async () => {
      const env = await server.request({ url: API_PATHS.session });
      assert.equal(env.statusCode, 200, env.body);
      assert.deepEqual(json(env), { name: null, role: 'super-admin' });
      for (const role of ['viewer', 'admin', 'super-admin']) {
        const token = await createToken(`session-${role}`, role);
        const reply = await server.request({ url: API_PATHS.session, token });
        assert.equal(reply.statusCode, 200, reply.body);
        assert.deepEqual(json(reply), { name: `session-${role}`, role });
      }
      assert.equal((await server.request({ url: API_PATHS.session, token: null })).statusCode, 401);
    });

    it('a super-admin creates a token (shown once), lists tokens (never the token), and revokes it: refused at once', async () => {
      const created = await server.request({ method: 'POST', url: API_PATHS.tokens, payload: { name: 'ci-bot', role: 'admin' } });
      assert.equal(created.statusCode, 201, created.body);
      const { token, name, role } = json(created);
      assert.deepEqual({ name, role }, { name: 'ci-bot', role: 'admin' });
      assert.match(token, /^\S{20,}$/);
      assert.equal((await server.request({ url: API_PATHS.crons, token })).statusCode, 200, 'the new token works at once');

      const list = await server.request({ url: API_PATHS.tokens });
      assert.equal(list.statusCode, 200, list.body);
      const entry = json(list).tokens.find((candidate: { name: string }) => candidate.name === 'ci-bot');
      assert.equal(entry.role, 'admin');
      assert.equal(entry.revokedAt, null);
      assert.ok(!list.body.includes(token), 'the list never shows a token');

      const twice = await server.request({ method: 'POST', url: API_PATHS.tokens, payload: { name: 'ci-bot', role: 'viewer' } });
      assert.equal(twice.statusCode, 409, twice.body);

      const revoked = await server.request({ method: 'DELETE', url: API_PATHS.token('ci-bot') });
      assert.equal(revoked.statusCode, 200, revoked.body);
      assert.equal(json(revoked).name, 'ci-bot');
      assert.ok(json(revoked).revokedAt);
      const after = await server.request({ url: API_PATHS.crons, token });
      assert.equal(after.statusCode, 401, 'a revoked token is refused from its next request on');
      assert.equal((await server.request({ method: 'DELETE', url: API_PATHS.token('ci-bot') })).statusCode, 404, 'revoking twice');
      assert.equal((await server.request({ method: 'DELETE', url: API_PATHS.token('nobody') })).statusCode, 404);

      const audit = json<{ entries: AuditEntry[] }>(await server.request({ url: `${API_PATHS.audit}?limit=1000` })).entries;
      assert.ok(audit.some((row) => row.action === 'token.create' && row.target === 'ci-bot' && row.actor === 'env:CRON_OPS_ADMIN_TOKEN'), 'create audited');
      assert.ok(audit.some((row) => row.action === 'token.revoke' && row.target === 'ci-bot'), 'revoke audited');
      assert.ok(!JSON.stringify(audit).includes(token), 'no token in the audit trail');
    });

    it('refuses token management to admins and viewers (403), and bad names and roles (400)', async () => {
      const admin = await createToken('just-admin', 'admin');
      const viewer = await createToken('just-viewer', 'viewer');
      for (const token of [admin, viewer]) {
        for (const [method, url] of [['GET', API_PATHS.tokens], ['POST', API_PATHS.tokens], ['DELETE', API_PATHS.token('just-admin')]] as const) {
          const reply = await server.request({ method, url, token, ...(method === 'POST' ? { payload: { name: 'sneaky', role: 'super-admin' } } : {}) });
          assert.equal(reply.statusCode, 403, `${method} ${url}: ${reply.body}`);
          assert.match(json(reply).error, /super-admin/);
        }
      }
      for (const payload of [{ name: 'x y', role: 'admin' }, { name: 'ok', role: 'root' }, { name: '', role: 'admin' }, { role: 'admin' }, { name: 'a'.repeat(100), role: 'admin' }]) {
        const reply = await server.request({ method: 'POST', url: API_PATHS.tokens, payload });
        assert.equal(reply.statusCode, 400, `${JSON.stringify(payload)}: ${reply.body}`);
      }
    });
  });

  describe('refusals of unauthenticated callers', () => {
    it('are one audit row per client address and minute, with the count', async () => {
      const before = json<{ entries: AuditEntry[] }>(await server.request({ url: `${API_PATHS.audit}?limit=1000` })).entries;
      const seen = new Set(before.map((row) => row.id));
      const total = 60;
      for (let index = 0; index < total; index++) {
        await server.request({ url: API_PATHS.crons, token: index % 2 ? 'wrong-token' : null, remoteAddress: '10.9.8.7' });
      }
      await server.request({ url: API_PATHS.crons, token: null, remoteAddress: '10.9.8.6' });
      const entries = json<{ entries: AuditEntry[] }>(await server.request({ url: `${API_PATHS.audit}?limit=1000` })).entries.filter((row) => !seen.has(row.id));
      const rows = entries.filter((row) => row.action === 'auth.refused' && row.clientAddress === '10.9.8.7');
      assert.ok(rows.length >= 1 && rows.length <= 2, `one row per minute (two if a minute ended meanwhile): ${JSON.stringify(rows)}`);
      assert.equal(rows.reduce((sum, row) => sum + Number(row.details.count), 0), total, 'the counts add up');
      assert.equal(rows[0].details.status, 401);
      assert.equal(typeof rows[0].details.reason, 'string');
      const other = entries.filter((row) => row.clientAddress === '10.9.8.6');
      assert.equal(other.length, 1, 'another address has its own row');
      assert.equal(other[0].details.count, 1);
    });
  });

  describe('audit retention', () => {
    it('removes entries older than auditRetentionDays (default 90) with the retention, keeps the rest', async () => {
      const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
      await server.db.q
        .insertInto('audit_log')
        .values([
          { at: daysAgo(91), actor: 'old-actor', role: null, action: 'trigger', target: 'quick', details: '{}', client_address: null },
          { at: daysAgo(89), actor: 'kept-actor', role: null, action: 'trigger', target: 'quick', details: '{}', client_address: null },
        ])
        .execute();
      const reply = await server.request({ method: 'POST', url: '/api/cron/retention', secret: TEST_CRON_SECRET, payload: {} });
      assert.equal(reply.statusCode, 200, reply.body);
      assert.equal(json(reply).auditDeleted, 1);
      const entries = json<{ entries: AuditEntry[] }>(await server.request({ url: `${API_PATHS.audit}?limit=1000` })).entries;
      assert.ok(!entries.some((entry) => entry.actor === 'old-actor'), 'the 91-day-old entry is gone');
      assert.ok(entries.some((entry) => entry.actor === 'kept-actor'), 'the 89-day-old entry stays');
      assert.ok(entries.some((entry) => entry.action === 'retention' && entry.details.auditDeleted === 1), 'the retention is audited');
    });
  });

  describe('manualTriggerAvailableAt', () => {
    it('says when the rate limits will next accept a manual trigger, null when now', async () => {
      const limited = await startInProcess({
        crons: [nodeCron('one', 'console.log(1)'), nodeCron('two', 'console.log(2)'), nodeCron('three', 'console.log(3)')],
        rateLimits: { perCronSeconds: 30, globalPerMinute: 2 },
      });
      try {
        const crons = async () => json<{ crons: Cron[] }>(await limited.request({ url: API_PATHS.crons })).crons;
        assert.ok((await crons()).every((cron) => cron.manualTriggerAvailableAt === null), 'all available before any trigger');
        const first = await limited.request({ method: 'POST', url: API_PATHS.trigger, payload: { cronName: 'one' } });
        assert.equal(first.statusCode, 202, first.body);
        let list = await crons();
        const oneAt = Date.parse(list.find((cron) => cron.name === 'one')!.manualTriggerAvailableAt!);
        assert.ok(oneAt > Date.now() + 20_000 && oneAt <= Date.now() + 31_000, `one: within the 30 s window (${new Date(oneAt).toISOString()})`);
        assert.equal(list.find((cron) => cron.name === 'two')!.manualTriggerAvailableAt, null);
        // "Already running" is checked first: wait for the run to end to see the rate limit.
        await waitFor(async () => json(await limited.request({ url: API_PATHS.execution(json(first).executionId) })).status !== 'running' || undefined, 'the first run to end', 15_000);
        const again = await limited.request({ method: 'POST', url: API_PATHS.trigger, payload: { cronName: 'one' } });
        assert.equal(again.statusCode, 429, 'the store agrees');
        assert.equal((await limited.request({ method: 'POST', url: API_PATHS.trigger, payload: { cronName: 'two' } })).statusCode, 202);
        list = await crons();
        const threeAt = list.find((cron) => cron.name === 'three')!.manualTriggerAvailableAt;
        assert.ok(threeAt, 'the global limit (2 a minute) is reached: three waits too');
        assert.ok(Date.parse(threeAt) > Date.now() + 30_000, `three: about a minute after the first trigger (${threeAt})`);
        assert.equal((await limited.request({ method: 'POST', url: API_PATHS.trigger, payload: { cronName: 'three' } })).statusCode, 429, 'the store agrees');
      } finally {
        await limited.close();
      }
    });
  });

});
