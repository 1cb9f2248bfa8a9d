// Job output is untrusted input: a NUL byte, bytes that are not UTF-8, an endless line, a progress bar, a
// flood past the caps. The run ends on time, the lines that matter are stored, the server stays small.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { API_PATHS } from '../../src/shared/api';
import { allLogs, api, trigger, triggerOk, waitForStatus } from '../support/http';
import { nodeCron, startServer, type ServerProcess, type TestConfig } from '../support/serverProcess';

const LINE_CAP = 1024;
const RUN_CAP = 64 * 1024;
const GIB = 1024 * 1024 * 1024;

/** Writes `mib` MiB on stdout without a newline (waiting for the pipe), then one more line. */
const LONG_LINE = (mib: number) =>
  [
    'const chunk = Buffer.alloc(1024 * 1024, 120);',
    `let left = ${mib};`,
    'const write = () => { while (left > 0) { left--; if (!process.stdout.write(chunk)) { process.stdout.once("drain", write); return; } }',
    '  process.stdout.write("END-OF-LONG-LINE\\nafter the long line\\n"); };',
    'write();',
  ].join('\n');

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}

describe('job output is untrusted input', function () {
  let server: ServerProcess;

  before(async () => {
    const config: TestConfig & { maxLogLineBytes: number; maxLogBytesPerExecution: number } = {
      crons: [
        { name: 'nul-byte', description: 'printf with a NUL', schedule: '0 0 1 1 *', command: ['sh', '-c', "printf 'x\\000y\\n'; echo clean line"], timeoutMs: 600_000 },
        nodeCron('not-utf8', 'process.stdout.write(Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x0a, 0x63, 0xed, 0xa0, 0x80, 0x64, 0x0a])); console.log("fine")'),
        nodeCron('long-line', 'process.stdout.write("START" + "x".repeat(200000) + "THE-END\\n"); console.log("next line")'),
        nodeCron('progress-bar', 'for (let i = 1; i <= 5000; i++) process.stdout.write("\\rprogress " + i + "/5000"); process.stdout.write("\\nRESULT: 5000 documents\\n")'),
        nodeCron('flood', 'for (let i = 1; i <= 5000; i++) console.log(String(i).padStart(5, "0") + " " + "y".repeat(94)); console.error("FATAL: the real error, at the end"); process.exitCode = 2'),
        nodeCron('huge-line', LONG_LINE(1024), { timeoutMs: 600_000 }),
      ],
      rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
      maxLogLineBytes: LINE_CAP,
      maxLogBytesPerExecution: RUN_CAP,
    };
    server = await startServer({ config });
  });

  after(async () => {
    await server?.stop();
  });

  it('a NUL byte is replaced, never retried: the run ends at once with every line, and can run again', async () => {
    const id = await triggerOk(server, 'nul-byte');
    const done = await waitForStatus(server, id, 'completed', 15_000);
    assert.equal(done.logLinesDropped, 0);
    const { lines } = await allLogs(server, id);
    assert.deepEqual(lines.map((line) => line.line), ['x\uFFFDy', 'clean line']);
    assert.equal((await trigger(server, 'nul-byte')).status, 202, 'not stuck running (no 409)');
    assert.doesNotMatch(server.output(), /keeping them to retry/, 'not taken for a store outage');
  });

  it('bytes that are not UTF-8 (and encoded lone surrogates) are replaced, the rest kept', async () => {
    const id = await triggerOk(server, 'not-utf8');
    await waitForStatus(server, id, 'completed', 15_000);
    const { lines } = await allLogs(server, id);
    assert.equal(lines[0].line, 'a\uFFFD\uFFFDb');
    assert.match(lines[1].line, /^c\uFFFD+d$/);
    assert.equal(lines[2].line, 'fine');
  });

  it('a line longer than maxLogLineBytes keeps its start and end, says it was cut and by how much', async () => {
    const id = await triggerOk(server, 'long-line');
    await waitForStatus(server, id, 'completed', 15_000);
    const { lines } = await allLogs(server, id);
    assert.equal(lines.length, 2);
    const [cut, next] = lines.map((line) => line.line);
    assert.ok(Buffer.byteLength(cut) <= LINE_CAP, `${Buffer.byteLength(cut)} bytes stored`);
    assert.ok(cut.startsWith('STARTxxx'));
    assert.ok(cut.endsWith('THE-END'), 'the end of the line is kept');
    const bytesCut = Number(/(\d+) bytes cut/.exec(cut)?.[1]);
    assert.ok(bytesCut > 200_000 - LINE_CAP && bytesCut < 200_012, `says how much was cut: ${bytesCut}`);
    assert.equal(next, 'next line');
  });

  it('a progress bar (carriage returns, no newline) keeps its last state and the line after it', async () => {
    const id = await triggerOk(server, 'progress-bar');
    await waitForStatus(server, id, 'completed', 15_000);
    const { lines } = await allLogs(server, id);
    assert.ok(lines[0].line.trimEnd().endsWith('progress 5000/5000'), lines[0].line.slice(-60));
    assert.equal(lines[1].line, 'RESULT: 5000 documents');
  });

  it('past maxLogBytesPerExecution: the first lines and the last 100 are kept, and what was dropped is said', async () => {
    const id = await triggerOk(server, 'flood');
    const failed = await waitForStatus(server, id, 'failed', 20_000);
    assert.match(failed.errorMessage ?? '', /FATAL: the real error, at the end/);
    const { lines } = await allLogs(server, id);
    const texts = lines.map((line) => line.line);
    const jobBytes = texts.filter((text) => !text.startsWith('[cron-ops]')).reduce((sum, text) => sum + Buffer.byteLength(text), 0);
    assert.ok(jobBytes <= RUN_CAP, `${jobBytes} bytes stored`);
    assert.ok(texts[0].startsWith('00001 '), 'the first lines are kept');
    const noticeAt = texts.findIndex((text) => text.startsWith('[cron-ops] log cap reached'));
    assert.ok(noticeAt > 0, `a notice says the cap was reached: ${texts.length} lines, ${JSON.stringify(texts.filter((text) => text.startsWith('[cron-ops]')))} ${texts.slice(-2)}`);
    assert.match(texts[noticeAt], /maxLogBytesPerExecution/);
    const tail = texts.slice(noticeAt + 1);
    assert.equal(tail.length, 100, 'the last 100 lines are kept');
    // stdout and stderr are two pipes: the error may arrive before the job's last stdout lines, never lost.
    assert.ok(texts.includes('FATAL: the real error, at the end'), 'the error is stored');
    assert.ok(tail.some((text) => text.startsWith('05000 ')), JSON.stringify([texts.length, texts[noticeAt], tail.slice(0, 2), tail.slice(-3)]));
    const kept = texts.length - 1;
    assert.equal(failed.logLinesDropped, 5001 - kept);
    assert.match(texts[noticeAt], new RegExp(`${5001 - kept} lines`));
  });

  it('a 1 GiB single line: the server survives, its memory grows by less than 100 MB, the line is stored cut', async function () {
    this.timeout(300_000);
    const pid = server.child.pid!;
    const before = rssBytes(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 50);
    try {
      const id = await triggerOk(server, 'huge-line');
      await waitForStatus(server, id, 'completed', 280_000);
      const { lines } = await allLogs(server, id);
      assert.equal(lines.length, 2);
      assert.ok(Buffer.byteLength(lines[0].line) <= LINE_CAP);
      assert.ok(lines[0].line.endsWith('END-OF-LONG-LINE'));
      assert.ok(Number(/(\d+) bytes cut/.exec(lines[0].line)?.[1]) > GIB - LINE_CAP);
      assert.equal(lines[1].line, 'after the long line');
    } finally {
      clearInterval(sampler);
    }
    assert.ok(peak - before < 100 * 1024 * 1024, `RSS grew by ${Math.round((peak - before) / 1024 / 1024)} MB (from ${Math.round(before / 1024 / 1024)} MB)`);
    assert.equal((await api(server, API_PATHS.health)).status, 200, 'still serving');
  });
});
