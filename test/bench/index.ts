// `npm run bench`: runs the benchmarks of issue 6 in turn (or those named: `node out/test/bench/index.js
// trigger stats`), prints each figure beside its baseline and goal, then a markdown table for the README.
// It never asserts: a missed goal is reported, and the exit code is 0 unless a benchmark crashed.
import { cpus, release, totalmem } from 'node:os';
import { dashboardHour } from './dashboardHour';
import { durability } from './durability';
import { extensionFigures } from './extensionFigures';
import { fanOut } from './fanOut';
import { firstReads } from './firstReads';
import { idleRss } from './idleRss';
import { reads } from './reads';
import { scheduler } from './scheduler';
import { stats } from './stats';
import { createContext, type Benchmark, type FigureRow } from './support';
import { throughput } from './throughput';
import { timeline } from './timeline';
import { triggerLatency } from './triggerLatency';

const BENCHMARKS: Benchmark[] = [reads, firstReads, dashboardHour, durability, triggerLatency, fanOut, stats, timeline, scheduler, throughput, idleRss, extensionFigures];

function verdict(row: FigureRow): string {
  return row.met === undefined ? '—' : row.met ? 'MET' : 'MISSED';
}

function machine(): string {
  const cpu = cpus();
  return `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GB RAM, Linux ${release()}, Node ${process.version}`;
}

function markdownTable(rows: FigureRow[]): string {
  const escape = (text: string) => text.replace(/\|/g, '\\|');
  const lines = ['| # | measurement | value | baseline (same run) | ratio | goal | |', '| --- | --- | --- | --- | --- | --- | --- |'];
  for (const row of rows) lines.push(`| ${row.figure} | ${escape(row.what)} | ${escape(row.value)} | ${escape(row.baseline)} | ${row.ratio} | ${escape(row.goal)} | ${verdict(row)} |`);
  return lines.join('\n');
}

async function main(): Promise<number> {
  const names = process.argv.slice(2);
  const unknown = names.filter((name) => !BENCHMARKS.some((benchmark) => benchmark.name === name));
  if (unknown.length) {
    process.stderr.write(`Unknown benchmark ${unknown.join(', ')}: choose among ${BENCHMARKS.map((benchmark) => benchmark.name).join(', ')}\n`);
    return 2;
  }
  const selected = names.length ? BENCHMARKS.filter((benchmark) => names.includes(benchmark.name)) : BENCHMARKS;
  const log = (message: string) => process.stdout.write(message + '\n');
  const context = createContext(log);
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      log(`${signal}: cleaning up`);
      void context.cleanup().then(() => process.exit(130));
    });
  }

  log(`Machine: ${machine()}\n`);
  const rows: FigureRow[] = [];
  const crashed: string[] = [];
  const startedAll = performance.now();
  for (const benchmark of selected) {
    log(`== ${benchmark.title}`);
    const started = performance.now();
    try {
      const figures = await benchmark.run(context);
      for (const row of figures) {
        log(`  [${verdict(row)}] ${row.what}: ${row.value}; baseline ${row.baseline}; ratio ${row.ratio}; goal ${row.goal}${row.note ? ` (${row.note})` : ''}`);
      }
      rows.push(...figures);
    } catch (error) {
      crashed.push(benchmark.name);
      log(`  CRASHED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      rows.push({ figure: '?', what: `${benchmark.title}`, value: 'crashed', baseline: '', ratio: '', goal: '', met: false });
    } finally {
      await context.cleanup();
    }
    log(`  (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
  }

  log(`Machine: ${machine()}`);
  log(`Total: ${((performance.now() - startedAll) / 1000 / 60).toFixed(1)} min\n`);
  log(markdownTable(rows));
  const notes = rows.filter((row) => row.note);
  if (notes.length) log('\n' + notes.map((row) => `- ${row.figure}, ${row.what}: ${row.note}`).join('\n'));
  if (crashed.length) log(`\nCrashed: ${crashed.join(', ')}`);
  return crashed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
