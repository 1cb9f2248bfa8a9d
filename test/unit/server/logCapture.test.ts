// Log capture against a fake store: caps keep the first and the last lines, a refused line never stalls
// the run, an outage keeps lines to retry within a memory bound.
import { strict as assert } from 'node:assert';
import { PassThrough } from 'node:stream';
import type { LogLine } from '../../../src/shared/api';
import { LogCapture, type LogCaps } from '../../../src/server/logCapture';
import { createLogger } from '../../../src/server/logger';

const quiet = createLogger({ write: () => undefined });
const coded = (code: string) => Object.assign(new Error(`store says ${code}`), { code });

class FakeStore {
  readonly rows: LogLine[] = [];
  readonly published: LogLine[] = [];
  calls = 0;
  down = false;
  refuse: (line: LogLine) => boolean = () => false;

  async append(lines: LogLine[]): Promise<void> {
    this.calls++;
    if (this.down) throw coded('ECONNREFUSED');
    if (lines.some((line) => this.refuse(line))) throw coded('22021');
    this.rows.push(...lines.map((line) => ({ ...line })));
  }
}

function capture(store: FakeStore, caps: Partial<LogCaps> = {}, extra: Partial<ConstructorParameters<typeof LogCapture>[0]> = {}) {
  const out = new PassThrough();
  const err = new PassThrough();
  const logCapture = new LogCapture({
    executionId: 'e1',
    caps: { maxLineBytes: 1024, maxLines: 10_000, maxBytes: 1024 * 1024, ...caps },
    append: (lines) => store.append(lines),
    published: (lines) => store.published.push(...lines),
    log: quiet,
    flushIntervalMs: 1,
    retryFirstDelayMs: 5,
    retryMaxDelayMs: 20,
    ...extra,
  });
  logCapture.attach('stdout', out);
  logCapture.attach('stderr', err);
  return { logCapture, out, err };
}

async function settle(): Promise<void> {
  await new Promise((resolveTick) => setImmediate(resolveTick));
}

