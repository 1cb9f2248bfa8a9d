// Jobs are started by the server's spawn helper (a small child of the server, src/server/spawnHelper.ts),
// not by the server itself: a job so started behaves as before (output, binary bytes, exit code, cancel
// ends its process group), and the server survives the helper's death: the run it held fails saying so,
// its processes are ended, and the next trigger starts a new helper.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { API_PATHS, type Execution } from '../../src/shared/api';
import { allLogs, api, killStrays, processAlive, triggerOk, waitForStatus } from '../support/http';
import { nodeCron, startServer, type ServerProcess, type TestCronDefinition } from '../support/serverProcess';
import { waitFor } from '../support/waitFor';

function shCron(name: string, script: string): TestCronDefinition {
  return { name, description: name, schedule: '0 0 1 1 *', command: ['sh', '-c', script], timeoutMs: 60_000 };
}

/** The parent of a live process (/proc/PID/stat, after the parenthesised name). */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function commandLine(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
}

async function logTexts(server: ServerProcess, id: string, until: (texts: string[]) => boolean, what: string): Promise<string[]> {
  return waitFor(async () => {
    const texts = (await allLogs(server, id)).lines.map((line) => line.line);
    return until(texts) ? texts : undefined;
  }, what);
}

/** The pids a job printed as `pids MAIN CHILD`. */
async function jobPids(server: ServerProcess, id: string): Promise<[number, number]> {
  const texts = await logTexts(server, id, (lines) => lines.some((line) => /^pids \d+ \d+$/.test(line)), 'the job to print its pids');
  const [, main, child] = /^pids (\d+) (\d+)$/.exec(texts.find((line) => /^pids \d+ \d+$/.test(line))!)!;
  return [Number(main), Number(child)];
}

describe('spawn helper', function () {
  let server: ServerProcess;
  const strays: number[] = [];

  before(async () => {
    server = await startServer({
      config: {
        crons: [
          nodeCron('helper-output', 'console.log("pid " + process.pid + " parent " + process.ppid); process.stdout.write("a\\u0000b\\n"); process.stdout.write(Buffer.from([0x6f, 0x6b, 0xff, 0x0a])); console.error("it went wrong"); process.exitCode = 3;'),
          // A child in the job's process group keeps running until the group is signalled.
          shCron('helper-hang', 'sleep 300 & echo "pids $$ $!"; wait'),
          shCron('helper-echo', 'echo "after the helper died"'),
        ],
        rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
        killGraceMs: 700,
      },
    });
  });

  after(async () => {
    await server?.stop();
    killStrays(strays);
  });

  it('starts the job from the helper (not the server): same output, binary bytes replaced, exit code and stderr in the error', async () => {
    const id = await triggerOk(server, 'helper-output');
    const failed = await waitForStatus(server, id, 'failed', 20_000);
    assert.equal(failed.exitCode, 3);
    assert.match(failed.errorMessage ?? '', /^Exited with code 3: it went wrong/);
    const texts = await logTexts(server, id, (lines) => lines.includes('it went wrong'), 'the stderr line');
    const [, jobPid, parent] = /^pid (\d+) parent (\d+)$/.exec(texts[0]) ?? [];
    assert.ok(jobPid, texts.join('\n'));
    assert.notEqual(Number(parent), server.child.pid, 'the job is not a child of the server');
    assert.equal(texts[1], 'a\uFFFDb', 'the NUL byte is replaced');
    assert.equal(texts[2], 'ok\uFFFD', 'the invalid UTF-8 byte is replaced');
    // Its parent is the helper, the server's own child, while it lives (it runs for the next tests too).
    assert.equal(parentOf(Number(parent)), server.child.pid);
    assert.match(commandLine(Number(parent)), /spawnHelper\.mjs/);
  });

  it('cancel ends the job and its process group', async () => {
    const id = await triggerOk(server, 'helper-hang');
    const [main, sleeper] = await jobPids(server, id);
    strays.push(main, sleeper);
    assert.match(commandLine(parentOf(main)), /spawnHelper\.mjs/, 'started by the helper');
    const reply = await api<Execution>(server, API_PATHS.cancel(id), { method: 'POST' });
    assert.equal(reply.status, 200, reply.text);
    await waitFor(() => !processAlive(main) && !processAlive(sleeper), `the shell ${main} and its sleep ${sleeper} to end`, 15_000);
    await waitForStatus(server, id, 'cancelled', 15_000);
    await logTexts(server, id, (lines) => lines.some((line) => /the run was ended: SIGTERM sent to/.test(line) && line.includes(`${main} sh`) && line.includes(`${sleeper} sleep`)), 'the log to say what was signalled');
  });

  it('kill -9 of the helper: the running run fails saying so, its processes are ended, the next trigger works', async () => {
    const id = await triggerOk(server, 'helper-hang');
    const [main, sleeper] = await jobPids(server, id);
    strays.push(main, sleeper);
    const helper = parentOf(main);
    assert.match(commandLine(helper), /spawnHelper\.mjs/);
    process.kill(helper, 'SIGKILL');

    const failed = await waitForStatus(server, id, 'failed', 20_000);
    assert.match(failed.errorMessage ?? '', new RegExp(`the spawn helper \\(pid ${helper}.*\\) killed by SIGKILL while the run was in progress`));
    await waitFor(() => !processAlive(main) && !processAlive(sleeper), `the orphaned shell ${main} and its sleep ${sleeper} to be ended`, 15_000);
    await logTexts(server, id, (lines) => lines.some((line) => /the spawn helper died: SIGTERM sent to/.test(line) && line.includes(`${sleeper} sleep`)), 'the log to say what was signalled');
    assert.ok(processAlive(server.child.pid!), 'the server still runs');

    const next = await triggerOk(server, 'helper-echo');
    await waitForStatus(server, next, 'completed', 20_000);
    await logTexts(server, next, (lines) => lines.includes('after the helper died'), 'the next run to log its output');
  });
});
