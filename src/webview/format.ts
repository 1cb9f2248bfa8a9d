// Durations, countdowns and dates as the dashboard prints them (same forms as the status bar and tree).
import type { ExecutionStatus } from '../shared/api';
import { t, type StringKey } from './strings';
import { formatCountdown, formatDuration } from '../shared/format';

export { formatCountdown, formatDuration };

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A duration axis label, for round values: "100 ms", "2 s", "1 min", "1.7 min", "2 h". */
export function formatDurationTick(ms: number): string {
  const round = (value: number) => String(Number(value.toFixed(1)));
  if (ms < SECOND) return `${round(ms)} ms`;
  if (ms < MINUTE) return `${round(ms / SECOND)} s`;
  if (ms < HOUR) return `${round(ms / MINUTE)} min`;
  return `${round(ms / HOUR)} h`;
}

/** A coarse distance in time: "12 s", "5 min", "3 h", "2 d". */
function coarse(ms: number): string {
  if (ms < MINUTE) return `${Math.max(1, Math.floor(ms / SECOND))} s`;
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)} min`;
  if (ms < DAY) return `${Math.floor(ms / HOUR)} h`;
  return `${Math.floor(ms / DAY)} d`;
}

/** "in 5 min", "3 h ago", "just now" for a time relative to `now`. */
export function formatRelative(atMs: number, now: number): string {
  if (!Number.isFinite(atMs)) return '–';
  const delta = atMs - now;
  if (Math.abs(delta) < 5 * SECOND) return t('justNow');
  return delta > 0 ? t('inTime', coarse(delta)) : t('agoTime', coarse(-delta));
}

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();

function cachedFormat(locale: string, key: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const id = `${locale}|${key}`;
  let format = dateTimeFormats.get(id);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat(locale, options);
    } catch {
      format = new Intl.DateTimeFormat('en', options);
    }
    dateTimeFormats.set(id, format);
  }
  return format;
}

/** "Mon 14 Feb, 15:26:04" in the given locale. */
export function formatDateTime(ms: number, locale: string): string {
  return cachedFormat(locale, 'datetime', { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(ms);
}

/** "15:26:04". */
export function formatTime(ms: number, locale: string): string {
  return cachedFormat(locale, 'time', { hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(ms);
}

/** A day tick of the timeline: "Mon 14". */
export function formatDay(ms: number, locale: string): string {
  return cachedFormat(locale, 'day', { weekday: 'short', day: 'numeric' }).format(ms);
}

const STATUS_KEYS: Record<ExecutionStatus, StringKey> = {
  completed: 'statusCompleted',
  running: 'statusRunning',
  failed: 'statusFailed',
  cancelled: 'statusCancelled',
};

/** A status as the operator reads it. */
export function statusLabel(status: ExecutionStatus): string {
  return t(STATUS_KEYS[status]);
}
