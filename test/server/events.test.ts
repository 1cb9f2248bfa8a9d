// The SSE stream: execution events, KPIs, crons.changed, followed log lines, and resume with
// Last-Event-ID after a dropped connection without missing an event.
import assert from 'node:assert/strict';
import { API_PATHS } from '../../src/shared/api';
import { allLogs, api, triggerOk, waitForStatus } from '../support/http';
import { nodeCron, startServer, type ServerProcess } from '../support/serverProcess';
import { openSse, type SseEvent, type SseStream } from '../support/sse';

const LINES = 60;

describe('events (SSE)', function () {
  let server: ServerProcess;
  let control: SseStream;

  before(async () => {
    server = await startServer({
      config: {
        crons: [
          nodeCron('quick', 'console.log("hello")'),
          nodeCron('fails', 'console.error("boom"); process.exit(2)'),
          nodeCron('hangs', 'console.log("hanging"); setInterval(() => {}, 1000)'),
          nodeCron('chatty', `let i = 0; const t = setInterval(() => { i++; (i % 7 === 0 ? console.error : console.log)("line " + i); if (i === ${LINES}) clearInterval(t); }, 15)`),
        ],
        rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
        killGraceMs: 500,
      },
    });
    // Connected the whole time: the reference for what a client should have received.
    control = await openSse(server.url);
  });

  after(async () => {
    control?.drop();
    await server?.stop();
  });

  it('streams text/event-stream and refuses a client without a token', async () => {
    assert.equal(control.status, 200);
    assert.match(String(control.headers['content-type']), /^text\/event-stream/);
    const refused = await api(server, API_PATHS.events, { token: null });
    assert.equal(refused.status, 401, refused.text);
    assert.equal(refused.body.success, false);
  });

  it('announces execution.started and execution.finished, with numeric increasing ids', async () => {
    const id = await triggerOk(server, 'quick');
    const started = await control.next((event) => event.event === 'execution.started' && event.data.execution.id === id, 'execution.started');
    assert.equal(started.data.execution.status, 'running');
    assert.equal(started.data.execution.cronName, 'quick');
    assert.equal(started.data.execution.triggerType, 'manual');
    const finished = await control.next((event) => event.event === 'execution.finished' && event.data.execution.id === id, 'execution.finished');
    assert.equal(finished.data.execution.status, 'completed');
    assert.equal(typeof finished.data.execution.durationMs, 'number');
    assert.equal(finished.data.execution.exitCode, 0);
    assert.ok(Number.isSafeInteger(started.id) && Number.isSafeInteger(finished.id), `numeric ids: ${started.id} ${finished.id}`);
    assert.ok(finished.id! > started.id!);
    const ids = control.events.filter((event) => event.id !== undefined).map((event) => event.id!);
    assert.deepEqual(ids, [...new Set(ids)].sort((a, b) => a - b), 'ids strictly increase');
  });

  it('carries the error of a failed run', async () => {
    const id = await triggerOk(server, 'fails');
    const finished = await control.next((event) => event.event === 'execution.finished' && event.data.execution.id === id, 'execution.finished of the failure');
    assert.equal(finished.data.execution.status, 'failed');
    assert.equal(finished.data.execution.exitCode, 2);
    assert.match(finished.data.execution.errorMessage, /boom/);
  });

  it('sends the KPIs as stats events when they change', async () => {
    const before = control.events.length;
    const id = await triggerOk(server, 'hangs');
    const running = await control.next((event) => control.events.indexOf(event) >= before && event.event === 'stats' && event.data.running === 1, 'stats with one running');
    for (const field of ['executions24h', 'running', 'failures24h', 'nextExecution']) assert.ok(field in running.data, `stats has ${field}`);
    const kpis = (await api(server, API_PATHS.stats)).body;
    assert.equal(running.data.executions24h, kpis.executions24h);
    await api(server, API_PATHS.cancel(id), { method: 'POST' });
    await control.next((event) => control.events.indexOf(event) > control.events.indexOf(running) && event.event === 'stats' && event.data.running === 0, 'stats back to none running');
  });

  it('sends crons.changed on pause and resume', async () => {
    await api(server, API_PATHS.pause('quick'), { method: 'POST' });
    const paused = await control.next((event) => event.event === 'crons.changed' && event.data.cronNames.includes('quick'), 'crons.changed for the pause');
    await api(server, API_PATHS.resume('quick'), { method: 'POST' });
    await control.next((event) => event.event === 'crons.changed' && event.id! > paused.id! && (event.data.cronNames.length === 0 || event.data.cronNames.includes('quick')), 'crons.changed for the resume');
  });

  it('streams the log lines of a followed execution: the backlog, then live, none twice, none missing', async () => {
    const id = await triggerOk(server, 'chatty');
    // Follow once some lines are already stored, so both the backlog and live lines are exercised.
    const { lines: early } = await allLogs(server, id);
    const follower = await openSse(server.url, { follow: [id] });
    try {
      await follower.next((event) => event.event === 'execution.finished' && event.data.execution.id === id, 'the end of the run', 30_000);
      const stored = await allLogs(server, id);
      assert.equal(stored.lines.length, LINES);
      const received = await follower.until(
        (events) => events.filter((event) => event.event === 'execution.log').flatMap((event) => event.data.lines).length >= LINES,
        `${LINES} followed lines`,
      );
      const logEvents = received.filter((event) => event.event === 'execution.log');
      assert.ok(logEvents.every((event) => event.data.executionId === id));
      const lines = logEvents.flatMap((event) => event.data.lines);
      assert.deepEqual(
        lines.map((line: { seq: number }) => line.seq),
        Array.from({ length: LINES }, (_, index) => index + 1),
        `every line once, in order (${early.length} were stored before following)`,
      );
      assert.deepEqual(lines, stored.lines, 'the same lines as the logs endpoint');
      assert.ok(lines.some((line: { stream: string }) => line.stream === 'stderr'));
      assert.ok(!control.events.some((event) => event.event === 'execution.log'), 'no log lines for a client that follows nothing');
    } finally {
      follower.drop();
    }
  });

  it('resumes after a dropped connection with Last-Event-ID and misses nothing', async () => {
    const client = await openSse(server.url);
    const first = await triggerOk(server, 'quick');
    await client.next((event) => event.event === 'execution.finished' && event.data.execution.id === first, 'a first event before the drop');
    const lastSeen = client.lastId()!;
    client.drop();
    await client.closed;

    // What happens while the client is away.
    const missed: string[] = [];
    for (const cron of ['quick', 'fails', 'quick']) {
      const id = await triggerOk(server, cron);
      missed.push(id);
      await waitForStatus(server, id, cron === 'fails' ? 'failed' : 'completed');
    }
    await api(server, API_PATHS.pause('quick'), { method: 'POST' });
    await api(server, API_PATHS.resume('quick'), { method: 'POST' });
    const reference = await control.next((event) => event.event === 'execution.finished' && event.data.execution.id === missed[2], 'the last missed event on the control stream');
    await control.next((event) => event.event === 'crons.changed' && event.id! > reference.id!, 'the resume on the control stream');
    const upTo = control.lastId()!;

    const resumed = await openSse(server.url, { lastEventId: lastSeen });
    try {
      await resumed.until((events) => events.some((event) => event.id !== undefined && event.id >= upTo), `events up to #${upTo}`);
      const shape = (events: SseEvent[]) => events.filter((event) => event.id !== undefined && event.id > lastSeen && event.id <= upTo).map((event) => ({ id: event.id, event: event.event, data: event.data }));
      const expected = shape(control.events);
      assert.ok(expected.length >= 7, `the control stream saw the missed events (${expected.length})`);
      assert.deepEqual(shape(resumed.events), expected, 'the resumed stream replays exactly what was missed');
      for (const id of missed) {
        assert.ok(resumed.events.some((event) => event.event === 'execution.started' && event.data.execution.id === id), `started of ${id}`);
        assert.ok(resumed.events.some((event) => event.event === 'execution.finished' && event.data.execution.id === id), `finished of ${id}`);
      }
      assert.ok(!resumed.events.some((event) => event.id !== undefined && event.id <= lastSeen), 'nothing already seen is sent again');
      // And it goes on live after the replay.
      const live = await triggerOk(server, 'quick');
      await resumed.next((event) => event.event === 'execution.finished' && event.data.execution.id === live, 'a live event after the replay');
    } finally {
      resumed.drop();
    }
  });

  it('asks a client that is too far behind to resync', async () => {
    const stale = await openSse(server.url, { lastEventId: 1 });
    try {
      const resync = await stale.next((event) => event.event === 'resync', 'a resync event');
      assert.equal(typeof resync.data.reason, 'string');
    } finally {
      stale.drop();
    }
  });

  it('refuses a malformed Last-Event-ID or follow id with 400', async () => {
    const badHeader = await api(server, API_PATHS.events, { headers: { 'last-event-id': 'abc' } });
    assert.equal(badHeader.status, 400, badHeader.text);
    const badFollow = await api(server, `${API_PATHS.events}?follow=not-a-uuid`);
    assert.equal(badFollow.status, 400, badFollow.text);
  });
});
