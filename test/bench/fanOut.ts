// Figure 2: one execution event delivered to 1,000 SSE clients (p99 from the execution's recorded start,
// the startedAt it carries, to each arrival; from the trigger's POST too), memory per client from the
// server's RSS, and 10,000 clients held. Baseline: a bare node:http
// SSE server (bareSseServer.ts) holding the same clients, fired the same way, interleaved round by round.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { API_PATHS, type CreateTokenReply, type CreateTokenRequest } from '../../src/shared/api';
import { startServer } from '../support/serverProcess';
import { api, connectSse, inBatches, ms, percentile, ratio, rssKb, sleep, stopLater, trigger, type BenchContext, type Benchmark, type SseConnection } from './support';

const CLIENTS = 1000;
const MANY_CLIENTS = 10_000;

/** This process's open-file limit (the server inherits it): each client is a socket on both sides. */
function openFileLimit(): number {
  const match = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return !match || match[1] === 'unlimited' ? Infinity : Number(match[1]);
}
const ROUNDS = 5;
const HOLD_MS = 10_000;

interface Crowd {
  connections: SseConnection[];
  /** Arrival times of execution.started in the current round. */
  arrivals: number[];
  /** The startedAt the round's event carries, as performance.now() time. */
  startedAt?: number;
  errors: number;
}

/** Clients per token: the server's maxStreamsPerToken at its highest (the bench sets it so). */
const STREAMS_PER_TOKEN = 1000;

