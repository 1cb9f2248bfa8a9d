// Roles with tokens made by `token create` on a --data folder: viewer reads, admin acts, super-admin alone
// reads the audit trail; `token revoke` makes a token useless; a first start prints a super-admin token.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_PATHS } from '../../src/shared/api';
import { api, triggerOk } from '../support/http';
import { nodeCron, runServerCommand, startServer, TEST_ADMIN_TOKEN, writeConfig, type ServerProcess } from '../support/serverProcess';
import { openSse } from '../support/sse';

async function createToken(dataDir: string, name: string, role: string): Promise<string> {
  const result = await runServerCommand(['token', 'create', '--name', name, '--role', role, '--data', dataDir], {}, 60_000);
  assert.equal(result.code, 0, `token create ${name}: ${result.stdout}${result.stderr}`);
  const token = result.stdout.trim().split('\n').pop()!.trim();
  assert.match(token, /^\S{20,}$/, `the token alone on the last line: ${result.stdout}`);
  return token;
}

describe('auth: roles, tokens and the audit trail', function () {
  this.timeout(120_000);
  let server: ServerProcess | undefined;
  let dataDir: string;
  let configPath: string;
  const tokens: Record<string, string> = {};

  const start = async () => {
    server = await startServer({ config: configPath, args: ['--data', dataDir], adminToken: false });
    return server;
  };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cron-ops-auth-'));
    configPath = writeConfig({
      crons: [nodeCron('quick', 'console.log("ok")'), nodeCron('hangs', 'setInterval(() => {}, 1000)')],
      rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
      killGraceMs: 500,
    });
    tokens.viewer = await createToken(dataDir, 'ops-viewer', 'viewer');
    tokens.admin = await createToken(dataDir, 'ops-admin', 'admin');
    tokens.superAdmin = await createToken(dataDir, 'ops-super', 'super-admin');
    await start();
  });

  after(async () => {
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('gives three different tokens and refuses a second token with the same name or a bad role', async () => {
    assert.equal(new Set(Object.values(tokens)).size, 3);
    await server!.stop();
    server = undefined;
    const twice = await runServerCommand(['token', 'create', '--name', 'ops-admin', '--role', 'admin', '--data', dataDir], {}, 60_000);
    assert.notEqual(twice.code, 0);
    assert.match(twice.stderr, /ops-admin/);
    const badRole = await runServerCommand(['token', 'create', '--name', 'someone', '--role', 'root', '--data', dataDir], {}, 60_000);
    assert.notEqual(badRole.code, 0);
    assert.match(badRole.stderr, /role/);
    const list = await runServerCommand(['token', 'list', '--data', dataDir], {}, 60_000);
    assert.equal(list.code, 0, list.stderr);
    for (const [name, role] of [['ops-viewer', 'viewer'], ['ops-admin', 'admin'], ['ops-super', 'super-admin']]) {
      assert.match(list.stdout, new RegExp(`${name}\\s+${role}\\b`), list.stdout);
    }
    for (const token of Object.values(tokens)) assert.ok(!list.stdout.includes(token), 'the list never shows a token');
    await start();
  });

  it('viewer: reads everything but the audit trail, acts on nothing (403)', async () => {
    const viewer = tokens.viewer;
    for (const path of [API_PATHS.crons, API_PATHS.executions, API_PATHS.stats, API_PATHS.timeline]) {
      const reply = await api(server!, path, { token: viewer });
      assert.equal(reply.status, 200, `${path}: ${reply.text}`);
    }
    const events = await openSse(server!.url, { token: viewer });
    assert.equal(events.status, 200);
    events.drop();
    const id = await triggerOk(server!, 'hangs').catch(() => undefined);
    assert.equal(id, undefined, 'the test admin token is not accepted without CRON_OPS_ADMIN_TOKEN');
    const refusals: Array<[string, string, unknown]> = [
      [API_PATHS.trigger, 'POST', { cronName: 'quick' }],
      [API_PATHS.pause('quick'), 'POST', undefined],
      [API_PATHS.resume('quick'), 'POST', undefined],
      [API_PATHS.cancel('00000000-0000-4000-8000-000000000000'), 'POST', undefined],
      [API_PATHS.markFailed('00000000-0000-4000-8000-000000000000'), 'POST', undefined],
      [API_PATHS.audit, 'GET', undefined],
    ];
    for (const [path, method, body] of refusals) {
      const reply = await api(server!, path, { token: viewer, method, body });
      assert.equal(reply.status, 403, `${method} ${path}: ${reply.text}`);
      assert.equal(reply.body.success, false);
      assert.match(reply.body.error, /role|admin/i, 'says which role it takes');
    }
    assert.deepEqual((await api(server!, API_PATHS.executions, { token: viewer })).body.executions, [], 'nothing was triggered');
  });

  it('admin: triggers, cancels, pauses; the audit trail is refused (403)', async () => {
    const admin = tokens.admin;
    const reply = await api(server!, API_PATHS.trigger, { token: admin, body: { cronName: 'hangs' } });
    assert.equal(reply.status, 202, reply.text);
    const cancel = await api(server!, API_PATHS.cancel(reply.body.executionId), { token: admin, method: 'POST' });
    assert.equal(cancel.status, 200, cancel.text);
    assert.equal((await api(server!, API_PATHS.pause('quick'), { token: admin, method: 'POST' })).status, 200);
    assert.equal((await api(server!, API_PATHS.resume('quick'), { token: admin, method: 'POST' })).status, 200);
    const audit = await api(server!, API_PATHS.audit, { token: admin });
    assert.equal(audit.status, 403, audit.text);
    assert.equal(audit.body.success, false);
  });

  it('super-admin: reads the audit trail, with actors, roles, refusals and the token changes', async () => {
    const reply = await api(server!, `${API_PATHS.audit}?limit=1000`, { token: tokens.superAdmin });
    assert.equal(reply.status, 200, reply.text);
    const entries: any[] = reply.body.entries;
    const trigger = entries.find((entry) => /trigger/.test(entry.action) && entry.target === 'hangs' && !/refus/.test(entry.action));
    assert.ok(trigger, 'the admin trigger is audited');
    assert.match(trigger.actor, /ops-admin/);
    assert.equal(trigger.role, 'admin');
    assert.match(trigger.clientAddress, /127\.0\.0\.1|::1/);
    const refused = entries.filter((entry) => /ops-viewer/.test(entry.actor) && entry.details?.status === 403);
    assert.ok(refused.length >= 6, `each viewer refusal is audited (${refused.length})`);
    assert.ok(refused.every((entry) => /127\.0\.0\.1|::1/.test(entry.clientAddress)));
    assert.ok(entries.some((entry) => entry.details?.status === 401), 'the refused admin test token is audited as 401');
    for (const name of ['ops-viewer', 'ops-admin', 'ops-super']) {
      assert.ok(entries.some((entry) => /token/.test(entry.action) && /create/.test(entry.action) && entry.target === name), `token create ${name} audited`);
    }
    assert.ok(!JSON.stringify(entries).includes(tokens.admin), 'no token in the audit trail');
  });

  it('token revoke: the revoked token gets 401, the others still work', async () => {
    await server!.stop();
    server = undefined;
    const revoke = await runServerCommand(['token', 'revoke', 'ops-viewer', '--data', dataDir], {}, 60_000);
    assert.equal(revoke.code, 0, revoke.stderr);
    const list = await runServerCommand(['token', 'list', '--data', dataDir], {}, 60_000);
    assert.match(list.stdout, /ops-viewer[^\n]*REVOKED/i);
    const unknown = await runServerCommand(['token', 'revoke', 'nobody', '--data', dataDir], {}, 60_000);
    assert.notEqual(unknown.code, 0);
    await start();
    const reply = await api(server!, API_PATHS.crons, { token: tokens.viewer });
    assert.equal(reply.status, 401, reply.text);
    assert.equal(reply.body.success, false);
    assert.equal((await api(server!, API_PATHS.crons, { token: tokens.admin })).status, 200);
    const audit = await api(server!, `${API_PATHS.audit}?limit=1000`, { token: tokens.superAdmin });
    assert.ok(audit.body.entries.some((entry: any) => /revoke/.test(entry.action) && entry.target === 'ops-viewer'), 'the revoke is audited');
  });

  it('a first start without any token prints a super-admin token once, and it works', async () => {
    const freshDir = mkdtempSync(join(tmpdir(), 'cron-ops-first-'));
    const first = await startServer({ config: configPath, args: ['--data', freshDir], adminToken: false });
    let token: string;
    try {
      await first.waitForOutput(/token/i);
      const output = first.output();
      const lines = output.split('\n').map((line) => line.trim());
      const intro = lines.findIndex((line) => /super-admin token/i.test(line));
      assert.ok(intro >= 0, `announces a super-admin token:\n${output}`);
      token = lines.slice(intro + 1).find((line) => /^\S{20,}$/.test(line))!;
      assert.ok(token, `prints the token:\n${output}`);
      assert.match(output, /VS Code|Sign In/i, 'says how to sign in from VS Code');
      assert.equal((await api(first, API_PATHS.audit, { token })).status, 200, 'it is a super-admin token');
      assert.equal((await api(first, API_PATHS.crons, { token: TEST_ADMIN_TOKEN })).status, 401);
    } finally {
      await first.stop();
    }
    const again = await startServer({ config: configPath, args: ['--data', freshDir], adminToken: false });
    try {
      assert.ok(!again.output().includes(token), 'printed only once');
      assert.equal((await api(again, API_PATHS.crons, { token })).status, 200, 'kept across restarts');
      const id = (await api(again, API_PATHS.trigger, { token, body: { cronName: 'quick' } })).body.executionId;
      const done = await api(again, API_PATHS.execution(id), { token });
      assert.equal(done.status, 200);
    } finally {
      await again.stop();
    }
  });

  it('with LOG_FORMAT=json a first start gives the token in a JSON line, and every line stays JSON', async () => {
    const freshDir = mkdtempSync(join(tmpdir(), 'cron-ops-first-json-'));
    const first = await startServer({ config: configPath, args: ['--data', freshDir], adminToken: false, env: { LOG_FORMAT: 'json' } });
    try {
      await first.waitForOutput(/initialSuperAdminToken/);
      const records = first
        .output()
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => {
          try {
            return JSON.parse(line) as Record<string, unknown>;
          } catch {
            assert.fail(`a line that is not JSON: ${line}`);
          }
        });
      const banner = records.find((record) => typeof record.initialSuperAdminToken === 'string');
      assert.ok(banner, 'one record holds the token');
      assert.match(String(banner.msg), /shown only this once.*Sign In/);
      const token = banner.initialSuperAdminToken as string;
      assert.equal((await api(first, API_PATHS.audit, { token })).status, 200, 'it is a super-admin token');
    } finally {
      await first.stop();
      rmSync(freshDir, { recursive: true, force: true });
    }
  });
});
