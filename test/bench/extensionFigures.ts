// Figure 7, extension half: the size of dist/extension.js and of the .vsix built for release, and the
// extension's activation time in the real VS Code extension host.
//
// Everything is built in a temporary copy of the repository (sources, manifest, media, tests; node_modules
// linked), so the working tree's dist/ and its build mode are left alone:
// 1. `node esbuild.mjs --tests` there: the development bundles (the size baseline) and the VS Code suite;
// 2. `node esbuild.mjs --production`: the release bundles, then `vsce package --no-dependencies` (what
//    `npm run package` does) into that copy; the .vsix is measured and deleted with the copy;
// 3. activation: the VS Code harness (code-server + Chromium, the one `npm test` runs) from that copy, with
//    `--grep Activation` and CRON_OPS_BENCH_OUT set: test/vscode/activation.test.ts times the host's first
//    `await extension.activate()` (loading the production dist/extension.js and running activate()) and
//    writes it there. The copy's .vscode-test links the repository's installed code-server; only one harness
//    may run at a time, so this waits for another one to finish first.
//    Baseline: there is no trivial extension to activate in the same host, so the baseline is `require()` of
//    the same dist/extension.js in plain Node with a stub `vscode` module (a fresh process per sample): the
//    cost of loading the code, which activation includes.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/serverProcess';
import { percentile, ms, ratio, removeLater, sleep, type BenchContext, type Benchmark, type FigureRow } from './support';

const KB = 1024;
const REQUIRE_SAMPLES = 7;
const HARNESS_TIMEOUT_MS = 8 * 60_000;
const HARNESS_WAIT_MS = 5 * 60_000;

const kb = (bytes: number) => `${(bytes / KB).toFixed(1)} KB`;