describe('logCapture', () => {
  it('stores every line in order with its stream and publishes them once stored', async () => {
    const store = new FakeStore();
    const { logCapture, out, err } = capture(store);
    out.write('a\nb\n');
    await settle();
    err.write('oops\n');
    await settle();
    out.write('c');
    await logCapture.close();
    assert.deepEqual(
      store.rows.map((row) => [row.seq, row.stream, row.line]),
      [
        [1, 'stdout', 'a'],
        [2, 'stdout', 'b'],
        [3, 'stderr', 'oops'],
        [4, 'stdout', 'c'],
      ],
    );
    assert.deepEqual(store.published.map((line) => line.seq), [1, 2, 3, 4]);
    assert.deepEqual(logCapture.stderrTail, ['oops']);
    assert.equal(logCapture.droppedLines, 0);
  });

  it('past the line cap keeps the first lines and the last ones, with a notice of what was dropped', async () => {
    const store = new FakeStore();
    const { logCapture, out } = capture(store, { maxLines: 300 });
    for (let index = 1; index <= 1000; index++) out.write(`line ${index}\n`);
    await logCapture.close();
    const texts = store.rows.map((row) => row.line);
    assert.deepEqual(texts.slice(0, 200), Array.from({ length: 200 }, (_, index) => `line ${index + 1}`));
    assert.match(texts[200], /^\[cron-ops\] log cap reached \(maxLogLinesPerExecution \(300 lines\)\): 700 lines/);
    assert.deepEqual(texts.slice(201), Array.from({ length: 100 }, (_, index) => `line ${901 + index}`));
    assert.equal(logCapture.droppedLines, 700);
  });

  it('past the byte cap the same, and the stored bytes stay within the cap', async () => {
    const store = new FakeStore();
    const { logCapture, out } = capture(store, { maxBytes: 20_000, maxLineBytes: 256 });
    for (let index = 1; index <= 2000; index++) out.write(`${String(index).padStart(6, '0')} ${'z'.repeat(90)}\n`);
    out.write('RESULT: 42 rows\n');
    await logCapture.close();
    const jobBytes = store.rows.filter((row) => !row.line.startsWith('[cron-ops]')).reduce((sum, row) => sum + Buffer.byteLength(row.line), 0);
    assert.ok(jobBytes <= 20_000, `${jobBytes} bytes stored`);
    assert.equal(store.rows[store.rows.length - 1].line, 'RESULT: 42 rows');
    assert.ok(store.rows[0].line.startsWith('000001 '));
    assert.ok(store.rows.some((row) => /log cap reached \(maxLogBytesPerExecution \(20000 bytes\)\)/.test(row.line)));
    const kept = store.rows.filter((row) => !row.line.startsWith('[cron-ops]')).length;
    assert.equal(logCapture.droppedLines, 2001 - kept);
  });

  it('a line the store refuses is replaced by a note; the other lines of its batch are stored; no retry as an outage', async () => {
    const store = new FakeStore();
    store.refuse = (line) => line.line.includes('BAD');
    const { logCapture, out } = capture(store);
    for (let index = 1; index <= 40; index++) out.write(index === 17 ? 'a BAD line\n' : `ok ${index}\n`);
    await settle();
    const started = Date.now();
    await logCapture.close();
    assert.ok(Date.now() - started < 2000, 'no backoff as if the store were down');
    assert.equal(store.rows.length, 40);
    assert.match(store.rows[16].line, /^\[cron-ops\] this line could not be stored \(store says 22021\)/);
    assert.equal(store.rows[16].seq, 17);
    assert.equal(store.rows[39].line, 'ok 40');
    assert.ok(store.calls < 40, `a few bisecting writes, not one per line (${store.calls})`);
  });

  it('during an outage keeps the lines and stores them when the store answers again', async () => {
    const store = new FakeStore();
    store.down = true;
    const { logCapture, out } = capture(store);
    for (let index = 1; index <= 50; index++) out.write(`line ${index}\n`);
    await new Promise((resolveDelay) => setTimeout(resolveDelay, 50));
    assert.equal(store.rows.length, 0);
    store.down = false;
    await logCapture.close();
    assert.deepEqual(store.rows.map((row) => row.line), Array.from({ length: 50 }, (_, index) => `line ${index + 1}`));
  });

  it('an outage holds only so many lines: the rest are counted, the last ones kept, and said', async () => {
    const store = new FakeStore();
    store.down = true;
    const { logCapture, out } = capture(store, { maxLines: 1000 }, { maxPendingLines: 20 });
    for (let index = 1; index <= 500; index++) out.write(`line ${index}\n`);
    await settle();
    store.down = false;
    await logCapture.close();
    const texts = store.rows.map((row) => row.line);
    assert.deepEqual(texts.slice(0, 20), Array.from({ length: 20 }, (_, index) => `line ${index + 1}`));
    assert.ok(texts.some((text) => /were not stored: the store was unreachable/.test(text)));
    assert.equal(texts[texts.length - 1], 'line 500');
    assert.equal(logCapture.droppedLines, 500 - texts.filter((text) => !text.startsWith('[cron-ops]')).length);
  });

  it('a cap reached during an outage keeps the held lines for the end: never more than the cap', async () => {
    const store = new FakeStore();
    store.down = true;
    const { logCapture, out } = capture(store, { maxLines: 100 }, { maxPendingLines: 10 });
    for (let index = 1; index <= 300; index++) out.write(`line ${index}\n`);
    await settle();
    store.down = false;
    await new Promise((resolveDelay) => setTimeout(resolveDelay, 50));
    for (let index = 301; index <= 400; index++) out.write(`line ${index}\n`);
    await logCapture.close();
    const jobLines = store.rows.filter((row) => !row.line.startsWith('[cron-ops]'));
    assert.ok(jobLines.length <= 100, `${jobLines.length} lines stored`);
    assert.equal(jobLines[jobLines.length - 1].line, 'line 400');
    assert.equal(logCapture.droppedLines, 400 - jobLines.length);
  });

  it('gives up after the time allowed when the store never answers, counting the lines', async () => {
    const store = new FakeStore();
    store.down = true;
    const { logCapture, out } = capture(store);
    out.write('one\ntwo\n');
    await logCapture.close(100);
    assert.equal(logCapture.droppedLines, 2);
  });

  it('notices after close are written on their own', async () => {
    const store = new FakeStore();
    const { logCapture } = capture(store);
    await logCapture.close();
    logCapture.notice('SIGKILL sent to 123 sleep');
    await new Promise((resolveDelay) => setTimeout(resolveDelay, 20));
    assert.deepEqual(store.rows.map((row) => [row.seq, row.stream, row.line]), [[1, 'stderr', '[cron-ops] SIGKILL sent to 123 sleep']]);
  });
});
