// Figure 4: the 7-day timeline at 100,000 executions.
// - The endpoint: GET /api/admin/cron-executions/timeline?days=7 on the real backend (embedded PGlite store
//   seeded by seed.ts), p50 over SAMPLES calls and the payload's size. Baseline: the store's own timeline()
//   (the same SQL and row mapping, no HTTP, no JSON) run in this process with PGlite on a copy of the same
//   data folder; /health on the same server is logged as the HTTP floor.
// - The render: the dashboard page (the real HTML shell from dashboardHtml(), dist/webview.js and
//   media/dashboard.css under the same CSP, served from loopback) in headless Chromium, with a stub
//   acquireVsCodeApi (VS Code's side of the boundary). The extension's `config` and `state` go in, then the
//   100,000-run `timeline` message built as the extension builds it (toTimelineColumns of the endpoint's
//   reply): timed in the page from window.postMessage (the structured clone included, as in VS Code) to the
//   `rendered` message the page posts back once the chart is drawn. Baseline: a 1-run timeline in the same
//   page. Each sample is a fresh page load (the first timeline a newly opened dashboard draws).
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { dashboardHtml } from '../../src/extension/dashboard/dashboardHtml';
import type { Cron, Stats, TimelineReply } from '../../src/shared/api';
import { toTimelineColumns, type ToWebview } from '../../src/shared/messages';
import { createLogger } from '../../src/server/logger';
import { openSqlite, SQLITE_FILE } from '../../src/server/store/db';
import { ExecutionStore } from '../../src/server/store/executionStore';
import { REPO_ROOT, startServer, TEST_ADMIN_TOKEN, writeConfig } from '../support/serverProcess';
import { demoConfig, seedSqliteFolder } from './seed';
import { api, ms, percentile, ratio, removeLater, stopLater, type BenchContext, type Benchmark, type FigureRow } from './support';

const EXECUTIONS = 100_000;
const DAYS = 7;
const SAMPLES = 20;
const WARMUP = 3;
const RENDER_SAMPLES = 5;
const TIMELINE_PATH = `/api/admin/cron-executions/timeline?days=${DAYS}`;
const CHROMIUM = process.env.CRON_OPS_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const MB = 1024 * 1024;

