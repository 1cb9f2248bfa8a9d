// `npm run test:vscode`: runs the mocha suite of test/vscode/ inside a real VS Code extension host, offline.
//
// code-server (VS Code 1.100.3 as a server, installed once into .vscode-test/) serves the workbench on a free
// loopback port; Debian's Chromium, driven by playwright-core, opens it with a payload naming this repository as
// the extension under development and out/test/vscode/index.js as the tests. The extension host runs them and
// the page calls window.codeAutomationExit(code) when run() settles: that code is this script's exit code.
//
// Talking to the suite inside the host goes through files in a per-run folder whose path reaches the host as
// CRON_OPS_HARNESS_DIR (code-server's environment is inherited by its extension host), see protocol.ts:
// - mocha's report is written there line by line and streamed to this script's stdout as it grows;
// - screenshots: a test calls requestScreenshot(name, {selector?, waitForSelector?}) from protocol.ts; it drops
//   a request file, this script captures the page (or one part of it) into .vscode-test/screenshots/<name>.png
//   and answers with a reply file. The test decides when the UI shows what is worth capturing (the tree after
//   it loaded, the dashboard after it drew), which the harness cannot know from outside.
// Everything started here (code-server and its children, Chromium) is stopped on success, failure, timeout
// (CRON_OPS_VSCODE_TIMEOUT_MS, default 10 minutes for the run, install not counted) and SIGINT/SIGTERM.
// `npm run test:vscode -- --grep TEXT` runs only the tests whose full title matches.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureCodeServer, isAlive } from './install';
import { GREP_ENV, HARNESS_DIR_ENV, REPORT_FILE, RESULTS_FILE, SCREENSHOT_REQUESTS_DIR, type ScreenshotReply, type ScreenshotRequest, type SuiteResults } from './protocol';

const REPO_ROOT = (() => {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'esbuild.mjs'))) return dir;
  throw new Error(`cannot find the repository root above ${__dirname}`);
})();
const CACHE_DIR = join(REPO_ROOT, '.vscode-test');
const SCREENSHOTS_DIR = join(CACHE_DIR, 'screenshots');
const TESTS_ENTRY = join(REPO_ROOT, 'out', 'test', 'vscode', 'index.js');
const RUN_TIMEOUT_MS = Number(process.env.CRON_OPS_VSCODE_TIMEOUT_MS ?? 10 * 60_000);
const CHROMIUM = process.env.CRON_OPS_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const GREP = (() => {
  const index = process.argv.indexOf('--grep');
  return index >= 0 ? process.argv[index + 1] : process.env[GREP_ENV];
})();
const VIEWPORT = { width: 1400, height: 900 };
// Quiet, deterministic workbench: no welcome page, tips, update checks or chat panel in the screenshots.
const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'telemetry.telemetryLevel': 'off',
  'git.enabled': false,
  'chat.commandCenter.enabled': false,
  'chat.disableAIFeatures': true,
  'window.commandCenter': false,
};

const log = (message: string) => console.log(`[harness] ${message}`);

class Timeout extends Error {}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

function tail(text: string, lines: number): string {
  const all = text.split('\n');
  return (all.length > lines ? [`… (${all.length - lines} earlier lines)`] : []).concat(all.slice(-lines)).join('\n');
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((file) => join(dir, file))
    .filter((path) => statSync(path).isFile());
}

