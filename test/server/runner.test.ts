// The runner with real child processes: exit codes, stderr as the error, timeouts, cancel (the process
// really gone, its own children too), log capture and its cap, params as environment variables.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_PATHS, type Execution } from '../../src/shared/api';
import { allLogs, api, getExecution, processAlive, trigger, triggerOk, waitForExecution, waitForStatus } from '../support/http';
import { nodeCron, startServer, TEST_CRON_SECRET, type ServerProcess, type TestConfig } from '../support/serverProcess';
import { waitFor } from '../support/waitFor';

const MAX_LINES = 100;

/** Prints `pid <n>` first, then hangs until ended. */
const HANG = 'console.log("pid " + process.pid); setInterval(() => {}, 1000)';
/** Starts a grandchild in the same process group, prints both pids, hangs. */
const WITH_GRANDCHILD = [
  'const { spawn } = require("node:child_process");',
  'const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });',
  'console.log("pid " + process.pid + " grandchild " + child.pid);',
  'setInterval(() => {}, 1000);',
].join('\n');
/** Lines 150 ms apart on alternating streams, so their order is known. */
const INTERLEAVED = [
  'const steps = [["out", "out 1"], ["err", "err 1"], ["out", ""], ["out", "out 3 ✅ accents éàü"], ["err", "err 2"], ["partial", "no newline at the end"]];',
  'let index = 0;',
  'const next = () => { const [stream, text] = steps[index++];',
  '  if (stream === "out") process.stdout.write(text + "\\n"); else if (stream === "err") process.stderr.write(text + "\\n"); else process.stdout.write(text);',
  '  if (index < steps.length) setTimeout(next, 150); };',
  'next();',
].join('\n');

const ENV_DUMP = [
  'const env = {};',
  'for (const [key, value] of Object.entries(process.env)) if (key.startsWith("CRON_")) env[key] = value;',
  'const cmdline = require("node:fs").readFileSync("/proc/self/cmdline", "utf8").split("\\0");',
  'console.log(JSON.stringify({ argv: process.argv, cmdline, env }));',
].join('\n');

async function firstLine(server: ServerProcess, id: string): Promise<string> {
  return waitFor(async () => (await api(server, API_PATHS.logs(id))).body.lines[0]?.line as string | undefined, `the first log line of ${id}`);
}

