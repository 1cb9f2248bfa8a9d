// Streams and connections have limits, against a real server process: streams per token (429 beyond), a
// followed run's backlog bounded to its last 1,000 lines, no work left for clients that have gone, a
// revoked token's streams closed within 5 s, and half-open connections that cannot exhaust the server.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { API_PATHS } from '../../src/shared/api';
import { allLogs, api, triggerOk } from '../support/http';
import { nodeCron, startServer, type ServerProcess } from '../support/serverProcess';
import { openSse, type SseStream } from '../support/sse';
import { waitFor } from '../support/waitFor';

const MAX_STREAMS = 3;
const PRINT_THEN_HANG = (lines: number) => `for (let i = 1; i <= ${lines}; i++) console.log("line " + i + " " + "x".repeat(60)); setInterval(() => {}, 1000)`;

describe('streams and connections have limits', function () {
  this.timeout(120_000);
  let server: ServerProcess;
  const open: SseStream[] = [];

  before(async () => {
    server = await startServer({
      config: {
        crons: [nodeCron('long-log', PRINT_THEN_HANG(3000)), ...[1, 2, 3, 4, 5].map((n) => nodeCron(`big-${n}`, PRINT_THEN_HANG(5000)))],
        rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
        maxStreamsPerToken: MAX_STREAMS,
        maxLogLinesPerExecution: 20_000,
        killGraceMs: 200,
      },
    });
  });

  afterEach(() => {
    for (const stream of open.splice(0)) stream.drop();
  });

  after(async () => {
    await server?.stop();
  });

  async function token(name: string, role = 'viewer'): Promise<string> {
    const reply = await api(server, API_PATHS.tokens, { body: { name, role } });
    assert.equal(reply.status, 201, reply.text);
    return reply.body.token;
  }

  const sse = async (options: Parameters<typeof openSse>[1]) => {
    const stream = await openSse(server.url, options);
    open.push(stream);
    return stream;
  };

  it(`allows ${MAX_STREAMS} open streams per token, then 429; a closed stream frees its place`, async () => {
    const viewer = await token('streamer');
    const streams = [];
    for (let index = 0; index < MAX_STREAMS; index++) {
      const stream = await sse({ token: viewer });
      assert.equal(stream.status, 200);
      streams.push(stream);
    }
    const refused = await api(server, API_PATHS.events, { token: viewer });
    assert.equal(refused.status, 429, refused.text);
    assert.match(refused.body.error, /maxStreamsPerToken/);
    assert.ok(refused.headers.get('retry-after'));
    const other = await sse({ token: await token('another') });
    assert.equal(other.status, 200, 'another token has its own streams');
    streams[0].drop();
    await waitFor(async () => (await openSse(server.url, { token: viewer }).then((stream) => (open.push(stream), stream.status))) === 200, 'a place freed by the closed stream', 10_000, 200);
  });

  it("closes a revoked token's open streams within 5 s", async () => {
    const name = 'to-revoke';
    const doomed = await token(name);
    const streams = [await sse({ token: doomed }), await sse({ token: doomed })];
    const survivor = await sse({ token: await token('keeps-going') });
    assert.ok(streams.every((stream) => stream.status === 200));
    const revoked = await api(server, API_PATHS.token(name), { method: 'DELETE' });
    assert.equal(revoked.status, 200, revoked.text);
    const revokedAt = Date.now();
    const within = (ms: number) => new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref());
    for (const stream of streams) assert.notEqual(await Promise.race([stream.closed.then(() => 'closed'), within(5_000 - (Date.now() - revokedAt))]), 'timeout', 'closed within 5 s');
    const id = await triggerOk(server, 'long-log');
    await survivor.next((event) => event.event === 'execution.started' && event.data.execution.id === id, 'an event on the stream of a valid token');
    assert.equal((await api(server, API_PATHS.cancel(id), { method: 'POST' })).status, 200);
  });

  it("sends a followed run's last 1,000 lines only; the rest is paged from the logs endpoint", async () => {
    const id = await triggerOk(server, 'long-log');
    await waitFor(async () => (await allLogs(server, id)).lines.length === 3000, 'the 3,000 lines stored', 30_000, 200);
    const follower = await sse({ follow: [id] });
    const events = await follower.until((all) => all.some((event) => event.event === 'execution.log' && event.data.lines.some((line: { seq: number }) => line.seq === 3000)), 'the last line', 20_000);
    const seqs = events.filter((event) => event.event === 'execution.log').flatMap((event) => event.data.lines.map((line: { seq: number }) => line.seq));
    assert.equal(seqs.length, 1000, 'the backlog is the last 1,000 lines');
    assert.equal(seqs[0], 2001, 'starting at seq 2001: older lines are paged with ?after=');
    assert.deepEqual(seqs, Array.from({ length: 1000 }, (_, index) => 2001 + index));
    const paged = await api(server, `${API_PATHS.logs(id)}?after=0&limit=2000`);
    assert.equal(paged.body.lines.length, 2000, 'the older lines are there to page');
    assert.equal((await api(server, API_PATHS.cancel(id), { method: 'POST' })).status, 200);
  });

  it('stops the work for clients that leave: 30 streams following 5 long runs, closed after 0.3 s, leave /health answering', async () => {
    const ids: string[] = [];
    for (let n = 1; n <= 5; n++) ids.push(await triggerOk(server, `big-${n}`));
    await waitFor(async () => {
      for (const id of ids) if ((await api(server, `${API_PATHS.logs(id)}?after=4999&limit=1`)).body.lines.length === 0) return false;
      return true;
    }, 'the 5 × 5,000 lines stored', 60_000, 250);
    const tokens = await Promise.all(Array.from({ length: 10 }, (_, index) => token(`crowd-${index}`)));
    const crowd = await Promise.all(Array.from({ length: 30 }, (_, index) => sse({ token: tokens[index % 10], follow: ids })));
    assert.ok(crowd.every((stream) => stream.status === 200));
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const stream of crowd) stream.drop();
    const health = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(health.status, 200, '/health answers');
    // And the places the crowd held are free again.
    await waitFor(async () => (await openSse(server.url, { token: tokens[0] }).then((stream) => (open.push(stream), stream.status))) === 200, 'a stream for a crowd token', 10_000, 200);
    for (const id of ids) await api(server, API_PATHS.cancel(id), { method: 'POST' });
  });

  it('closes connections that never finish their headers, and caps the open connections', async () => {
    const sockets: Socket[] = [];
    const closed: Array<Promise<void>> = [];
    for (let index = 0; index < 450; index++) {
      const socket = connect(server.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.resume(); // read what the server sends (a 408), so its end is seen
      socket.on('connect', () => socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n'));
      closed.push(new Promise((resolve) => socket.on('close', () => resolve())));
      sockets.push(socket);
    }
    try {
      // The server ends every one of them: past the cap at once, the others after the headers timeout.
      await Promise.race([
        Promise.all(closed),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`${sockets.filter((socket) => !socket.closed).length} half-open connections still open after 40 s`)), 40_000).unref()),
      ]);
      const health = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(10_000) });
      assert.equal(health.status, 200, '/health answers afterwards');
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });

  it('holds at most maxConnections open connections, event streams included; a closed one frees its place', async () => {
    const small = await startServer({ config: { crons: [nodeCron('quiet', 'setTimeout(() => {}, 10)')], maxStreamsPerToken: 6, maxConnections: 12 } });
    const streams: SseStream[] = [];
    try {
      // Streams on two tokens (6 each at most), the second a viewer's.
      const created = await api(small, API_PATHS.tokens, { body: { name: 'second', role: 'viewer' } });
      assert.equal(created.status, 201, created.text);
      const tokens = [undefined, created.body.token as string];
      // The start-up's readiness checks may still hold a kept-alive connection or two (closed after 5 s idle).
      let refused: unknown;
      for (let index = 0; index < 13 && refused === undefined; index++) {
        const stream = await openSse(small.url, { token: tokens[index % 2] }).catch((error: unknown) => ((refused = error), undefined));
        if (stream) {
          assert.equal(stream.status, 200, `stream ${index + 1}`);
          streams.push(stream);
        }
      }
      assert.ok(refused, `${streams.length} streams open: the connection past 12 was not closed`);
      assert.ok(streams.length >= 10 && streams.length <= 12, `${streams.length} streams open before one was refused`);
      assert.match(String(refused), /socket hang up|ECONNRESET|closed/i);
      await waitFor(async () => /connection\(s\) closed unanswered: the server holds maxConnections \(12\)/.test(small.output()), 'the refusal in the log', 10_000, 100);
      streams.pop()!.drop();
      await waitFor(async () => (await fetch(`${small.url}/health`, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined))?.status === 200, '/health once a stream closed', 20_000, 200);
    } finally {
      for (const stream of streams) stream.drop();
      await small.stop();
    }
  });
});