/** The raw body of a GET (bytes as sent) and how long it took, over a fresh keep-alive-free request. */
async function timedBody(baseUrl: string, path: string): Promise<{ ms: number; bytes: Buffer; status: number }> {
  const started = performance.now();
  const response = await fetch(baseUrl + path, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { ms: performance.now() - started, bytes, status: response.status };
}

interface EndpointResult {
  rows: FigureRow[];
  reply: TimelineReply;
  crons: Cron[];
  stats: Stats;
}

async function endpoint(context: BenchContext, dataDir: string): Promise<EndpointResult> {
  const seeded = await seedSqliteFolder(join(dataDir, 'server'), { count: EXECUTIONS, days: DAYS, running: 2 });
  context.log(`  seeded ${seeded.inserted} executions over ${DAYS} days in ${(seeded.ms / 1000).toFixed(1)} s`);
  cpSync(join(dataDir, 'server'), join(dataDir, 'copy'), { recursive: true });
  const server = stopLater(context, await startServer({ config: writeConfig(demoConfig()), args: ['--data', join(dataDir, 'server')], timeoutMs: 120_000 }));
  const db = await openSqlite({ file: join(dataDir, 'copy', SQLITE_FILE), log: createLogger({ level: 'error' }) });
  const store = new ExecutionStore(db, () => undefined);
  try {
    const viaApi: number[] = [];
    const raw: number[] = [];
    const health: number[] = [];
    let body: Buffer | undefined;
    for (let index = 0; index < WARMUP + SAMPLES; index++) {
      const reply = await timedBody(server.url, TIMELINE_PATH);
      if (reply.status !== 200) throw new Error(`timeline answered ${reply.status}: ${reply.bytes.toString().slice(0, 200)}`);
      let t0 = performance.now();
      const rows = await store.timeline({ days: DAYS });
      const rawMs = performance.now() - t0;
      t0 = performance.now();
      const healthReply = await api(server.url, '/health');
      const healthMs = performance.now() - t0;
      if (healthReply.status !== 200) throw new Error(`/health answered ${healthReply.status}`);
      if (index === 0) context.log(`  endpoint: ${reply.bytes.length} bytes; raw query ${rows.executions.length} rows`);
      body = reply.bytes;
      if (index < WARMUP) continue;
      viaApi.push(reply.ms);
      raw.push(rawMs);
      health.push(healthMs);
    }
    const parsed = JSON.parse(body!.toString()) as TimelineReply;
    const crons = (await api<{ crons: Cron[] }>(server.url, '/api/admin/crons')).body.crons;
    const stats = (await api<Stats>(server.url, '/api/admin/cron-executions/stats')).body;
    const p50 = percentile(viaApi, 50);
    const rawP50 = percentile(raw, 50);
    const healthP50 = percentile(health, 50);
    context.log(
      `  endpoint p50 ${ms(p50)} p99 ${ms(percentile(viaApi, 99))}; store.timeline() in process p50 ${ms(rawP50)}; /health p50 ${ms(healthP50, 2)}`,
    );
    // What the payload would weigh in other encodings (informative, for the missed-goal analysis).
    const columnsJson = Buffer.byteLength(JSON.stringify({ from: parsed.from, to: parsed.to, ...toTimelineColumns(parsed.executions) }));
    const gzipped = gzipSync(body!, { level: 6 }).length;
    context.log(
      `  payload ${(body!.length / MB).toFixed(2)} MB (${(body!.length / parsed.executions.length).toFixed(0)} B/run); as columns ${(columnsJson / MB).toFixed(2)} MB; gzip of the reply ${(gzipped / MB).toFixed(2)} MB`,
    );
    const rowsOut: FigureRow[] = [
      {
        figure: '4',
        what: `timeline endpoint, ${parsed.executions.length.toLocaleString('en')} executions over ${DAYS} days, embedded store, p50`,
        value: ms(p50),
        baseline: `store.timeline() in process ${ms(rawP50)} (/health ${ms(healthP50, 2)})`,
        ratio: ratio(p50, rawP50),
        goal: '≤ 300 ms',
        met: p50 <= 300,
      },
      {
        figure: '4',
        what: 'timeline payload (JSON, uncompressed)',
        value: `${(body!.length / MB).toFixed(2)} MB`,
        baseline: `as columns ${(columnsJson / MB).toFixed(2)} MB, gzip ${(gzipped / MB).toFixed(2)} MB`,
        ratio: `${(body!.length / columnsJson).toFixed(2)}×`,
        goal: '≤ 4 MB',
        met: body!.length <= 4 * MB,
      },
    ];
    return { rows: rowsOut, reply: parsed, crons, stats };
  } finally {
    await db.close();
    await server.stop();
  }
}

// --- render ------------------------------------------------------------------------------------------

const NONCE = 'YmVuY2gtbm9uY2UtMDEyMzQ1Njc4OQ==';

/** VS Code's side of the webview boundary: postMessage into a queue the benchmark reads, no saved state. */
const STUB_API = `
window.__bench = { posts: [], problems: [], waiter: null };
window.acquireVsCodeApi = () => ({
  postMessage(message) {
    const at = performance.now();
    window.__bench.posts.push(message.type);
    if (message.type === 'problem') window.__bench.problems.push(message.message);
    const waiter = window.__bench.waiter;
    if (waiter && waiter.accept(message)) { window.__bench.waiter = null; waiter.resolve({ message, at }); }
  },
  getState() { return undefined; },
  setState() {},
});`;

/** Serves the page, the bundle and the stylesheet on loopback; the policy names this origin as cspSource. */
async function servePage(context: BenchContext): Promise<string> {
  const files: Record<string, { type: string; body: Buffer }> = {
    '/webview.js': { type: 'text/javascript', body: readFileSync(join(REPO_ROOT, 'dist', 'webview.js')) },
    '/dashboard.css': { type: 'text/css', body: readFileSync(join(REPO_ROOT, 'media', 'dashboard.css')) },
  };
  const server: Server = createServer((request, response) => {
    const file = request.url === '/' ? files['/index.html'] : files[request.url ?? ''];
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body);
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  context.onCleanup(() => new Promise((resolveClose) => server.close(resolveClose)));
  const address = server.address();
  const origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const html = dashboardHtml({ cspSource: origin, nonce: NONCE, scriptUri: `${origin}/webview.js`, styleUri: `${origin}/dashboard.css`, title: 'Cron Ops', lang: 'en' });
  const withStub = html.replace('<script nonce=', `<script nonce="${NONCE}">${STUB_API}</script>\n<script nonce=`);
  if (withStub === html) throw new Error('the dashboard HTML has no script tag to put the stub before');
  files['/index.html'] = { type: 'text/html', body: Buffer.from(withStub) };
  return origin + '/';
}

interface Rendered {
  /** window.postMessage(timeline) -> `rendered` posted, in ms. */
  renderedMs: number;
  /** ... -> the next animation frame after `rendered` (the painted frame), in ms. */
  frameMs: number;
  /** The page's own measure of chart build + update. */
  pageRenderMs: number;
  executions: number | null;
  marks: number;
}

/** Loads the page afresh, sends config and state, then times one timeline message. */
async function renderOnce(page: Page, url: string, setup: ToWebview[], timeline: ToWebview, expected: number): Promise<Rendered> {
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as any).__bench?.posts.includes('ready')); // any: the stub's globals
  await page.evaluate(async (messages) => {
    const bench = (globalThis as any).__bench; // any: the stub's globals
    const done = new Promise((resolve) => (bench.waiter = { accept: (message: any) => message.type === 'rendered', resolve })); // any: FromWebview
    for (const message of messages) (globalThis as any).postMessage(message, '*');
    await done;
  }, setup);
  await page.evaluate((message) => ((globalThis as any).__bench.pending = message), timeline); // any: the stub's globals
  const result = await page.evaluate(async (count) => {
    const bench = (globalThis as any).__bench; // any: the stub's globals
    const message = bench.pending;
    bench.pending = null;
    const done = new Promise<{ message: any; at: number }>((resolve) => (bench.waiter = { accept: (posted: any) => posted.type === 'rendered' && posted.view.executions === count, resolve })); // any: FromWebview
    const started = performance.now();
    (globalThis as any).postMessage(message, '*');
    const rendered = await done;
    const frame = await new Promise<number>((resolve) => (globalThis as any).requestAnimationFrame(() => resolve(performance.now())));
    return { renderedMs: rendered.at - started, frameMs: frame - started, pageRenderMs: rendered.message.view.renderMs, executions: rendered.message.view.executions, marks: rendered.message.view.marks, problems: bench.problems };
  }, expected);
  if (result.problems.length) throw new Error(`the page reported: ${result.problems.join('; ')}`);
  return result;
}

