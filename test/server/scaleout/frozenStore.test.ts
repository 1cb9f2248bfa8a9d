// A PostgreSQL that stops answering (stopped by a signal, a network partition) without closing its
// connections: /health must say so within seconds, as a load balancer's check expects, not wait for the
// statements' 30 s timeout; and the server is healthy again once the database answers. The database is
// reached through a TCP relay the test can freeze: the connections stay open and nothing flows.
import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { API_PATHS } from '../../../src/shared/api';
import { api } from '../../support/http';
import { databaseFor, startPostgres, TEST_DATABASE_ENV, type TestPostgres } from '../../support/postgres';
import { nodeCron, startServer, type ServerProcess } from '../../support/serverProcess';
import { waitFor } from '../../support/waitFor';

/** Forwards connections to `target`; frozen, it holds every byte (both ways) until thawed. */
class FreezableRelay {
  private readonly sockets = new Set<Socket>();
  private frozen = false;
  private readonly server: Server;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => {
      const upstream = createConnection(this.target);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
        if (this.frozen) socket.pause();
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  listen(): Promise<number> {
    return new Promise((resolveListen) => this.server.listen(0, '127.0.0.1', () => resolveListen((this.server.address() as { port: number }).port)));
  }

  freeze(): void {
    this.frozen = true;
    for (const socket of this.sockets) socket.pause();
  }

  thaw(): void {
    this.frozen = false;
    for (const socket of this.sockets) socket.resume();
  }

  close(): void {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
  }
}

describe('a PostgreSQL that stops answering', function () {
  this.timeout(180_000);
  let postgres: TestPostgres | undefined;
  let relay: FreezableRelay | undefined;
  let server: ServerProcess | undefined;

  after(async () => {
    relay?.thaw();
    await server?.stop();
    relay?.close();
    postgres?.stop();
  });

  it('/health answers 503 degraded within seconds, saying the store does not answer, and 200 once it answers again', async () => {
    let base = process.env[TEST_DATABASE_ENV];
    if (!base) {
      postgres = await startPostgres();
      base = postgres.baseUrl;
    }
    const direct = new URL(await databaseFor(base, `frozen-store-${process.pid}-${Date.now()}`));
    relay = new FreezableRelay({ host: direct.hostname, port: Number(direct.port) });
    const relayed = new URL(direct.toString());
    relayed.hostname = '127.0.0.1';
    relayed.port = String(await relay.listen());
    server = await startServer({ config: { crons: [nodeCron('quick', 'console.log("ok")')] }, env: { DATABASE_URL: relayed.toString() } });
    assert.equal((await api(server, API_PATHS.health)).status, 200);

    relay.freeze();
    const degraded = await waitFor(async () => {
      const reply = await api(server!, API_PATHS.health);
      return reply.status === 503 ? reply : undefined;
    }, '/health to report the store', 60_000, 200);
    assert.equal(degraded.body.status, 'degraded');
    assert.match(degraded.body.reason, /did not answer a write within 2 s \(PostgreSQL stopped, overloaded or unreachable\).*Check the database/);
    // (The statements' own 30 s timeout would have said "refuses writes: Query read timeout".)
    // Asked again while the probe still hangs: the same answer, without a second probe piling up.
    const again = await api(server, API_PATHS.health);
    assert.equal(again.status, 503);
    assert.match(again.body.reason, /did not answer a write/);

    relay.thaw();
    await waitFor(async () => (await api(server!, API_PATHS.health)).status === 200 || undefined, '/health to be 200 again once the database answers', 60_000, 200);
  });
});
