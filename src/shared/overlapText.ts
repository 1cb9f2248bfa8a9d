// The words of an overlap forecast (OverlapForecast in api.ts): "p95 6 min 12 s > every 5 min". Shared by
// the server (the reply's message), the extension and the dashboard (in the display language).
import type { OverlapForecast } from './api';

/** A message and its {0}… arguments: vscode.l10n.t in the extension, plain English by default. */
export type OverlapTranslate = (message: string, ...args: Array<string | number>) => string;

const fill: OverlapTranslate = (message, ...args) => message.replace(/\{(\d+)\}/g, (whole, index: string) => (Number(index) < args.length ? String(args[Number(index)]) : whole));

const UNITS: Array<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['min', 60_000],
  ['s', 1_000],
];

/** A span in its two largest units: "6 min 12 s", "5 min", "1 h 30 min", "2 d 3 h"; under a second, "850 ms". */
export function formatSpan(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of UNITS) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || parts.length > 0) parts.push(`${count} ${unit}`);
    if (parts.length === 2) break;
  }
  return parts.filter((part) => !part.startsWith('0 ')).join(' ');
}

/** A tick's wall-clock time in the cron's time zone: "08:00", with seconds when it has some. */
export function clockTime(date: Date, timezone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: '2-digit', minute: '2-digit', second: date.getUTCSeconds() === 0 ? undefined : '2-digit' }).format(date);
}

/**
 * The p95 rounded to the second like every other duration (5017 ms is "5 s", not "6 s"); when rounding
 * would make it read as no longer than the gap it outlasts, its seconds get the decimals that tell them apart.
 */
function p95Span(p95Ms: number, gapMs: number): string {
  const rounded = Math.round(p95Ms / 1000) * 1000;
  if (rounded > gapMs || p95Ms < 1000) return formatSpan(rounded > gapMs ? rounded : p95Ms);
  for (let digits = 1; digits < 3; digits++) {
    const text = (p95Ms / 1000).toFixed(digits);
    if (Number(text) * 1000 > gapMs) return `${text} s`;
  }
  return `${(p95Ms / 1000).toFixed(3)} s`;
}

/** "p95 6 min 12 s > every 5 min" (or "… > 1 h between 08:00 and 09:00"); undefined unless the forecast says overlap. */
export function overlapText(
  forecast: Pick<OverlapForecast, 'status' | 'p95Ms' | 'shortestIntervalMs' | 'shortestIntervalAt' | 'regular'>,
  timezone: string,
  t: OverlapTranslate = fill,
): string | undefined {
  const { p95Ms, shortestIntervalMs: gap, shortestIntervalAt: at } = forecast;
  if (forecast.status !== 'overlap' || p95Ms === null || gap === null) return undefined;
  const p95 = p95Span(p95Ms, gap);
  if (forecast.regular || at === null) return t('p95 {0} > every {1}', p95, formatSpan(gap));
  const first = new Date(at);
  return t('p95 {0} > {1} between {2} and {3}', p95, formatSpan(gap), clockTime(first, timezone), clockTime(new Date(first.getTime() + gap), timezone));
}
