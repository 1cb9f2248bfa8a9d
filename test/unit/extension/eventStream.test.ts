import { strict as assert } from 'node:assert';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventStream, reconnectDelayMs, type StreamEvent, type StreamStatus } from '../../../src/extension/eventStream';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

interface Connection {
  request: IncomingMessage;
  response: ServerResponse;
}

async function sseServer(onConnect: (connection: Connection, index: number) => void): Promise<{ url: string; server: Server; connections: Connection[] }> {
  const connections: Connection[] = [];
  const server = createServer((request, response) => {
    const connection = { request, response };
    connections.push(connection);
    onConnect(connection, connections.length - 1);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/admin/events`, server, connections };
}

function open(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  response.write(': hello\n\n');
}

function until<T>(subscribe: (listener: (value: T) => void) => { dispose(): void }, predicate: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(new Error('timed out'));
    }, timeoutMs);
    const subscription = subscribe((value) => {
      if (!predicate(value)) return;
      clearTimeout(timer);
      subscription.dispose();
      resolve(value);
    });
  });
}

describe('EventStream', () => {
  let server: Server | undefined;
  let stream: EventStream | undefined;
  afterEach(() => {
    stream?.dispose();
    server?.closeAllConnections();
    server?.close();
  });

  it('backs off exponentially with jitter, capped', () => {
    assert.equal(reconnectDelayMs(1, () => 0.5), 1000);
    assert.equal(reconnectDelayMs(3, () => 0.5), 4000);
    assert.equal(reconnectDelayMs(20, () => 0.5), 30_000);
    assert.equal(reconnectDelayMs(1, () => 0), 800);
    assert.equal(reconnectDelayMs(1, () => 1), 1200);
  });

  it('sends the token, delivers typed events, and resumes with Last-Event-ID', async () => {
    const fake = await sseServer(({ response }, index) => {
      open(response);
      if (index === 0) {
        response.write('id: 7\nevent: stats\ndata: {"executions24h":1,"running":0,"failures24h":0,"nextExecution":null}\n\n');
        setTimeout(() => response.destroy(), 50);
      }
    });
    server = fake.server;
    stream = new EventStream({ url: () => fake.url, token: async () => 'tok', log: quiet, delay: () => 20 });
    const events: StreamEvent[] = [];
    stream.onEvent((event) => events.push(event));
    const opened = until<StreamStatus>(stream.onStatus, (status) => status.state === 'open');
    stream.start();
    await opened;
    await until<StreamStatus>(stream.onStatus, (status) => status.state === 'waiting');
    await until<StreamStatus>(stream.onStatus, (status) => status.state === 'open');
    assert.equal(fake.connections.length, 2);
    assert.equal(fake.connections[0].request.headers.authorization, 'Bearer tok');
    assert.equal(fake.connections[0].request.headers['last-event-id'], undefined);
    assert.equal(fake.connections[1].request.headers['last-event-id'], '7');
    assert.deepEqual(events.map((event) => [event.name, event.id]), [['stats', '7']]);
    assert.equal(stream.lastEventId, '7');
  });

  it('reports a refused token with the server\'s sentence and waits before retrying', async () => {
    const fake = await sseServer(({ response }) => {
      response.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ success: false, error: 'Unknown or revoked token: sign in again.' }));
    });
    server = fake.server;
    const delays: number[] = [];
    stream = new EventStream({
      url: () => fake.url,
      token: async () => 'revoked',
      log: quiet,
      delay: (attempt) => {
        delays.push(attempt);
        return 60_000;
      },
    });
    const waiting = until<StreamStatus>(stream.onStatus, (status) => status.state === 'waiting');
    stream.start();
    const status = await waiting;
    assert.deepEqual(status.state === 'waiting' && { code: status.httpStatus, error: status.error }, { code: 401, error: 'Unknown or revoked token: sign in again.' });
    assert.deepEqual(delays, [10], 'a refused token retries at the slowest pace');
  });

  it('stays stopped without a token and reconnects when the server comes back', async () => {
    stream = new EventStream({ url: () => 'http://127.0.0.1:9/api/admin/events', token: async () => undefined, log: quiet });
    const stopped = until<StreamStatus>(stream.onStatus, (status) => status.state === 'stopped');
    stream.start();
    await stopped;
    stream.dispose();

    const fake = await sseServer(({ response }) => open(response));
    const url = fake.url;
    await new Promise((resolve) => fake.server.close(resolve));
    stream = new EventStream({ url: () => url, token: async () => 'tok', log: quiet, delay: () => 50 });
    const waiting = until<StreamStatus>(stream.onStatus, (status) => status.state === 'waiting');
    stream.start();
    await waiting;
    const port = Number(new URL(url).port);
    server = createServer((_request, response) => open(response));
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    await until<StreamStatus>(stream.onStatus, (status) => status.state === 'open');
  });

  it('treats a silent connection as dead', async () => {
    const fake = await sseServer(({ response }) => open(response));
    server = fake.server;
    stream = new EventStream({ url: () => fake.url, token: async () => 'tok', log: quiet, idleTimeoutMs: 200, delay: () => 60_000 });
    stream.start();
    const status = await until<StreamStatus>(stream.onStatus, (candidate) => candidate.state === 'waiting');
    assert.match(status.state === 'waiting' ? status.error : '', /no data/);
  });
});
