// A run is its process tree: it ends when its main process exits, whatever children hold its output open;
// leftovers are ended (or kept when asked); timeout, cancel, mark-failed and shutdown end every process of
// the run, a setsid grandchild ignoring SIGTERM included, and the run's log says what was signalled.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_PATHS, type Execution } from '../../src/shared/api';
import { allLogs, api, getExecution, killStrays, processAlive, triggerOk, waitForStatus } from '../support/http';
import { nodeCron, startServer, writeConfig, type ServerProcess, type TestConfig, type TestCronDefinition } from '../support/serverProcess';
import { waitFor } from '../support/waitFor';

const GRACE_MS = 700;

/**
 * Starts a grandchild in its own session (setsid) that ignores SIGTERM; once it says its handler is set,
 * prints both pids, then runs `then`.
 */
const SETSID_GRANDCHILD = (then: string) =>
  [
    'const { spawn } = require("node:child_process");',
    'const stubborn = \'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)\';',
    'const child = spawn(process.execPath, ["-e", stubborn], { detached: true, stdio: ["ignore", "pipe", "ignore"] });',
    'child.stdout.once("data", () => {',
    '  child.stdout.destroy();',
    '  child.unref();',
    '  console.log("pid " + process.pid + " setsid " + child.pid);',
    `  ${then}`,
    '});',
  ].join('\n');
const HANG = 'setInterval(() => {}, 1000)';
/** The same grandchild, started with an emptied environment (setsid env -i …): no CRON_EXECUTION_ID to find it by. */
const SETSID_NO_ENV_GRANDCHILD = (then: string) => SETSID_GRANDCHILD(then).replace('detached: true,', 'detached: true, env: {},');
const BACKGROUND_SLEEP = ['sh', '-c', 'echo start; sleep 45 & echo "sleeper $!"; exit 0'];

type Cron = TestCronDefinition & { leftovers?: 'end' | 'keep' };

function shCron(name: string, command: string[], extra: Partial<Cron> = {}): Cron {
  return { name, description: name, schedule: '0 0 1 1 *', command, timeoutMs: 60_000, ...extra };
}

async function pidsOf(server: ServerProcess, id: string, pattern: RegExp): Promise<number[]> {
  const line = await waitFor(async () => (await allLogs(server, id)).lines.find((candidate) => pattern.test(candidate.line))?.line, `a line matching ${pattern}`);
  return pattern.exec(line)!.slice(1).map(Number);
}

async function finalLogs(server: ServerProcess, id: string, needle: RegExp): Promise<string[]> {
  return waitFor(async () => {
    const texts = (await allLogs(server, id)).lines.map((line) => line.line);
    return texts.some((text) => needle.test(text)) ? texts : undefined;
  }, `a log line matching ${needle}`);
}

