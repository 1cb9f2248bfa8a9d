// One owner per store, with real processes: a second server on the same data folder (or, on PostgreSQL,
// with the same runner id) fails at once naming the first one's PID and leaves its runs alone; the data
// folder is private; `token create | list | revoke` work while the server runs and take effect at once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_PATHS } from '../../src/shared/api';
import { LOCK_FILE } from '../../src/server/dataFolder';
import { api, getExecution, triggerOk } from '../support/http';
import { nodeCron, runServerCommand, startServer, writeConfig, type ServerProcess } from '../support/serverProcess';
import { openSse } from '../support/sse';
import { waitFor } from '../support/waitFor';

const HANG = 'console.log("working " + process.pid); setInterval(() => {}, 1000)';

function modesUnder(dir: string): Array<{ path: string; mode: number; folder: boolean }> {
  const found = [{ path: dir, mode: statSync(dir).mode & 0o777, folder: true }];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...modesUnder(path));
    else if (entry.isFile()) found.push({ path, mode: statSync(path).mode & 0o777, folder: false });
  }
  return found;
}

describe('one owner per store', function () {
  this.timeout(180_000);
  let configPath: string;
  const dirs: string[] = [];
  const servers: ServerProcess[] = [];

  const freshDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'cron-ops-owner-'));
    dirs.push(dir);
    return dir;
  };
  const start = async (dataDir: string, env: Record<string, string | undefined> = {}) => {
    const server = await startServer({ config: configPath, args: ['--data', dataDir], env });
    servers.push(server);
    return server;
  };

  before(() => {
    configPath = writeConfig({ crons: [nodeCron('hangs', HANG), nodeCron('quick', 'console.log("ok")')], rateLimits: { perCronSeconds: 0, globalPerMinute: 0 }, killGraceMs: 300 });
  });

  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop();
  });

  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('a second server on the same store fails at once with "in use by PID N", and the first one\'s run goes on', async () => {
    const dataDir = freshDir();
    const first = await start(dataDir);
    const id = await triggerOk(first, 'hangs');
    await waitFor(async () => (await api(first, `${API_PATHS.logs(id)}?after=0`)).body.lines.length > 0 || undefined, 'the run to print');
    const second = await runServerCommand(['--config', configPath, '--host', '127.0.0.1', '--port', '0', '--data', dataDir], {}, 30_000);
    assert.notEqual(second.code, 0, 'a non-zero exit');
    assert.match(second.stderr, new RegExp(`in use by PID ${first.child.pid}\\b`), second.stderr + second.stdout);
    const execution = await getExecution(first, id);
    assert.equal(execution.status, 'running', 'the first server\'s run was not marked failed');
    const pid = Number(/working (\d+)/.exec((await api(first, `${API_PATHS.logs(id)}?after=0`)).body.lines[0].line)![1]);
    process.kill(pid, 0); // its process is alive (throws otherwise)
    assert.equal((await api(first, API_PATHS.cancel(id), { method: 'POST' })).status, 200);
  });

  it('starts again at once after a crash (the lock of a dead process is taken over)', async () => {
    const dataDir = freshDir();
    const first = await start(dataDir);
    await first.kill9();
    const again = await start(dataDir);
    assert.equal((await api(again, API_PATHS.health, { token: null })).status, 200);
  });

  it('starts again at once after kill -9 even before the dead server is reaped (a zombie holds no lock)', async () => {
    const dataDir = freshDir();
    // `sleep 0` ends at once and its parent execs a sleep that never waits for it: a zombie, as a server
    // killed with -9 is until its supervisor (a shell loop, say) reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 120'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const [chunk] = (await once(parent.stdout!, 'data')) as [Buffer];
      const zombie = Number(chunk.toString().trim());
      await waitFor(() => /\) Z /.test(readFileSync(`/proc/${zombie}/stat`, 'utf8')) || undefined, `process ${zombie} to be a zombie`, 30_000);
      writeFileSync(join(dataDir, LOCK_FILE), `${zombie}\n`, { mode: 0o600 });
      const again = await start(dataDir, { DATABASE_URL: '' });
      assert.equal((await api(again, API_PATHS.health, { token: null })).status, 200);
    } finally {
      parent.kill('SIGKILL');
    }
  });

  describe('the embedded data folder', () => {
    // The embedded store, in both passes of the suite: DATABASE_URL emptied.
    const embedded = { DATABASE_URL: '' };

    it('is 0700 with files 0600', async () => {
      const dataDir = join(freshDir(), 'data');
      const server = await start(dataDir, embedded);
      await triggerOk(server, 'quick');
      const loose = modesUnder(dataDir).filter((entry) => (entry.mode & 0o077) !== 0);
      assert.deepEqual(loose.map((entry) => `${entry.path} ${entry.mode.toString(8)}`), [], 'nothing readable or writable by others');
      assert.equal(statSync(dataDir).mode & 0o777, 0o700);
      assert.ok(modesUnder(dataDir).some((entry) => !entry.folder), 'the store has files');
    });

    it('is refused when other users can write it', async () => {
      const dataDir = freshDir();
      chmodSync(dataDir, 0o777);
      const refused = await runServerCommand(['--config', configPath, '--host', '127.0.0.1', '--port', '0', '--data', dataDir], embedded, 30_000);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /can be written by other users/);
      assert.match(refused.stderr, /chmod 700/, 'says what to do');
    });
  });

  it('token create | list | revoke work while the server runs, at once, and are kept', async () => {
    const dataDir = freshDir();
    const server = await start(dataDir);
    const created = await runServerCommand(['token', 'create', '--name', 'live-viewer', '--role', 'viewer', '--data', dataDir], {}, 30_000);
    assert.equal(created.code, 0, created.stderr + created.stdout);
    const token = created.stdout.trim().split('\n').pop()!.trim();
    await waitFor(async () => (await api(server, API_PATHS.crons, { token })).status === 200 || undefined, 'the new token to work', 1_000, 50);
    const list = await runServerCommand(['token', 'list', '--data', dataDir], {}, 30_000);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /live-viewer\s+viewer/);
    assert.ok(!list.stdout.includes(token));

    const stream = await openSse(server.url, { token });
    assert.equal(stream.status, 200);
    const revoked = await runServerCommand(['token', 'revoke', 'live-viewer', '--data', dataDir], {}, 30_000);
    assert.equal(revoked.code, 0, revoked.stderr);
    const revokedAt = Date.now();
    await waitFor(async () => (await api(server, API_PATHS.crons, { token })).status === 401 || undefined, 'the revoked token to be refused', 1_000, 50);
    await Promise.race([stream.closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the revoked token\'s stream is still open after 5 s')), 5_000 - (Date.now() - revokedAt)).unref())]);
    const twice = await runServerCommand(['token', 'revoke', 'live-viewer', '--data', dataDir], {}, 30_000);
    assert.notEqual(twice.code, 0);
    assert.match(twice.stderr, /No active token named "live-viewer"/);

    const audit = (await api(server, `${API_PATHS.audit}?limit=100`)).body.entries as Array<{ action: string; target: string; actor: string }>;
    assert.ok(audit.some((entry) => entry.action === 'token.create' && entry.target === 'live-viewer' && entry.actor.startsWith('cli:')), 'create audited with the CLI user');
    assert.ok(audit.some((entry) => entry.action === 'token.revoke' && entry.target === 'live-viewer'), 'revoke audited');

    // Kept when the server stops and starts again.
    await server.stop();
    servers.splice(servers.indexOf(server), 1);
    const again = await start(dataDir);
    assert.equal((await api(again, API_PATHS.crons, { token })).status, 401, 'still revoked after a restart');
    const after = await runServerCommand(['token', 'list', '--data', dataDir], {}, 30_000);
    assert.match(after.stdout, /live-viewer[^\n]*REVOKED/);
  });
});
