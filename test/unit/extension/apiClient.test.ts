import { strict as assert } from 'node:assert';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient, ApiError } from '../../../src/extension/apiClient';

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

async function fakeServer(handler: Handler): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => handler(request, body, response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApiError, String(error));
    return error;
  }
  assert.fail('expected an ApiError');
}

describe('ApiClient', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('sends the token and the body, and returns the reply', async () => {
    let seen: { auth?: string; body?: string; url?: string } = {};
    const fake = await fakeServer((request, body, response) => {
      seen = { auth: request.headers.authorization, body, url: request.url };
      json(response, 202, { success: true, cronName: 'monitor-openai', executionId: 'e1', estimatedDuration: 5000 });
    });
    server = fake.server;
    const client = new ApiClient(() => fake.url + '/', async () => 'secret-token');
    const reply = await client.trigger('monitor-openai', { batchSize: 3 });
    assert.equal(reply.executionId, 'e1');
    assert.deepEqual(seen, { auth: 'Bearer secret-token', body: '{"cronName":"monitor-openai","params":{"batchSize":3}}', url: '/api/admin/cron-executions/trigger' });
  });

  it('passes query parameters and leaves out empty ones', async () => {
    let url = '';
    const fake = await fakeServer((request, _body, response) => {
      url = request.url ?? '';
      json(response, 200, { from: 'a', to: 'b', executions: [] });
    });
    server = fake.server;
    await new ApiClient(() => fake.url, async () => 't').timeline({ days: 7, cronName: null, status: 'failed' });
    assert.equal(url, '/api/admin/cron-executions/timeline?days=7&status=failed');
  });

  it('maps a refusal to an ApiError with the status, the reply and a sentence', async () => {
    const fake = await fakeServer((_request, _body, response) =>
      json(response, 429, { success: false, error: 'Rate limit reached', retryAfterS: 12, cronName: 'check-alerts' }),
    );
    server = fake.server;
    const error = await failure(new ApiClient(() => fake.url, async () => 't').trigger('check-alerts'));
    assert.equal(error.status, 429);
    assert.equal(error.reply?.retryAfterS, 12);
    assert.equal(error.message, 'check-alerts can be triggered again in 12 sec (limit on manual runs).');
  });

  it('says the server is down, with its URL, when nothing listens', async () => {
    const fake = await fakeServer(() => undefined);
    const url = fake.url;
    await new Promise((resolve) => fake.server.close(resolve));
    const error = await failure(new ApiClient(() => url, async () => 't').crons());
    assert.equal(error.status, undefined);
    assert.equal(error.isUnreachable, true);
    assert.match(error.message, new RegExp(`Cannot reach the Cron Ops server at ${url.replace(/\./g, '\\.')} \\(ECONNREFUSED\\)`));
  });

  it('gives up after the timeout', async () => {
    const fake = await fakeServer(() => undefined);
    server = fake.server;
    const client = new ApiClient(() => fake.url, async () => 't');
    client.timeoutMs = 200;
    const error = await failure(client.stats());
    assert.equal(error.kind, 'timeout');
    assert.equal(error.status, undefined);
    server.closeAllConnections();
  });

  it('refuses a reply that is not Cron Ops JSON', async () => {
    const fake = await fakeServer((request, _body, response) => {
      if (request.url === '/api/admin/crons') response.writeHead(200, { 'content-type': 'text/html' }).end('<html>proxy login</html>');
      else json(response, 200, { hello: 'world' });
    });
    server = fake.server;
    const client = new ApiClient(() => fake.url, async () => 't');
    const html = await failure(client.crons());
    assert.equal(html.kind, 'malformed');
    assert.match(html.message, /not Cron Ops JSON/);
    const wrongShape = await failure(client.stats());
    assert.equal(wrongShape.kind, 'malformed');
  });

  it('reads /health without a token and accepts its 503 "degraded"', async () => {
    let auth: string | undefined = 'unset';
    const fake = await fakeServer((request, _body, response) => {
      auth = request.headers.authorization;
      json(response, 503, { status: 'degraded', version: '0.1.0', store: 'pglite', runnerId: 'h', uptimeS: 1 });
    });
    server = fake.server;
    const health = await new ApiClient(() => fake.url, async () => 't').health();
    assert.equal(health.status, 'degraded');
    assert.equal(auth, undefined);
  });
});
