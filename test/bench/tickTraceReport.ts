// Reads the server's tick trace (src/server/tickTrace.ts, CRON_OPS_TICK_TRACE) for figure 5: what a tick's
// lateness is made of, stage by stage (timer wake-up, hand-over, claim, insert, hand-over to the runner), at
// the median and for the late ticks (the slowest 1 %), each stage's share of their lateness.
import { existsSync, readFileSync } from 'node:fs';
import { ms, percentile } from './support';

type Mark = [cronName: string, tickAtMs: number, stage: string, atMs: number, cpuMs?: number, cpuWaitMs?: number];
interface Trace {
  marks: Mark[];
  collections: Array<[startMs: number, durationMs: number]>;
}

const STAGES = ['woke', 'fired', 'armed', 'claimed', 'inserted', 'launched', 'done'] as const;
const SEGMENTS: Array<[from: string, to: (typeof STAGES)[number], label: string]> = [
  ['due', 'woke', 'timer wake-up (due → timer call-back)'],
  ['woke', 'fired', 'scheduler (call-back → hand-over)'],
  ['fired', 'claimed', 'claim written (hand-over → claim done)'],
  ['claimed', 'inserted', 'run inserted (claim → row written)'],
  ['inserted', 'launched', 'hand-over to the runner'],
  ['fired', 'armed', "next run computed (hand-over's sync part + look-up)"],
  ['launched', 'done', 'after the hand-over (log line)'],
];

export interface TraceSummary {
  /** Ticks traced through to their insert. */
  ticks: number;
  /** Lateness at the insert (≈ started_at), p99. */
  insertedP99: number;
  /** Lateness once handed to the runner (its spawn requested, or its script version being read), p50 and p99. */
  launched: { p50: number; p99: number };
  lines: string[];
}