/** Viewer tokens for `clients` streams, STREAMS_PER_TOKEN each (the server holds at most that many per token). */
async function tokensFor(baseUrl: string, clients: number, prefix: string): Promise<string[]> {
  const tokens: string[] = [];
  for (let index = 0; index < Math.ceil(clients / STREAMS_PER_TOKEN); index++) {
    const reply = await api<CreateTokenReply>(baseUrl, API_PATHS.tokens, 'POST', { name: `${prefix}-${index}`, role: 'viewer' } satisfies CreateTokenRequest);
    if (reply.status !== 201 && reply.status !== 200) throw new Error(`creating a token answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    tokens.push(reply.body.token);
  }
  return tokens;
}

/** `count` SSE clients of `url`, client i on tokens[i / STREAMS_PER_TOKEN] (none: the bench's admin token). */
async function connectCrowd(url: string, count: number, concurrency = 100, tokens: string[] = []): Promise<Crowd> {
  const crowd: Crowd = { connections: [], arrivals: [], errors: 0 };
  await inBatches(Array.from({ length: count }, (_, index) => index), concurrency, async (index) => {
    const token = tokens[Math.floor(index / STREAMS_PER_TOKEN)];
    try {
      const connection = await connectSse(url, (event) => {
        if (event.name !== 'execution.started') return;
        crowd.arrivals.push(event.at);
        crowd.startedAt ??= Date.parse((JSON.parse(event.data) as { execution: { startedAt: string } }).execution.startedAt) - performance.timeOrigin;
      }, token ? { authorization: `Bearer ${token}` } : {});
      crowd.connections.push(connection);
      void connection.closed.then(() => crowd.errors++);
    } catch {
      crowd.errors++;
    }
  });
  return crowd;
}

function closeCrowd(crowd: Crowd): void {
  for (const connection of crowd.connections) {
    void connection.closed.then(() => crowd.errors--);
    connection.close();
  }
}

/**
 * Fires one event and waits until every client of the crowd got it; the latencies from the recorded
 * start the event carries, and from the fire (the POST).
 */
async function round(crowd: Crowd, fire: () => Promise<void>, expected: number, timeoutMs = 30_000): Promise<{ fromStart: number[]; fromPost: number[] }> {
  crowd.arrivals = [];
  crowd.startedAt = undefined;
  const t0 = performance.now();
  await fire();
  const deadline = Date.now() + timeoutMs;
  while (crowd.arrivals.length < expected && Date.now() < deadline) await sleep(5);
  const origin = crowd.startedAt ?? NaN;
  return { fromStart: crowd.arrivals.map((at) => at - origin), fromPost: crowd.arrivals.map((at) => at - t0) };
}

async function startBare(context: BenchContext): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(__dirname, 'bareSseServer.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  context.onCleanup(() => child.kill('SIGKILL'));
  const line = await new Promise<string>((resolveLine, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolveLine);
    child.once('exit', () => reject(new Error('the bare SSE server exited')));
  });
  return { url: `http://127.0.0.1:${line.split(' ')[1]}`, child };
}

export const fanOut: Benchmark = {
  name: 'fanout',
  title: 'Figure 2: event fan-out to SSE clients',
  async run(context) {
    const server = stopLater(
      context,
      await startServer({
        config: {
          crons: [{ name: 'fanout', schedule: '0 0 1 1 *', command: ['/bin/true'], estimatedDurationMs: 10, timeoutMs: 60_000 }],
          rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
          maxStreamsPerToken: STREAMS_PER_TOKEN,
          // The default cap (400) keeps file descriptors bounded; the figure holds 10,000 clients.
          maxConnections: MANY_CLIENTS + 2 * CLIENTS,
        },
      }),
    );
    const bare = await startBare(context);
    const serverPid = server.child.pid!;
    const barePid = bare.child.pid!;
    const fireServer = async () => {
      for (let attempt = 0; attempt < 100; attempt++) {
        const reply = await trigger(server.url, 'fanout');
        if (reply.status === 202) return;
        if (reply.status !== 409) throw new Error(`trigger answered ${reply.status}`);
        await sleep(20);
      }
      throw new Error('the previous run never ended');
    };
    const fireBare = async () => {
      const reply = await api(bare.url, '/fire', 'POST');
      if (reply.status !== 202) throw new Error(`bare fire answered ${reply.status}`);
    };

    await sleep(2000);
    const serverRss0 = rssKb(serverPid);
    const bareRss0 = rssKb(barePid);
    const crowd = await connectCrowd(`${server.url}/api/admin/events`, CLIENTS, 100, await tokensFor(server.url, CLIENTS, 'crowd'));
    const bareCrowd = await connectCrowd(`${bare.url}/events`, CLIENTS);
    if (crowd.connections.length < CLIENTS || bareCrowd.connections.length < CLIENTS) throw new Error(`connected ${crowd.connections.length} and ${bareCrowd.connections.length} of ${CLIENTS}`);
    await sleep(3000);
    const serverPerClient = ((rssKb(serverPid) - serverRss0) * 1024) / CLIENTS;
    const barePerClient = ((rssKb(barePid) - bareRss0) * 1024) / CLIENTS;

    const latencies: number[] = [];
    const bareLatencies: number[] = [];
    const fromPost: number[] = [];
    const bareFromPost: number[] = [];
    let lost = 0;
    // A warm-up round each, then the measured rounds, interleaved.
    for (let index = 0; index <= ROUNDS; index++) {
      const got = await round(crowd, fireServer, CLIENTS);
      const bareGot = await round(bareCrowd, fireBare, CLIENTS);
      if (index === 0) continue;
      lost += CLIENTS - got.fromStart.length;
      latencies.push(...got.fromStart);
      bareLatencies.push(...bareGot.fromStart);
      fromPost.push(...got.fromPost);
      bareFromPost.push(...bareGot.fromPost);
      await sleep(300);
    }
    closeCrowd(crowd);
    closeCrowd(bareCrowd);
    bare.child.kill('SIGKILL');
    const p99 = percentile(latencies, 99);
    const bareP99 = percentile(bareLatencies, 99);
    context.log(`  ${CLIENTS} clients: from the recorded start p50 ${ms(percentile(latencies, 50))} p99 ${ms(p99)}; bare p50 ${ms(percentile(bareLatencies, 50))} p99 ${ms(bareP99)}`);
    context.log(`  ${CLIENTS} clients: from the POST p50 ${ms(percentile(fromPost, 50))} p99 ${ms(percentile(fromPost, 99))}; bare p50 ${ms(percentile(bareFromPost, 50))} p99 ${ms(percentile(bareFromPost, 99))}; memory ${(serverPerClient / 1024).toFixed(1)} KB/client (bare ${(barePerClient / 1024).toFixed(1)})`);

    // 10,000 clients on the same server: connected, each gets an event, all still there after a while.
    // With a low open-file limit, as many as fit, and the row says to raise it (ulimit -n 20000).
    const limit = openFileLimit();
    const manyClients = Math.min(MANY_CLIENTS, limit - 500);
    await sleep(2000);
    const rssBefore = rssKb(serverPid);
    const connectStarted = performance.now();
    const manyTokens = await tokensFor(server.url, manyClients, 'many');
    const many = await connectCrowd(`${server.url}/api/admin/events`, manyClients, 200, manyTokens);
    const connectS = (performance.now() - connectStarted) / 1000;
    const failedToConnect = manyClients - many.connections.length;
    const manyLatencies = (await round(many, fireServer, many.connections.length, 60_000)).fromStart;
    await sleep(HOLD_MS);
    const secondRound = (await round(many, fireServer, many.connections.length, 60_000)).fromStart;
    const perClientMany = ((rssKb(serverPid) - rssBefore) * 1024) / manyClients;
    const dropped = many.errors;
    closeCrowd(many);
    const held = manyClients === MANY_CLIENTS && failedToConnect === 0 && dropped === 0 && manyLatencies.length === MANY_CLIENTS && secondRound.length === MANY_CLIENTS;
    const health = await api(server.url, '/health');
    context.log(`  ${manyClients} clients: connected in ${connectS.toFixed(1)} s, ${failedToConnect} failed, ${dropped} dropped, events ${manyLatencies.length} and ${secondRound.length}, p99 ${ms(percentile(manyLatencies, 99))}`);

    return [
      {
        figure: '2',
        what: `execution.started -> all ${CLIENTS} SSE clients, from the recorded start, p99 (p50), ${ROUNDS} events`,
        value: `${ms(p99)} (${ms(percentile(latencies, 50))})${lost ? `, ${lost} not delivered` : ''}; from the POST ${ms(percentile(fromPost, 99))}`,
        baseline: `bare node:http SSE ${ms(bareP99)} (${ms(percentile(bareLatencies, 50))}); from the POST ${ms(percentile(bareFromPost, 99))}`,
        ratio: ratio(p99, bareP99),
        goal: 'p99 ≤ 100 ms',
        met: p99 <= 100 && lost === 0,
      },
      {
        figure: '2',
        what: `memory per connected client (server RSS before/after ${manyClients.toLocaleString('en')} clients)`,
        value: `${(perClientMany / 1024).toFixed(1)} KB (${(serverPerClient / 1024).toFixed(1)} KB at ${CLIENTS})`,
        baseline: `bare node:http SSE ${(barePerClient / 1024).toFixed(1)} KB at ${CLIENTS}`,
        ratio: ratio(perClientMany, barePerClient),
        goal: '≤ 20 KB',
        met: perClientMany > 0 && perClientMany <= 20 * 1024,
        note: 'the RSS of the server moves with its GC: the delta over 10,000 clients is the figure, the one over 1,000 is noise-prone',
      },
      {
        figure: '2',
        what: `${manyClients.toLocaleString('en')} SSE clients held ${HOLD_MS / 1000} s`,
        value: `${many.connections.length} connected in ${connectS.toFixed(1)} s, ${dropped} dropped, 2 events to all: p99 ${ms(percentile(manyLatencies, 99))} / ${ms(percentile(secondRound, 99))}; /health ${health.status}`,
        baseline: '—',
        ratio: '—',
        goal: '10,000 clients, no errors',
        met: held && health.status === 200,
        note: manyClients < MANY_CLIENTS ? `the open-file limit (${limit}) allows ${manyClients} clients: raise it with \`ulimit -n 20000\` before npm run bench` : undefined,
      },
    ];
  },
};