/** Runs a command to completion (output kept for the error), failing after `timeoutMs`. */
function run(context: BenchContext, command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    // The whole group: the harness starts code-server and Chromium under it.
    let exited = false;
    const killGroup = () => {
      if (exited) return;
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    };
    context.onCleanup(killGroup);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      killGroup();
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${options.timeoutMs / 1000} s\n${output.slice(-3000)}`));
    }, options.timeoutMs);
    child.on('exit', (code, signal) => {
      exited = true;
      clearTimeout(timer);
      if (code === 0) resolveRun(output);
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`})\n${output.slice(-3000)}`));
    });
  });
}

/** A copy of what the builds, the packager and the harness read; node_modules linked, not copied. */
function copyRepository(context: BenchContext): string {
  const copy = removeLater(context, mkdtempSync(join(tmpdir(), 'cron-ops-bench-extension-')));
  for (const entry of readdirSync(REPO_ROOT)) {
    if (['node_modules', 'dist', 'out', '.vscode-test', '.git'].includes(entry) || entry.endsWith('.vsix')) continue;
    cpSync(join(REPO_ROOT, entry), join(copy, entry), { recursive: true });
  }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  // The harness's cache: the installed code-server is shared (linked), its runs and screenshots stay in the copy.
  mkdirSync(join(copy, '.vscode-test'));
  for (const entry of existsSync(join(REPO_ROOT, '.vscode-test')) ? readdirSync(join(REPO_ROOT, '.vscode-test')) : []) {
    if (entry.startsWith('code-server-')) symlinkSync(join(REPO_ROOT, '.vscode-test', entry), join(copy, '.vscode-test', entry), 'dir');
  }
  return copy;
}

/** The stub `vscode` for plain Node: any property, call or `new` answers with another stub. */
const REQUIRE_PROBE = `
const Module = require('node:module');
const stub = new Proxy(function () {}, {
  get: (target, key) => (key === Symbol.toPrimitive ? () => '' : key === 'then' ? undefined : key in target ? target[key] : stub),
  apply: () => stub,
  construct: () => stub,
  // esbuild's __toESM copies own keys onto an object whose prototype is the module's: lookups fall through here.
  getPrototypeOf: () => stub,
});
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) { return request === 'vscode' ? 'vscode-stub' : resolve.call(this, request, ...rest); };
require.cache['vscode-stub'] = { id: 'vscode-stub', filename: 'vscode-stub', loaded: true, exports: stub };
const started = performance.now();
const extension = require(process.argv[1]);
const elapsed = performance.now() - started;
if (typeof extension.activate !== 'function') throw new Error('no activate() exported');
process.stdout.write(String(elapsed));`;

async function requireMs(context: BenchContext, bundle: string): Promise<number[]> {
  const samples: number[] = [];
  for (let index = 0; index < REQUIRE_SAMPLES + 1; index++) {
    const output = await run(context, process.execPath, ['-e', REQUIRE_PROBE, bundle], { cwd: tmpdir(), timeoutMs: 30_000 });
    if (index > 0) samples.push(Number(output.trim()));
  }
  return samples;
}

/** Waits while another harness run holds .vscode-test (they must never overlap). */
async function waitForOtherHarness(context: BenchContext): Promise<boolean> {
  const deadline = Date.now() + HARNESS_WAIT_MS;
  for (;;) {
    const others = spawnSync('pgrep', ['-f', 'harness/run.js'], { encoding: 'utf8' }).stdout.trim();
    if (!others) return true;
    if (Date.now() > deadline) return false;
    context.log(`  another VS Code harness run is in progress (pid ${others.split('\n').join(', ')}): waiting`);
    await sleep(10_000);
  }
}

async function activationMs(context: BenchContext, copy: string): Promise<{ ms: number | undefined; note: string }> {
  if (!(await waitForOtherHarness(context))) return { ms: undefined, note: 'not measured: another VS Code harness run did not finish within 5 min' };
  const out = join(copy, 'activation.txt');
  const started = performance.now();
  const output = await run(context, process.execPath, [join(copy, 'out', 'test', 'vscode', 'harness', 'run.js'), '--grep', 'Activation'], {
    cwd: copy,
    env: { ...process.env, CRON_OPS_BENCH_OUT: out },
    timeoutMs: HARNESS_TIMEOUT_MS,
  });
  context.log(`  harness (--grep Activation): ${((performance.now() - started) / 1000).toFixed(0)} s; ${output.trim().split('\n').filter((line) => /passed|failed/.test(line)).pop() ?? ''}`);
  if (!existsSync(out)) return { ms: undefined, note: 'the suite wrote no activation time (is CRON_OPS_BENCH_OUT reaching the extension host?)' };
  const line = readFileSync(out, 'utf8').trim();
  const value = Number(/^activation-ms ([\d.]+)$/.exec(line)?.[1]);
  return Number.isFinite(value) ? { ms: value, note: '' } : { ms: undefined, note: `unreadable: ${line}` };
}

export const extensionFigures: Benchmark = {
  name: 'extension',
  title: 'Figure 7 (extension): bundle and .vsix size, activation in the VS Code host',
  async run(context) {
    const copy = copyRepository(context);
    let t0 = performance.now();
    await run(context, process.execPath, ['esbuild.mjs', '--tests'], { cwd: copy, timeoutMs: 180_000 });
    const devSize = statSync(join(copy, 'dist', 'extension.js')).size;
    const devWebview = statSync(join(copy, 'dist', 'webview.js')).size;
    context.log(`  development build (with the tests): ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    t0 = performance.now();
    await run(context, process.execPath, ['esbuild.mjs', '--production'], { cwd: copy, timeoutMs: 180_000 });
    const bundle = join(copy, 'dist', 'extension.js');
    const prodSize = statSync(bundle).size;
    const prodWebview = statSync(join(copy, 'dist', 'webview.js')).size;
    context.log(`  production build: ${((performance.now() - t0) / 1000).toFixed(1)} s; extension.js ${kb(prodSize)} (development ${kb(devSize)}); webview.js ${kb(prodWebview)} (development ${kb(devWebview)})`);

    t0 = performance.now();
    const vsix = join(copy, 'bench.vsix');
    const vsce = join(REPO_ROOT, 'node_modules', '.bin', 'vsce');
    await run(context, vsce, ['package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', vsix], { cwd: copy, timeoutMs: 180_000 });
    const vsixSize = statSync(vsix).size;
    const listed = (await run(context, vsce, ['ls', '--no-dependencies'], { cwd: copy, timeoutMs: 120_000 }))
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && existsSync(join(copy, line)));
    const packedBytes = listed.reduce((sum, file) => sum + statSync(join(copy, file)).size, 0);
    context.log(`  vsce package: ${((performance.now() - t0) / 1000).toFixed(1)} s; ${kb(vsixSize)}, ${listed.length} files of ${kb(packedBytes)} uncompressed: ${listed.join(', ')}`);

    const required = await requireMs(context, bundle);
    const requireP50 = percentile(required, 50);
    context.log(`  plain Node require() of the production extension.js with a stub vscode: p50 ${ms(requireP50, 2)} (${required.map((value) => value.toFixed(1)).join(', ')})`);
    const activation = await activationMs(context, copy);
    context.log(`  activation in the VS Code host: ${activation.ms === undefined ? activation.note : ms(activation.ms, 2)}`);

    const rows: FigureRow[] = [
      {
        figure: '7',
        what: 'extension activation in the real VS Code host (code-server 1.100.3 extension host; first `await extension.activate()`, production build)',
        value: activation.ms === undefined ? 'n/a' : ms(activation.ms),
        baseline: `require() in plain Node, stub vscode ${ms(requireP50, 2)}`,
        ratio: activation.ms === undefined ? 'n/a' : ratio(activation.ms, requireP50),
        goal: '≤ 50 ms',
        met: activation.ms === undefined ? false : activation.ms <= 50,
        ...(activation.note ? { note: activation.note } : { note: 'one sample: the first activation of a fresh host' }),
      },
      {
        figure: '7',
        what: '`dist/extension.js`, production build (`node esbuild.mjs --production`)',
        value: kb(prodSize),
        baseline: `development build ${kb(devSize)}`,
        ratio: `${(prodSize / devSize).toFixed(2)}×`,
        goal: '≤ 300 KB',
        met: prodSize <= 300 * KB,
      },
      {
        figure: '7',
        what: '.vsix (`vsce package --no-dependencies` after a production build)',
        value: kb(vsixSize),
        baseline: `its ${listed.length} files uncompressed ${kb(packedBytes)}`,
        ratio: `${(vsixSize / packedBytes).toFixed(2)}×`,
        goal: '—',
        note: `dist/webview.js is ${kb(prodWebview)} of it uncompressed (Chart.js)`,
      },
    ];
    return rows;
  },
};
