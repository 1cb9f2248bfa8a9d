// A PostgreSQL that stops answering (stopped by a signal, a network partition) without closing its
// connections: /health must say so within seconds, as a load balancer's check expects, not wait for the
// statements' 30 s timeout; and the server is healthy again once the database answers (reached through a
// TCP relay the test can freeze: the connections stay open and nothing flows). Stopped longer than the
// statements' timeout (SIGSTOP), no connection may come back from the outage inside a transaction.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { API_PATHS } from '../../../src/shared/api';
import pg from 'pg';
import { api, getExecution, listExecutions, triggerOk, waitForStatus } from '../../support/http';
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

/** The processes of a PostgreSQL cluster: its postmaster and every backend and worker it forked. */
function clusterProcesses(cluster: TestPostgres): number[] {
  const postmaster = Number(readFileSync(join(cluster.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        // The parent pid is the 4th field, after the command name in parentheses (which may hold spaces).
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [postmaster, ...children];
}

describe('a PostgreSQL that stops answering', function () {
  this.timeout(180_000);
  let postgres: TestPostgres | undefined;

  const servers: ServerProcess[] = [];
  const relays: FreezableRelay[] = [];
  const stopped: TestPostgres[] = [];
  const thawLater: number[][] = [];
  after(async () => {
    for (const pid of thawLater.flat()) process.kill(pid, 'SIGCONT');
    for (const relay of relays) relay.thaw();
    for (const server of servers) await server.stop();
    for (const relay of relays) relay.close();
    postgres?.stop();
    for (const cluster of stopped) cluster.stop();
  });

  /** A server on a fresh database reached through a relay the test can freeze. */
  async function relayedServer(crons: Parameters<typeof nodeCron>[]): Promise<{ server: ServerProcess; relay: FreezableRelay; direct: URL }> {
    let base = process.env[TEST_DATABASE_ENV];
    if (!base) {
      postgres ??= await startPostgres();
      base = postgres.baseUrl;
    }
    const direct = new URL(await databaseFor(base, `frozen-store-${process.pid}-${Date.now()}`));
    const relay = new FreezableRelay({ host: direct.hostname, port: Number(direct.port) });
    relays.push(relay);
    const relayed = new URL(direct.toString());
    relayed.hostname = '127.0.0.1';
    relayed.port = String(await relay.listen());
    const server = await startServer({ config: { crons: crons.map((args) => nodeCron(...args)), rateLimits: { perCronSeconds: 0, globalPerMinute: 0 } }, env: { DATABASE_URL: relayed.toString() } });
    servers.push(server);
    return { server, relay, direct };
  }

  it('/health answers 503 degraded within seconds, saying the store does not answer, and 200 once it answers again', async () => {
    const { server, relay } = await relayedServer([['quick', 'console.log("ok")']]);
    assert.equal((await api(server, API_PATHS.health)).status, 200);

    relay.freeze();
    const degraded = await waitFor(async () => {
      const reply = await api(server, API_PATHS.health);
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
    await waitFor(async () => (await api(server, API_PATHS.health)).status === 200 || undefined, '/health to be 200 again once the database answers', 60_000, 200);
  });

  it('a trigger answered 503 because the database did not answer, but committed once it did, runs: the cron is not left "running" with nothing running', async () => {
    const { server, relay } = await relayedServer([['quick', 'console.log("ok")']]);
    relay.freeze();
    // The insert waits in the relay; past the statement timeout the caller gets 503, and the database
    // gets the insert (and commits it) only once thawed.
    const trigger = api(server, API_PATHS.trigger, { body: { cronName: 'quick' } });
    await server.waitForOutput(/Query read timeout/, 120_000);
    const refused = await trigger;
    assert.equal(refused.status, 503, refused.text);
    relay.thaw();
    const ran = await waitFor(async () => {
      const runs = await listExecutions(server, 'cronName=quick&limit=10');
      return runs.length > 0 && runs.every((run) => run.status === 'completed') ? runs : undefined;
    }, 'the run committed after the outage to be run to its end', 60_000, 200);
    assert.ok(ran.length <= 1, `at most the one committed run: ${JSON.stringify(ran)}`);
    await waitForStatus(server, await triggerOk(server, 'quick'), 'completed', 60_000);
  });

  it('an outage longer than the statement timeout: afterwards no request fails on a connection left mid-transaction, and a running job keeps every log line', async () => {
    const LINES = 450;
    const cluster = await startPostgres();
    stopped.push(cluster);
    const direct = new URL(await databaseFor(cluster.baseUrl, 'frozen-store-long'));
    const chattyScript = `let i = 0; const timer = setInterval(() => { console.log("line " + ++i); if (i === ${LINES}) clearInterval(timer); }, 100);`;
    const crons = [nodeCron('quick', 'console.log("ok")'), nodeCron('chatty', chattyScript)];
    const server = await startServer({ config: { crons, rateLimits: { perCronSeconds: 0, globalPerMinute: 0 } }, env: { DATABASE_URL: direct.toString() } });
    servers.push(server);
    const chatty = await triggerOk(server, 'chatty');
    await waitFor(async () => (await api(server, `${API_PATHS.logs(chatty)}?after=0`)).body.lines.length > 0 || undefined, 'the job to print');
    // PostgreSQL stopped by a signal (a frozen VM, a debugger): its own statement timeout fires as it
    // resumes, so the statements in flight fail inside their transactions.
    const frozen = clusterProcesses(cluster);
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    thawLater.push(frozen);
    // Transactions are open on the frozen connections (the job's log lines, the KPIs): they time
    // out on the server's side (query_timeout, 35 s), their ROLLBACK unsent.
    const statsDuringOutage = api(server, API_PATHS.stats);
    await server.waitForOutput(/Query read timeout/, 120_000);
    for (const pid of frozen) process.kill(pid, 'SIGCONT');
    thawLater.splice(0);
    const stats = await statsDuringOutage;
    assert.ok(stats.status === 503 || stats.status === 200, `/stats asked during the outage: ${stats.status} ${stats.text}`);

    await waitForStatus(server, chatty, 'completed', 120_000);
    // Every request after the outage runs on a sound connection: none fails with "current transaction is aborted".
    for (let round = 0; round < 15; round++) {
      const stats = await api(server, API_PATHS.stats);
      assert.equal(stats.status, 200, stats.text);
      const id = await triggerOk(server, 'quick');
      await waitForStatus(server, id, 'completed', 60_000);
    }
    const logs = await api(server, `${API_PATHS.logs(chatty)}?after=0&limit=1000`);
    const lines = logs.body.lines.map((entry: { line: string }) => entry.line);
    assert.deepEqual(lines.filter((line: string) => line.startsWith('[cron-ops]')), [], 'no line replaced by a note');
    assert.equal(lines.filter((line: string) => /^line \d+$/.test(line)).length, LINES, 'every line the job printed is stored');
    assert.equal((await getExecution(server, chatty)).logLinesDropped ?? 0, 0);
    const client = new pg.Client({ connectionString: direct.toString() });
    await client.connect();
    try {
      const broken = await client.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'cron-ops-server' AND state LIKE 'idle in transaction%'");
      assert.equal(broken.rows[0].n, 0, 'no server connection is left inside a transaction');
    } finally {
      await client.end();
    }
  });
});