export function readTickTrace(file: string, windowStart: number, windowEnd: number): TraceSummary | undefined {
  if (!existsSync(file)) return undefined;
  const { marks, collections } = JSON.parse(readFileSync(file, 'utf8')) as Trace;
  const ticks = new Map<string, Record<string, number>>();
  for (const [cronName, tickAt, stage, at, cpu, cpuWait] of marks) {
    if (tickAt < windowStart || tickAt >= windowEnd) continue;
    const key = `${cronName}@${tickAt}`;
    let tick = ticks.get(key);
    if (!tick) ticks.set(key, (tick = { due: tickAt }));
    // The last wake-up counts (an early one is re-armed and wakes again).
    tick[stage] = at;
    if (cpu !== undefined && cpuWait !== undefined) {
      tick[`${stage}Cpu`] = cpu;
      tick[`${stage}Wait`] = cpuWait;
    }
  }
  const complete = [...ticks.values()].filter((tick) => STAGES.every((stage) => tick[stage] !== undefined));
  if (complete.length === 0) return { ticks: 0, insertedP99: NaN, launched: { p50: NaN, p99: NaN }, lines: ['  tick trace: no complete tick'] };
  const lateness = (tick: Record<string, number>) => tick.inserted - tick.due;
  const sorted = [...complete].sort((a, b) => lateness(a) - lateness(b));
  const late = sorted.slice(Math.floor(sorted.length * 0.99) - 1);
  const lines = [`  tick trace, ${complete.length} ticks; lateness at the insert p50 ${ms(lateness(sorted[Math.floor(sorted.length / 2)]))} p99 ${ms(lateness(late[0]))}; the slowest ${late.length} (≥ p99) by stage:`];
  const lateTotal = late.reduce((sum, tick) => sum + lateness(tick), 0);
  for (const [from, to, label] of SEGMENTS) {
    const spans = complete.map((tick) => tick[to] - tick[from]);
    const lateSpan = late.reduce((sum, tick) => sum + tick[to] - tick[from], 0);
    const share = to === 'launched' || to === 'armed' || to === 'done' ? '(after the insert)' : `${((lateSpan / lateTotal) * 100).toFixed(0)} % of their lateness`;
    lines.push(`    ${label.padEnd(44)} all p50 ${ms(percentile(spans, 50)).padStart(9)} p99 ${ms(percentile(spans, 99)).padStart(9)}; slowest 1 % mean ${ms(lateSpan / late.length).padStart(9)} ${share}`);
  }
  // The order in which a second's ticks woke: a steady cost per tick shows as lateness growing with it.
  const bySecond = new Map<number, Array<Record<string, number>>>();
  for (const tick of complete) bySecond.set(tick.due, [...(bySecond.get(tick.due) ?? []), tick]);
  const byRank = new Map<number, number[]>();
  for (const group of bySecond.values()) {
    group.sort((a, b) => a.inserted - b.inserted);
    group.forEach((tick, rank) => byRank.set(rank, [...(byRank.get(rank) ?? []), lateness(tick)]));
  }
  const ranks = [...byRank.keys()].sort((a, b) => a - b);
  // What ran between two ticks of one second: from one's last mark to the next one's wake-up.
  const gaps: number[] = [];
  const inner: number[] = [];
  for (const group of bySecond.values()) {
    const woken = [...group].sort((a, b) => a.woke - b.woke);
    for (let index = 1; index < woken.length; index++) {
      const previous = woken[index - 1];
      const end = Math.max(previous.done, previous.armed);
      gaps.push(woken[index].woke - end);
      inner.push(end - previous.woke);
    }
  }
  lines.push(`    between two ticks of one second: the earlier one's own marks (wake → done) p50 ${ms(percentile(inner, 50))} p99 ${ms(percentile(inner, 99))}; then until the next wakes p50 ${ms(percentile(gaps, 50))} p99 ${ms(percentile(gaps, 99))}`);
  // The late ticks' lateness by cause: before the first tick of their second woke (the loop busy, or the
  // process waiting for a CPU at the instant), then up to their insert: waiting for a CPU (schedstat),
  // garbage collection, the server's own work on the second's earlier ticks (CPU time), the rest.
  const firstOf = new Map<number, Record<string, number>>();
  for (const [due, group] of bySecond) firstOf.set(due, group.reduce((first, tick) => (tick.woke < first.woke ? tick : first)));
  const firstWake = [...firstOf.values()].map((first) => first.woke - first.due);
  lines.push(`    first tick of each second: woke p50 ${ms(percentile(firstWake, 50))} p99 ${ms(percentile(firstWake, 99))} after its instant`);
  if (late.every((tick) => tick.insertedWait !== undefined && firstOf.get(tick.due)!.wokeWait !== undefined)) {
    const causes = { beforeFirstWake: 0, cpuWait: 0, gc: 0, ownCpu: 0, rest: 0 };
    for (const tick of late) {
      const first = firstOf.get(tick.due)!;
      const from = first.woke;
      const gc = collections.reduce((sum, [start, duration]) => sum + Math.max(0, Math.min(start + duration, tick.inserted) - Math.max(start, from)), 0);
      const cpuWait = tick.insertedWait - first.wokeWait;
      const cpu = tick.insertedCpu - first.wokeCpu;
      causes.beforeFirstWake += from - tick.due;
      causes.cpuWait += cpuWait;
      causes.gc += gc;
      causes.ownCpu += Math.max(0, cpu - gc);
      causes.rest += tick.inserted - from - cpuWait - Math.max(cpu, gc);
    }
    const total = late.reduce((sum, tick) => sum + lateness(tick), 0);
    const share = (value: number) => `${ms(value / late.length)} (${((value / total) * 100).toFixed(0)} %)`;
    lines.push(
      `    the slowest 1 % by cause (mean, share): before their second's first tick woke ${share(causes.beforeFirstWake)}; then waiting for a CPU ${share(causes.cpuWait)}, garbage collection ${share(causes.gc)}, the server's CPU on earlier ticks and their own ${share(causes.ownCpu)}, other ${share(causes.rest)}`,
    );
  }
  lines.push(`    lateness at the insert by order within its second (p50): ${ranks.map((rank) => `#${rank + 1} ${percentile(byRank.get(rank)!, 50).toFixed(0)}`).join(', ')} ms`);
  const launched = complete.map((tick) => tick.launched - tick.due);
  lines.push(`    lateness once handed to the runner p50 ${ms(percentile(launched, 50))} p99 ${ms(percentile(launched, 99))}`);
  return { ticks: complete.length, insertedP99: lateness(late[0]), launched: { p50: percentile(launched, 50), p99: percentile(launched, 99) }, lines };
}
