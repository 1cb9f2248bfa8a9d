// Reads a main-thread CPU profile (V8's .cpuprofile) as the event loop saw it: its longest busy stretch
// (samples in a row that are not idle: nothing else could run meanwhile) and what that stretch spent its
// time in, by self and inclusive time, named by the server bundle's modules. Used by firstReads.ts.
import { readFileSync } from 'node:fs';
import { SERVER_BUNDLE } from '../support/serverProcess';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Stretch {
  ms: number;
  /** Milliseconds from the profile's start. */
  startMs: number;
  self: Array<[string, number]>;
  inclusive: Array<[string, number]>;
}

let starts: Array<[number, string]> | undefined;

/** Line number (0-based) of each module's start in the bundle, from esbuild's `// path` comments. */
function moduleStarts(): Array<[number, string]> {
  if (starts) return starts;
  starts = [];
  readFileSync(SERVER_BUNDLE, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      const match = /^\/\/ ((?:src|node_modules)\/\S+)$/.exec(line);
      if (match) starts!.push([index, match[1].replace(/^node_modules\/((?:@[^/]+\/)?[^/]+).*/, '$1')]);
    });
  return starts;
}

/** The server bundle's module (a source path, or a package) that holds line `line` (0-based). */
export function moduleOf(line: number): string {
  const list = moduleStarts();
  let low = 0;
  let high = list.length - 1;
  let found = '(bundle prelude)';
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (list[middle][0] <= line) {
      found = list[middle][1];
      low = middle + 1;
    } else high = middle - 1;
  }
  return found;
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.endsWith('server.mjs') ? `${moduleOf(lineNumber)}:${lineNumber + 1}` : url ? url.replace(/^.*\/node_modules\//, '').replace(/^node:/, '') : '';
  return `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
}

/** What the samples between `fromUs` and `toUs` (the profile's clock: process.hrtime in µs) spent their time in. */
export function describeInterval(profile: CpuProfile, fromUs: number, toUs: number, top = 12): Stretch {
  const times: number[] = [];
  let at = profile.startTime;
  for (const delta of profile.timeDeltas) times.push((at += delta));
  const from = times.findIndex((time) => time >= fromUs);
  const to = from < 0 ? -1 : times.findIndex((time) => time > toUs);
  return summariseSamples(profile, times, from < 0 ? times.length : from, to < 0 ? times.length : to, top);
}

function summariseSamples(profile: CpuProfile, times: number[], from: number, to: number, top: number): Stretch {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (let index = from; index < to; index++) {
    const ms = ((times[index + 1] ?? times[index]) - times[index]) / 1000;
    const leaf = byId.get(profile.samples[index])!;
    if (leaf.callFrame.functionName === '(idle)') continue;
    self.set(frameName(leaf), (self.get(frameName(leaf)) ?? 0) + ms);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const name = frameName(byId.get(id)!);
      if (seen.has(name) || name.startsWith('(root)')) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + ms);
    }
  }
  const sorted = (map: Map<string, number>) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const span = from < to ? (times[Math.min(to, times.length - 1)] - times[from]) / 1000 : 0;
  return { ms: span, startMs: from < times.length ? (times[from] - profile.startTime) / 1000 : 0, self: sorted(self), inclusive: sorted(inclusive) };
}

/** The `count` longest busy stretches of the profile, longest first. */
export function longestStretches(profile: CpuProfile, count = 1, top = 12): Stretch[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  // Sample i was taken at times[i] and stands for the time until the next sample.
  const times: number[] = [];
  let at = profile.startTime;
  for (const delta of profile.timeDeltas) times.push((at += delta));
  const stretches: Array<{ from: number; to: number }> = [];
  let from = -1;
  for (let index = 0; index < profile.samples.length; index++) {
    const idle = byId.get(profile.samples[index])?.callFrame.functionName === '(idle)';
    if (!idle && from < 0) from = index;
    if ((idle || index === profile.samples.length - 1) && from >= 0) {
      stretches.push({ from, to: idle ? index : index + 1 });
      from = -1;
    }
  }
  const span = (stretch: { from: number; to: number }) => times[Math.min(stretch.to, times.length - 1)] - times[stretch.from];
  return stretches
    .sort((a, b) => span(b) - span(a))
    .slice(0, count)
    .map((stretch) => summariseSamples(profile, times, stretch.from, stretch.to, top));
}

export function describeStretch(stretch: Stretch, indent = '      '): string {
  const lines = [`${indent}${stretch.ms.toFixed(1)} ms of samples (at +${stretch.startMs.toFixed(0)} ms in the window)`];
  lines.push(`${indent}  self:      ${stretch.self.map(([name, ms]) => `${name} ${ms.toFixed(1)}`).join(' | ')}`);
  lines.push(`${indent}  inclusive: ${stretch.inclusive.map(([name, ms]) => `${name} ${ms.toFixed(1)}`).join(' | ')}`);
  return lines.join('\n');
}