/** code-server in its own process group, so stopping it also stops its extension host and what the tests spawned. */
class CodeServer {
  private output = '';
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(entry: string, args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [entry, ...args], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-200_000);
      for (const wake of this.waiters) wake();
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = new Promise((resolveExit) =>
      this.child.on('exit', (code) => {
        for (const wake of this.waiters) wake();
        resolveExit(code);
      }),
    );
  }

  get log(): string {
    return this.output;
  }

  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void> {
    return new Promise((resolveLine, reject) => {
      const check = () => {
        if (pattern.test(this.output)) done(resolveLine);
        else if (this.child.exitCode !== null || this.child.signalCode !== null) done(() => reject(new Error(`code-server exited before printing ${pattern}:\n${tail(this.output, 60)}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`code-server did not print ${pattern} within ${timeoutMs} ms:\n${tail(this.output, 60)}`))), timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.killGroup('SIGKILL');
    this.killGroup('SIGTERM');
    const timer = setTimeout(() => this.killGroup('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
    // The group may outlive its leader (an extension host or a backend still shutting down).
    this.killGroup('SIGKILL');
  }

  private killGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      // already gone
    }
  }
}

/** Streams the suite's report file to stdout as the extension host appends to it. */
class ReportStream {
  private offset = 0;
  constructor(private readonly path: string) {}

  pump(): void {
    if (!existsSync(this.path)) return;
    const content = readFileSync(this.path);
    if (content.length < this.offset) this.offset = 0; // rewritten by a new run()
    if (content.length > this.offset) process.stdout.write(content.subarray(this.offset));
    this.offset = content.length;
  }
}

/** Answers the suite's screenshot requests (see protocol.ts), one at a time, in the order seen. */
class ScreenshotService {
  private readonly handled = new Set<string>();
  private queue = Promise.resolve();

  constructor(private readonly page: Page, private readonly requestsDir: string) {}

  scan(): void {
    for (const file of readdirSync(this.requestsDir)) {
      if (!file.endsWith('.json') || file.endsWith('.done.json')) continue;
      const name = file.slice(0, -'.json'.length);
      const request = join(this.requestsDir, file);
      const stamp = `${name}@${statSync(request).mtimeMs}`;
      if (this.handled.has(stamp)) continue;
      this.handled.add(stamp);
      this.queue = this.queue.then(() => this.take(name, request));
    }
  }

  async idle(): Promise<void> {
    await this.queue;
  }

  private async take(name: string, requestPath: string): Promise<void> {
    let reply: ScreenshotReply;
    try {
      const request = JSON.parse(readFileSync(requestPath, 'utf8')) as ScreenshotRequest;
      rmSync(requestPath, { force: true });
      const path = join(SCREENSHOTS_DIR, `${name}.png`);
      if (request.waitForSelector) await this.page.locator(request.waitForSelector).first().waitFor({ state: 'visible', timeout: 15_000 });
      if (request.selector) await this.page.locator(request.selector).first().screenshot({ path, timeout: 15_000 });
      else await this.page.screenshot({ path });
      log(`screenshot ${relative(REPO_ROOT, path)}`);
      reply = { path };
    } catch (error) {
      reply = { error: (error as Error).message.split('\n')[0] };
      log(`screenshot ${name} failed: ${reply.error}`);
    }
    writeFileSync(join(this.requestsDir, `${name}.done.json`), JSON.stringify(reply));
  }
}

function printFailedTests(results: SuiteResults | undefined): void {
  if (!results?.failed.length) return;
  console.log('\n[harness] failed tests:');
  for (const failure of results.failed) {
    const reason = failure.error.split('\n').filter((line) => line.trim()).slice(0, 3).join('\n      ');
    console.log(`  ✗ ${failure.title}\n      ${reason}`);
  }
}

/** Prints what explains a failure: failed tests, the extension host's logs, the page's console, code-server's output. */
function printDiagnostics(results: SuiteResults | undefined, userDataDir: string, pageConsole: string[], codeServer: CodeServer | undefined): void {
  printFailedTests(results);
  const hostLogs = filesUnder(join(userDataDir, 'logs')).filter((path) => /exthost/i.test(path) && path.endsWith('.log'));
  for (const path of hostLogs) {
    const content = readFileSync(path, 'utf8').trim();
    if (content) console.log(`\n[harness] ---- ${relative(REPO_ROOT, path)} ----\n${tail(content, 150)}`);
  }
  if (hostLogs.length === 0) console.log(`\n[harness] no extension host log under ${relative(REPO_ROOT, join(userDataDir, 'logs'))}`);
  if (pageConsole.length) console.log(`\n[harness] ---- browser console (errors and extension host messages) ----\n${tail(pageConsole.join('\n'), 80)}`);
  if (codeServer) console.log(`\n[harness] ---- code-server output ----\n${tail(codeServer.log.trim(), 40)}`);
}

async function main(): Promise<number> {
  if (!existsSync(TESTS_ENTRY)) throw new Error(`${TESTS_ENTRY} is missing: build with \`node esbuild.mjs --tests\` first`);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: \`apt-get install chromium\` (or set CRON_OPS_CHROMIUM)`);
  const { entry } = await ensureCodeServer(CACHE_DIR);

  // One folder per run, kept for post-mortems until a later run finds its harness gone (runs may overlap).
  for (const old of readdirSync(CACHE_DIR).filter((name) => name.startsWith('run-'))) {
    const pidFile = join(CACHE_DIR, old, 'pid');
    const owner = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0;
    if (!isAlive(owner)) rmSync(join(CACHE_DIR, old), { recursive: true, force: true });
  }
  const runDir = mkdtempSync(join(CACHE_DIR, 'run-'));
  writeFileSync(join(runDir, 'pid'), String(process.pid));
  const userDataDir = join(runDir, 'user-data');
  const extensionsDir = join(runDir, 'extensions');
  const workspace = join(runDir, 'workspace');
  const harnessDir = join(runDir, 'harness');
  const requestsDir = join(harnessDir, SCREENSHOT_REQUESTS_DIR);
  for (const dir of [join(userDataDir, 'User'), extensionsDir, workspace, requestsDir, SCREENSHOTS_DIR]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify(USER_SETTINGS, null, 2));
  writeFileSync(join(runDir, 'code-server.yaml'), 'auth: none\n');
  const failureShot = join(SCREENSHOTS_DIR, 'failure.png');
  rmSync(failureShot, { force: true }); // only ever the last run's

  let codeServer: CodeServer | undefined;
  let browser: Browser | undefined;
  const watchers: FSWatcher[] = [];
  const pageConsole: string[] = [];
  const report = new ReportStream(join(harnessDir, REPORT_FILE));
  let results: SuiteResults | undefined;
  let exitCode = 1;
  let timer: NodeJS.Timeout | undefined;
  const stopAll = async () => {
    clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
    await browser?.close().catch(() => undefined);
    await codeServer?.stop();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping code-server and Chromium`);
    void stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const started = Date.now();
  try {
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Timeout(`the run did not finish within ${RUN_TIMEOUT_MS / 1000} s`)), RUN_TIMEOUT_MS);
    });
    const port = await freePort();
    const origin = `127.0.0.1:${port}`;
    codeServer = new CodeServer(
      entry,
      // --config: its own config file, or code-server writes one into ~/.config/code-server.
      ['--config', join(runDir, 'code-server.yaml'), '--auth', 'none', '--bind-addr', origin, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, workspace],
      {
        ...process.env,
        // The extensions marketplace is out of reach here: point it at a closed loopback port so nothing leaves the machine.
        EXTENSIONS_GALLERY: JSON.stringify({ serviceUrl: 'http://127.0.0.1:9/gallery', itemUrl: 'http://127.0.0.1:9/items', resourceUrlTemplate: 'http://127.0.0.1:9/resource' }),
        [HARNESS_DIR_ENV]: harnessDir,
        ...(GREP ? { [GREP_ENV]: GREP } : {}),
      },
    );
    await Promise.race([codeServer.waitForOutput(/HTTP server listening on/, 60_000), timedOut]);
    log(`code-server ${origin} up after ${((Date.now() - started) / 1000).toFixed(1)} s`);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    const page = await browser.newPage({ viewport: VIEWPORT });
    page.on('console', (message) => {
      if (message.type() === 'error' || /extension host|exthost/i.test(message.text())) pageConsole.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => pageConsole.push(`pageerror: ${error.message}`));
    let reportExit: (code: number) => void = () => undefined;
    const suiteExit = new Promise<number>((resolveExit) => (reportExit = resolveExit));
    await page.exposeFunction('codeAutomationExit', (code: number) => reportExit(code));

    watchers.push(watch(harnessDir, () => report.pump()));
    const screenshots = new ScreenshotService(page, requestsDir);
    watchers.push(watch(requestsDir, () => screenshots.scan()));

    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://${origin}${encodeURI(REPO_ROOT)}`],
      ['extensionTestsPath', `vscode-remote://${origin}${encodeURI(TESTS_ENTRY)}`],
      ['skipWelcome', 'true'],
    ];
    const url = `http://${origin}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    await Promise.race([page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 }), timedOut]);
    await Promise.race([page.locator('.monaco-workbench').waitFor({ timeout: 60_000 }), timedOut]);
    log(`workbench loaded after ${((Date.now() - started) / 1000).toFixed(1)} s; the suite runs in the extension host`);

    const codeServerDied = codeServer.exited.then((code) => {
      throw new Error(`code-server exited (${code}) before the suite finished`);
    });
    exitCode = await Promise.race([suiteExit, timedOut, codeServerDied]);
    await screenshots.idle();
    if (exitCode !== 0) await page.screenshot({ path: failureShot, timeout: 10_000 }).catch(() => undefined);
  } catch (error) {
    exitCode = 1;
    console.log(`\n[harness] ${error instanceof Timeout ? 'TIMEOUT: ' : ''}${(error as Error).message}`);
    const page = browser?.contexts()[0]?.pages()[0];
    if (page) await page.screenshot({ path: failureShot, timeout: 10_000 }).catch(() => undefined);
  } finally {
    report.pump();
    if (existsSync(join(harnessDir, RESULTS_FILE))) results = JSON.parse(readFileSync(join(harnessDir, RESULTS_FILE), 'utf8')) as SuiteResults;
    if (exitCode !== 0) printDiagnostics(results, userDataDir, pageConsole, codeServer);
    await stopAll();
  }
  if (exitCode === 0 && !results) {
    console.log('[harness] the suite reported success but wrote no results: did run() run mocha?');
    exitCode = 1;
  }
  log(`finished in ${((Date.now() - started) / 1000).toFixed(1)} s with exit code ${exitCode}; screenshots in ${relative(REPO_ROOT, SCREENSHOTS_DIR)}/`);
  // One plain closing line for CI logs, after mocha's own "N passing / N failing".
  // CI keeps only the tail of a long log: the failed tests again, after the logs above.
  printFailedTests(results);
  if (results) console.log(`vscode: ${results.passes} passed, ${results.failures} failed${results.pending ? `, ${results.pending} skipped` : ''}`);
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`[harness] ${error.message}`);
    process.exit(1);
  },
);
