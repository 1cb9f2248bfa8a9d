// Durations, numbers and relative times written one way everywhere (tree, status bar, dashboard), through
// Intl in the display language: "850 ms", "4.2 sec", "3 min 12 sec" in English, "4,2 s", "3 min 12 s" in French.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export type DurationUnit = 'millisecond' | 'second' | 'minute' | 'hour' | 'day';
type Unit = DurationUnit;

const formats = new Map<string, Intl.NumberFormat>();

function unitFormat(locale: string, unit: Unit, fractionDigits: number): Intl.NumberFormat {
  const id = `${locale}|${unit}|${fractionDigits}`;
  let format = formats.get(id);
  if (!format) {
    const options: Intl.NumberFormatOptions = { style: 'unit', unit, unitDisplay: 'short', minimumFractionDigits: fractionDigits, maximumFractionDigits: fractionDigits };
    try {
      format = new Intl.NumberFormat(locale, options);
    } catch {
      format = new Intl.NumberFormat('en', options);
    }
    formats.set(id, format);
  }
  return format;
}

function unit(value: number, name: Unit, locale: string, fractionDigits = 0): string {
  return unitFormat(locale, name, fractionDigits).format(value);
}

/** A round duration for an axis label, in the same units: "100 ms", "2 sec", "1.5 min", "2 hr". */
export function formatDurationTick(ms: number, locale = 'en'): string {
  const round = (value: number) => Math.round(value * 10) / 10;
  const pick = (value: number, name: Unit) => unitFormat(locale, name, Number.isInteger(value) ? 0 : 1).format(value);
  if (ms < SECOND) return pick(round(ms), 'millisecond');
  if (ms < MINUTE) return pick(round(ms / SECOND), 'second');
  if (ms < HOUR) return pick(round(ms / MINUTE), 'minute');
  if (ms < DAY) return pick(round(ms / HOUR), 'hour');
  return pick(round(ms / DAY), 'day');
}

/** A duration in the one style of the product: "850 ms", "4.2 sec", "42 sec", "3 min 12 sec", "1 hr 5 min", "2 days 3 hr". */
export function formatDuration(ms: number, locale = 'en'): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  // Round first, then choose the unit: 999.6 ms is "1.0 sec", never "1,000 ms".
  ms = Math.round(ms);
  if (ms < SECOND) return unit(ms, 'millisecond', locale);
  if (ms < 10 * SECOND) return unit(Math.floor(ms / 100) / 10, 'second', locale, 1);
  if (ms < MINUTE) return unit(Math.floor(ms / SECOND), 'second', locale);
  const pair = (big: number, bigUnit: Unit, small: number, smallUnit: Unit) =>
    small > 0 ? `${unit(big, bigUnit, locale)} ${unit(small, smallUnit, locale)}` : unit(big, bigUnit, locale);
  if (ms < HOUR) return pair(Math.floor(ms / MINUTE), 'minute', Math.floor((ms % MINUTE) / SECOND), 'second');
  if (ms < DAY) return pair(Math.floor(ms / HOUR), 'hour', Math.floor((ms % HOUR) / MINUTE), 'minute');
  return pair(Math.floor(ms / DAY), 'day', Math.floor((ms % DAY) / HOUR), 'hour');
}

/** Time left until something, rounded up to the second, in the same style ("3 min 7 sec"); 0 and less: "0 sec". */
export function formatTimeLeft(ms: number, locale = 'en'): string {
  const seconds = Math.max(0, Math.ceil(ms / SECOND));
  return seconds === 0 ? unit(0, 'second', locale) : formatDuration(seconds * SECOND, locale);
}

const relativeFormats = new Map<string, Intl.RelativeTimeFormat>();

function relativeFormat(locale: string): Intl.RelativeTimeFormat {
  let format = relativeFormats.get(locale);
  if (!format) {
    try {
      format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto', style: 'short' });
    } catch {
      format = new Intl.RelativeTimeFormat('en', { numeric: 'auto', style: 'short' });
    }
    relativeFormats.set(locale, format);
  }
  return format;
}

/** A time relative to now in the display language: "now", "42 sec. ago", "5 min. ago", "in 3 hr.", "il y a 2 j". */
export function formatRelative(atMs: number, now: number, locale = 'en'): string {
  if (!Number.isFinite(atMs)) return '–';
  const delta = atMs - now;
  const size = Math.abs(delta);
  const sign = delta < 0 ? -1 : 1;
  const format = relativeFormat(locale);
  if (size < 10 * SECOND) return format.format(0, 'second');
  if (size < MINUTE) return format.format(sign * Math.floor(size / SECOND), 'second');
  if (size < HOUR) return format.format(sign * Math.floor(size / MINUTE), 'minute');
  if (size < DAY) return format.format(sign * Math.floor(size / HOUR), 'hour');
  return format.format(sign * Math.floor(size / DAY), 'day');
}

const numberFormats = new Map<string, Intl.NumberFormat>();

/** A count or a number in the display language ("1,234" / "1 234"). */
export function formatNumber(value: number, locale = 'en'): string {
  let format = numberFormats.get(locale);
  if (!format) {
    try {
      format = new Intl.NumberFormat(locale);
    } catch {
      format = new Intl.NumberFormat('en');
    }
    numberFormats.set(locale, format);
  }
  return format.format(value);
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

function dateFormat(locale: string, key: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const id = `${locale}|${key}`;
  let format = dateFormats.get(id);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat(locale, options);
    } catch {
      format = new Intl.DateTimeFormat('en', options);
    }
    dateFormats.set(id, format);
  }
  return format;
}

/** A clock time in the display language's convention ("3:26:04 PM" in English, "15:26:04" in French). */
export function formatTime(ms: number, locale = 'en', timeZone?: string): string {
  return dateFormat(locale, `time|${timeZone ?? ''}`, { hour: 'numeric', minute: '2-digit', second: '2-digit', timeZone }).format(ms);
}

/** A date and time: "Sat, Feb 14, 3:26:04 PM" / "sam. 14 févr., 15:26:04". */
export function formatDateTime(ms: number, locale = 'en', timeZone?: string): string {
  return dateFormat(locale, `datetime|${timeZone ?? ''}`, { weekday: 'short', day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit', second: '2-digit', timeZone }).format(ms);
}

/** A run's start in a list: the time alone today, the date and time otherwise. */
export function formatStartTime(ms: number, now: number, locale = 'en'): string {
  const sameDay = new Date(now).toDateString() === new Date(ms).toDateString();
  return sameDay ? formatTime(ms, locale) : dateFormat(locale, 'short', { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' }).format(ms);
}

/** A day tick of the timeline: "Mon 14". */
export function formatDay(ms: number, locale = 'en'): string {
  return dateFormat(locale, 'day', { weekday: 'short', day: 'numeric' }).format(ms);
}
