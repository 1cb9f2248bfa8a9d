// What every benchmark shares: the figure rows it reports, percentiles, a lean HTTP client, a lean SSE
// client (thousands of them fit in one process), and process readings from /proc.
import { Agent, request, type IncomingMessage } from 'node:http';
import { readFileSync, rmSync } from 'node:fs';
import { startPostgres, type TestPostgres } from '../support/postgres';
import { TEST_ADMIN_TOKEN, type ServerProcess } from '../support/serverProcess';

/** One line of the final table. `met` is undefined for a figure with no goal (informative). */
export interface FigureRow {
  figure: string;
  what: string;
  value: string;
  baseline: string;
  ratio: string;
  goal: string;
  met?: boolean;
  note?: string;
}

export interface BenchContext {
  /** A real PostgreSQL server, started on first use and stopped with the benchmark's cleanup. */
  postgres(): Promise<TestPostgres>;
  /** Called on the way out, crash or not (servers, temporary folders, child processes). */
  onCleanup(work: () => Promise<unknown> | unknown): void;
  log(message: string): void;
}

export interface Benchmark {
  name: string;
  title: string;
  run(context: BenchContext): Promise<FigureRow[]>;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export const ms = (value: number, digits = 1) => (Number.isFinite(value) ? `${value.toFixed(digits)} ms` : 'n/a');
export const ratio = (value: number, baseline: number) => (baseline > 0 && Number.isFinite(value) ? `${(value / baseline).toFixed(2)}×` : 'n/a');
export const sleep = (delayMs: number) => new Promise((resolveDelay) => setTimeout(resolveDelay, delayMs));

export function createContext(log: (message: string) => void): BenchContext & { cleanup(): Promise<void> } {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  let postgres: Promise<TestPostgres> | undefined;
  return {
    log,
    onCleanup: (work) => cleanups.push(work),
    postgres() {
      postgres ??= startPostgres().then((server) => {
        cleanups.push(() => {
          postgres = undefined;
          server.stop();
        });
        return server;
      });
      return postgres;
    },
    async cleanup() {
      for (const work of cleanups.splice(0).reverse()) {
        try {
          await work();
        } catch (error) {
          log(`cleanup: ${String(error)}`);
        }
      }
    },
  };
}

export function removeLater(context: BenchContext, path: string): string {
  context.onCleanup(() => rmSync(path, { recursive: true, force: true }));
  return path;
}

export function stopLater(context: BenchContext, server: ServerProcess): ServerProcess {
  context.onCleanup(() => server.stop());
  return server;
}

// --- HTTP -----------------------------------------------------------------------------------------

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

export interface Reply<T> {
  status: number;
  body: T;
}

/**
 * A JSON call with the test admin token over a keep-alive connection (less client noise than fetch);
 * fails after `timeoutMs`, so a saturated server cannot hold a benchmark forever.
 */
export function api<T = any>(baseUrl: string, path: string, method = 'GET', body?: unknown, timeoutMs = 30_000): Promise<Reply<T>> { // any: each caller reads the reply it expects
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolveReply, reject) => {
    const call = request(
      baseUrl + path,
      {
        method,
        agent,
        headers: {
          authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          try {
            resolveReply({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
          } catch {
            resolveReply({ status: response.statusCode ?? 0, body: text as T });
          }
        });
        response.on('error', reject);
      },
    );
    call.setTimeout(timeoutMs, () => call.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    call.on('error', reject);
    call.end(payload);
  });
}

export const trigger = (baseUrl: string, cronName: string) =>
  api<{ success: boolean; executionId?: string; error?: string }>(baseUrl, '/api/admin/cron-executions/trigger', 'POST', { cronName });

// --- SSE ------------------------------------------------------------------------------------------

export interface SseEvent {
  name: string;
  data: string;
  /** performance.now() when the block was parsed. */
  at: number;
}

export interface SseConnection {
  close(): void;
  /** Resolves when the connection ends, for whatever reason. */
  closed: Promise<string>;
}

/**
 * A bare SSE reader on node:http: one socket, no buffering beyond the current block, the arrival time of
 * each event. Light enough for 10,000 connections in one process.
 */
export function connectSse(url: string, onEvent: (event: SseEvent) => void, headers: Record<string, string> = {}): Promise<SseConnection> {
  return new Promise((resolveConnection, reject) => {
    let response: IncomingMessage | undefined;
    let settleClosed: (reason: string) => void = () => undefined;
    const closed = new Promise<string>((resolveClosed) => (settleClosed = resolveClosed));
    const call = request(url, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, accept: 'text/event-stream', ...headers }, agent: false }, (incoming) => {
      response = incoming;
      if (incoming.statusCode !== 200) {
        incoming.resume();
        reject(new Error(`SSE: HTTP ${incoming.statusCode}`));
        return;
      }
      incoming.setEncoding('utf8');
      let buffer = '';
      incoming.on('data', (chunk: string) => {
        const at = performance.now();
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let name = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) name = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) onEvent({ name, data, at });
        }
      });
      incoming.on('close', () => settleClosed('closed'));
      incoming.on('error', (error) => settleClosed(String(error)));
      resolveConnection({ close: () => call.destroy(), closed });
    });
    call.on('error', (error) => {
      settleClosed(String(error));
      reject(error);
    });
    call.end();
    void response;
  });
}

// --- /proc ------------------------------------------------------------------------------------------

/** Resident set size in KB (VmRSS). */
export function rssKb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : NaN;
}

/** CPU time used so far by the process (user + system), in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the command name; clock ticks of 10 ms.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Runs `work` over each item with at most `limit` in flight. */
export async function inBatches<T>(items: T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index], index);
      }
    }),
  );
}