async function render(context: BenchContext, data: EndpointResult): Promise<FigureRow[]> {
  const url = await servePage(context);
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  context.onCleanup(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.on('pageerror', (error) => context.log(`  page error: ${error.message}`));
  const setup: ToWebview[] = [
    { type: 'config', locale: 'en', strings: {} },
    { type: 'state', crons: data.crons, stats: data.stats, connection: 'connected', error: null, now: Date.now(), canAct: true },
  ];
  const filter = { cronName: null, status: null };
  const full: ToWebview = { type: 'timeline', filter, range: null, from: data.reply.from, to: data.reply.to, columns: toTimelineColumns(data.reply.executions) };
  const single: ToWebview = { type: 'timeline', filter, range: null, from: data.reply.from, to: data.reply.to, columns: toTimelineColumns(data.reply.executions.slice(-1)) };
  const count = data.reply.executions.length;
  const big: Rendered[] = [];
  const small: Rendered[] = [];
  // One warm-up of each (Chromium's caches, V8's code), then alternate so drift hits both alike.
  await renderOnce(page, url, setup, single, 1);
  await renderOnce(page, url, setup, full, count);
  for (let index = 0; index < RENDER_SAMPLES; index++) {
    small.push(await renderOnce(page, url, setup, single, 1));
    big.push(await renderOnce(page, url, setup, full, count));
  }
  const p = (values: Rendered[], key: keyof Rendered) => percentile(values.map((value) => value[key] as number), 50);
  const bigMs = p(big, 'renderedMs');
  const smallMs = p(small, 'renderedMs');
  context.log(
    `  render ${count} runs (${big[0].marks} marks): rendered p50 ${ms(bigMs)} (all ${big.map((value) => value.renderedMs.toFixed(0)).join(', ')}), next frame p50 ${ms(p(big, 'frameMs'))}, chart build+update in page p50 ${ms(p(big, 'pageRenderMs'))}`,
  );
  context.log(`  render 1 run: rendered p50 ${ms(smallMs)}, next frame p50 ${ms(p(small, 'frameMs'))}, chart build+update p50 ${ms(p(small, 'pageRenderMs'))}`);
  return [
    {
      figure: '4',
      what: `dashboard render in headless Chromium, ${count.toLocaleString('en')}-run timeline message -> \`rendered\` (chart drawn), p50 of ${RENDER_SAMPLES} fresh pages`,
      value: ms(bigMs),
      baseline: `1-run timeline ${ms(smallMs)}`,
      ratio: ratio(bigMs, smallMs),
      goal: '≤ 1 s',
      met: bigMs <= 1000,
      note: `next painted frame at ${ms(p(big, 'frameMs'))}; ${big[0].marks} marks drawn for ${count} runs`,
    },
  ];
}

export const timeline: Benchmark = {
  name: 'timeline',
  title: 'Figure 4: the 7-day timeline at 100,000 executions (endpoint, payload, render)',
  async run(context) {
    const dataDir = removeLater(context, mkdtempSync(join(tmpdir(), 'cron-ops-bench-timeline-')));
    const data = await endpoint(context, dataDir);
    return [...data.rows, ...(await render(context, data))];
  },
};