describe('process trees', function () {
  let server: ServerProcess;
  const strays: number[] = [];

  before(async () => {
    const crons: Cron[] = [
      shCron('background-sleep', BACKGROUND_SLEEP),
      shCron('background-keep', BACKGROUND_SLEEP, { leftovers: 'keep' }),
      nodeCron('setsid-then-hang', SETSID_GRANDCHILD(HANG)),
      nodeCron('setsid-times-out', SETSID_GRANDCHILD(HANG), { timeoutMs: 1500 }),
      nodeCron('setsid-then-exit', SETSID_GRANDCHILD('process.exitCode = 0')),
      nodeCron('setsid-no-env', SETSID_NO_ENV_GRANDCHILD(HANG)),
    ];
    const config: TestConfig = { crons, rateLimits: { perCronSeconds: 0, globalPerMinute: 0 }, killGraceMs: GRACE_MS };
    server = await startServer({ config });
  });

  after(async () => {
    await server?.stop();
    killStrays(strays);
  });

  it('`echo start; sleep 45 & exit 0` ends when the shell exits; the sleep is ended and the log says so', async () => {
    const id = await triggerOk(server, 'background-sleep');
    const done = await waitForStatus(server, id, 'completed', 15_000);
    assert.ok((done.durationMs ?? Infinity) < 2000, `recorded within 2 s of the exit: ${done.durationMs} ms`);
    const [sleeper] = await pidsOf(server, id, /^sleeper (\d+)$/);
    strays.push(sleeper);
    await waitFor(() => !processAlive(sleeper), `sleep ${sleeper} to be ended`, 10_000);
    const texts = await finalLogs(server, id, /SIGTERM sent/);
    assert.equal(texts[0], 'start');
    const notice = texts.find((text) => /SIGTERM sent/.test(text))!;
    assert.match(notice, /^\[cron-ops\] the main process exited and left/);
    assert.match(notice, new RegExp(`${sleeper} sleep`));
  });

  it('"leftovers": "keep" leaves them running, and says so', async () => {
    const id = await triggerOk(server, 'background-keep');
    await waitForStatus(server, id, 'completed', 15_000);
    const [sleeper] = await pidsOf(server, id, /^sleeper (\d+)$/);
    strays.push(sleeper);
    const texts = await finalLogs(server, id, /keep running/);
    assert.ok(texts.some((text) => text.includes(`${sleeper} sleep`)));
    assert.ok(processAlive(sleeper), 'the sleep is still running');
  });

  it('cancel ends a setsid grandchild that cleared its environment: found by its parent, still killed once re-parented', async () => {
    const id = await triggerOk(server, 'setsid-no-env');
    const [main, grandchild] = await pidsOf(server, id, /^pid (\d+) setsid (\d+)$/);
    strays.push(grandchild);
    const reply = await api<Execution>(server, API_PATHS.cancel(id), { method: 'POST' });
    assert.equal(reply.status, 200, reply.text);
    await waitFor(() => !processAlive(main), `main process ${main} to end`, 10_000);
    await waitFor(() => !processAlive(grandchild), `grandchild ${grandchild} without CRON_EXECUTION_ID to be killed`, 15_000);
    const texts = await finalLogs(server, id, /SIGKILL sent/);
    assert.ok(texts.some((text) => /SIGKILL sent after 700 ms/.test(text) && text.includes(`${grandchild}`)), texts.join('\n'));
  });

  it('cancel ends a setsid grandchild that ignores SIGTERM: SIGKILL after the grace, though the main process is gone', async () => {
    const id = await triggerOk(server, 'setsid-then-hang');
    const [main, grandchild] = await pidsOf(server, id, /^pid (\d+) setsid (\d+)$/);
    strays.push(grandchild);
    const reply = await api<Execution>(server, API_PATHS.cancel(id), { method: 'POST' });
    assert.equal(reply.status, 200, reply.text);
    await waitFor(() => !processAlive(main), `main process ${main} to end`, 10_000);
    await waitFor(() => !processAlive(grandchild), `setsid grandchild ${grandchild} to be killed`, 15_000);
    const texts = await finalLogs(server, id, /SIGKILL sent/);
    assert.ok(texts.some((text) => /SIGTERM sent/.test(text) && text.includes(`${grandchild} node (left the process group)`)), texts.join('\n'));
    assert.ok(texts.some((text) => /SIGKILL sent after 700 ms/.test(text) && text.includes(`${grandchild}`)), texts.join('\n'));
    assert.equal((await getExecution(server, id)).status, 'cancelled');
  });

  it('a timeout ends the whole tree; the error message says what was signalled', async () => {
    const id = await triggerOk(server, 'setsid-times-out');
    const [, grandchild] = await pidsOf(server, id, /^pid (\d+) setsid (\d+)$/);
    strays.push(grandchild);
    const failed = await waitForStatus(server, id, 'failed', 20_000);
    assert.match(failed.errorMessage ?? '', /^Timeout: still running after 1500 ms/);
    assert.match(failed.errorMessage ?? '', new RegExp(`SIGTERM sent to .*${grandchild} node \\(left the process group\\)`));
    await waitFor(() => !processAlive(grandchild), `setsid grandchild ${grandchild} to be killed`, 15_000);
    await finalLogs(server, id, /SIGKILL sent/);
  });

  it('mark-failed ends the whole tree too', async () => {
    const id = await triggerOk(server, 'setsid-then-hang');
    const [main, grandchild] = await pidsOf(server, id, /^pid (\d+) setsid (\d+)$/);
    strays.push(grandchild);
    assert.equal((await api(server, API_PATHS.markFailed(id), { method: 'POST' })).status, 200);
    await waitFor(() => !processAlive(main) && !processAlive(grandchild), 'both processes to be gone', 15_000);
  });

  it('a setsid leftover of a run whose main process exited is found by its environment and killed', async () => {
    const id = await triggerOk(server, 'setsid-then-exit');
    await waitForStatus(server, id, 'completed', 15_000);
    const [, grandchild] = await pidsOf(server, id, /^pid (\d+) setsid (\d+)$/);
    strays.push(grandchild);
    await waitFor(() => !processAlive(grandchild), `setsid leftover ${grandchild} to be killed`, 15_000);
    await finalLogs(server, id, /SIGKILL sent/);
  });
});

describe('shutdown with running process trees', function () {
  it('SIGTERM to the server ends every process of every run and exits 0 within killGraceMs + 5 s', async function () {
    this.timeout(120_000);
    const grace = 1500;
    const dataDir = mkdtempSync(join(tmpdir(), 'cron-ops-shutdown-'));
    const config: TestConfig = {
      crons: [nodeCron('stubborn-tree', SETSID_GRANDCHILD('process.on("SIGTERM", () => {}); ' + HANG)), shCron('sleeper', ['sh', '-c', 'sleep 45 & echo "sleeper $!"; wait'])],
      rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
      killGraceMs: grace,
    };
    const configPath = writeConfig(config);
    let server = await startServer({ config: configPath, args: ['--data', dataDir] });
    const pids: number[] = [];
    try {
      const stubborn = await triggerOk(server, 'stubborn-tree');
      const sleeper = await triggerOk(server, 'sleeper');
      pids.push(...(await pidsOf(server, stubborn, /^pid (\d+) setsid (\d+)$/)), ...(await pidsOf(server, sleeper, /^sleeper (\d+)$/)));
      const started = Date.now();
      const code = await server.stop(60_000);
      const took = Date.now() - started;
      assert.equal(code, 0, server.output().slice(-2000));
      assert.ok(took < grace + 5000, `exited in ${took} ms`);
      for (const pid of pids) assert.ok(!processAlive(pid), `process ${pid} ended`);
      server = await startServer({ config: configPath, args: ['--data', dataDir] });
      const run = await getExecution(server, stubborn);
      assert.equal(run.status, 'failed');
      assert.match(run.errorMessage ?? '', /Interrupted: server stopped.*SIGTERM sent to/);
      const texts = (await allLogs(server, stubborn)).lines.map((line) => line.line);
      assert.ok(texts.some((text) => /SIGTERM sent/.test(text)), texts.join('\n'));
    } finally {
      await server.stop();
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