describe('runner (real processes)', function () {
  let server: ServerProcess;
  let configDir: string;

  before(async () => {
    configDir = mkdtempSync(join(tmpdir(), 'cron-ops-runner-'));
    mkdirSync(join(configDir, 'scripts'));
    writeFileSync(
      join(configDir, 'scripts', 'where.mjs'),
      'console.log(JSON.stringify({ cwd: process.cwd(), execPath: process.execPath, script: process.argv[1] }));\n',
    );
    const config: TestConfig = {
      crons: [
        nodeCron('interleaved', INTERLEAVED),
        nodeCron('exit-three', 'for (let i = 1; i <= 7; i++) console.error("problem line " + i); console.error("fatal: disk full on /data"); process.exit(3)'),
        nodeCron('exit-silent', 'console.log("about to fail quietly"); process.exitCode = 1'),
        nodeCron('self-kill', 'console.log("bye"); process.kill(process.pid, "SIGKILL")'),
        nodeCron('times-out', HANG, { timeoutMs: 1500 }),
        nodeCron('ignores-sigterm', 'process.on("SIGTERM", () => console.log("ignoring SIGTERM")); ' + HANG, { timeoutMs: 1500 }),
        nodeCron('cancel-me', WITH_GRANDCHILD),
        nodeCron('cancel-stubborn', 'process.on("SIGTERM", () => console.log("ignoring SIGTERM")); ' + HANG),
        nodeCron('chatty', `for (let i = 1; i <= ${MAX_LINES * 3}; i++) console.log("line " + i); console.error("the end on stderr")`),
        nodeCron('env-dump', ENV_DUMP, {
          params: {
            batchSize: { type: 'integer', min: 1, max: 50, default: 2 },
            label: { type: 'string' },
            dryRun: { type: 'boolean', default: false },
          },
        }),
        { name: 'relative-script', description: 'relative path', schedule: '0 0 1 1 *', command: ['node', 'scripts/where.mjs'], estimatedDurationMs: 100, timeoutMs: 60_000 },
        { name: 'missing-program', description: 'no such program', schedule: '0 0 1 1 *', command: ['/nonexistent/cron-ops-program'], estimatedDurationMs: 100, timeoutMs: 60_000 },
      ],
      rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
      maxLogLinesPerExecution: MAX_LINES,
      killGraceMs: 700,
    };
    const configPath = join(configDir, 'crons.json');
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    server = await startServer({ config: configPath });
  });

  after(async () => {
    await server?.stop();
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  });

  it('exit code 0 -> completed, every line captured in order with its stream', async () => {
    const id = await triggerOk(server, 'interleaved');
    const done = await waitForStatus(server, id, 'completed');
    assert.equal(done.exitCode, 0);
    assert.equal(done.errorMessage, null);
    const { lines, done: finished } = await allLogs(server, id);
    assert.equal(finished, true);
    // stdout and stderr are two pipes: the job writes 150 ms apart, but a server stalled by a busy machine
    // may read both in one turn, so the order holds within each stream, not across them.
    const of = (stream: string) => lines.filter((line) => line.stream === stream).map((line) => line.line);
    assert.deepEqual(of('stdout'), ['out 1', '', 'out 3 ✅ accents éàü', 'no newline at the end']);
    assert.deepEqual(of('stderr'), ['err 1', 'err 2']);
    assert.deepEqual(
      lines.map((line) => line.seq),
      [1, 2, 3, 4, 5, 6],
    );
    const times = lines.map((line) => Date.parse(line.at));
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'times follow the sequence');
    assert.ok(times[5] - times[0] >= 500, 'each line is stamped when it arrived, not at the end');
  });

  it('a non-zero exit -> failed, with the exit code and the last stderr lines as the error', async () => {
    const id = await triggerOk(server, 'exit-three');
    const failed = await waitForStatus(server, id, 'failed');
    assert.equal(failed.exitCode, 3);
    assert.ok(failed.errorMessage?.includes('fatal: disk full on /data'), `error message: ${failed.errorMessage}`);
    assert.ok(failed.errorMessage!.includes('problem line 7'), 'the lines before the last one too');
    assert.ok(!failed.errorMessage!.includes('problem line 1\n'), 'only the last lines, not the whole stderr');
    const silent = await waitForStatus(server, await triggerOk(server, 'exit-silent'), 'failed');
    assert.equal(silent.exitCode, 1);
    assert.ok(silent.errorMessage && /1/.test(silent.errorMessage), `a failure without stderr still says why: ${silent.errorMessage}`);
  });

  it('a process killed by a signal -> failed, naming the signal', async () => {
    const failed = await waitForStatus(server, await triggerOk(server, 'self-kill'), 'failed');
    assert.match(failed.errorMessage ?? '', /SIGKILL/);
  });

  it('a command that cannot start -> failed with a clear error, not a server error', async () => {
    const reply = await trigger(server, 'missing-program');
    assert.equal(reply.status, 202, reply.text);
    const failed = await waitForStatus(server, reply.body.executionId, 'failed');
    assert.match(failed.errorMessage ?? '', /cron-ops-program/);
    assert.match(failed.errorMessage ?? '', /not found|ENOENT|cannot start/i);
  });

  it('past timeoutMs -> the process is ended and the run failed, naming the timeout', async () => {
    const started = Date.now();
    const id = await triggerOk(server, 'times-out');
    const pid = Number(/^pid (\d+)$/.exec(await firstLine(server, id))![1]);
    const failed = await waitForStatus(server, id, 'failed', 20_000);
    assert.match(failed.errorMessage ?? '', /time(d)?[ -]?out/i);
    assert.match(failed.errorMessage ?? '', /1500 ?ms|1\.5 ?s/);
    assert.ok(Date.now() - started >= 1400, 'not before the timeout');
    await waitFor(() => !processAlive(pid), `process ${pid} to be gone`, 10_000);
  });

  it('a process ignoring SIGTERM at timeout is killed after the grace period', async () => {
    const id = await triggerOk(server, 'ignores-sigterm');
    const pid = Number(/^pid (\d+)$/.exec(await firstLine(server, id))![1]);
    const failed = await waitForStatus(server, id, 'failed', 20_000);
    assert.match(failed.errorMessage ?? '', /time(d)?[ -]?out/i);
    await waitFor(() => !processAlive(pid), `process ${pid} to be killed`, 10_000);
    const { lines } = await waitFor(async () => {
      const logs = await allLogs(server, id);
      return logs.done ? logs : undefined;
    }, 'the logs to be complete');
    assert.ok(lines.some((line) => line.line === 'ignoring SIGTERM'), 'it did get SIGTERM first');
    assert.equal((await getExecution(server, id)).status, 'failed', 'the SIGKILL does not rewrite the status');
  });

  it('cancel -> cancelled, the process and its children really gone', async () => {
    const id = await triggerOk(server, 'cancel-me');
    const match = /^pid (\d+) grandchild (\d+)$/.exec(await firstLine(server, id));
    assert.ok(match, 'the script printed its pids');
    const [pid, grandchild] = [Number(match[1]), Number(match[2])];
    assert.ok(processAlive(pid) && processAlive(grandchild));
    const reply = await api<Execution>(server, API_PATHS.cancel(id), { method: 'POST' });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.body.status, 'cancelled');
    await waitFor(() => !processAlive(pid) && !processAlive(grandchild), `processes ${pid} and ${grandchild} to be gone`, 10_000);
    const after = await waitForExecution(server, id, () => true);
    assert.equal(after.status, 'cancelled');
    assert.ok(after.completedAt);
    assert.equal(typeof after.durationMs, 'number');
  });

  it('cancel of a process ignoring SIGTERM kills it after the grace period', async () => {
    const id = await triggerOk(server, 'cancel-stubborn');
    const pid = Number(/^pid (\d+)$/.exec(await firstLine(server, id))![1]);
    assert.equal((await api(server, API_PATHS.cancel(id), { method: 'POST' })).status, 200);
    await waitFor(() => !processAlive(pid), `process ${pid} to be killed`, 10_000);
    assert.equal((await getExecution(server, id)).status, 'cancelled');
  });

  it('mark-failed on one of our own runs ends its process too', async () => {
    const id = await triggerOk(server, 'cancel-me');
    const match = /^pid (\d+) grandchild (\d+)$/.exec(await firstLine(server, id))!;
    const reply = await api<Execution>(server, API_PATHS.markFailed(id), { method: 'POST' });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.body.errorMessage, 'Timeout - manually cancelled');
    await waitFor(() => !processAlive(Number(match[1])) && !processAlive(Number(match[2])), 'the processes to be gone', 10_000);
    assert.equal((await getExecution(server, id)).status, 'failed');
  });

  it('caps the stored lines per execution: keeps the first lines and the last ones, says what it dropped', async () => {
    const id = await triggerOk(server, 'chatty');
    const done = await waitForStatus(server, id, 'completed');
    const total = MAX_LINES * 3 + 1;
    const { lines } = await allLogs(server, id);
    const notice = lines.filter((line) => line.line.startsWith('[cron-ops] log cap reached'));
    assert.equal(notice.length, 1, `one notice of the cap: ${JSON.stringify(lines.slice(45, 55))}`);
    assert.match(notice[0].line, /maxLogLinesPerExecution \(100 lines\)/);
    const jobLines = lines.filter((line) => !line.line.startsWith('[cron-ops]'));
    assert.equal(jobLines.length, MAX_LINES, 'never more than the cap (plus the notice)');
    assert.equal(done.logLinesDropped, total - MAX_LINES, `dropped count recorded: ${JSON.stringify(done)}`);
    const head = lines.slice(0, lines.indexOf(notice[0])).map((line) => line.line);
    assert.deepEqual(head, Array.from({ length: MAX_LINES / 2 }, (_, index) => `line ${index + 1}`), 'the first lines are kept, in order');
    const tail = lines.slice(lines.indexOf(notice[0]) + 1).map((line) => line.line);
    assert.ok(tail.includes('the end on stderr'), 'the last line (the error, the result) is kept');
    assert.ok(tail.includes(`line ${MAX_LINES * 3}`), 'the last stdout line is kept');
    assert.ok(!tail.includes(`line ${MAX_LINES * 3 - MAX_LINES / 2}`), 'only the last ones');
    assert.match(notice[0].line, new RegExp(`${total - MAX_LINES} lines`));
    const listed = (await api(server, `${API_PATHS.executions}?cronName=chatty`)).body.executions[0];
    assert.equal(listed.logLinesDropped, total - MAX_LINES);
  });

  it('passes params as CRON_PARAM_* environment variables, never on the command line', async () => {
    const label = 'x"; rm -rf / #$(touch /tmp/cron-ops-pwned)';
    const id = await triggerOk(server, 'env-dump', { batchSize: 7, label });
    await waitForStatus(server, id, 'completed');
    const { lines } = await allLogs(server, id);
    const dump = JSON.parse(lines[0].line);
    assert.equal(dump.env.CRON_PARAM_BATCHSIZE, '7');
    assert.equal(dump.env.CRON_PARAM_LABEL, label);
    assert.equal(dump.env.CRON_PARAM_DRYRUN, 'false');
    assert.deepEqual(JSON.parse(dump.env.CRON_PARAMS), { batchSize: 7, label, dryRun: false });
    assert.equal(dump.env.CRON_EXECUTION_ID, id);
    assert.equal(dump.env.CRON_NAME, 'env-dump');
    assert.equal(dump.env.CRON_SECRET, TEST_CRON_SECRET);
    assert.equal(dump.env.CRON_TRIGGER_SERVER_URL, server.url);
    const commandLine = [...dump.argv, ...dump.cmdline].join(' ');
    assert.ok(!commandLine.includes('rm -rf'), `no param on the command line: ${commandLine.slice(0, 300)}`);
    assert.ok(!/\b7\b/.test(dump.argv.join(' ')), 'batchSize not in argv');
  });

  it('runs "node" as the server\'s Node, with relative paths from the config folder', async () => {
    const id = await triggerOk(server, 'relative-script');
    await waitForStatus(server, id, 'completed');
    const { lines } = await allLogs(server, id);
    const where = JSON.parse(lines[0].line);
    assert.equal(where.script, join(configDir, 'scripts', 'where.mjs'));
    assert.equal(where.execPath, process.execPath);
  });
});
