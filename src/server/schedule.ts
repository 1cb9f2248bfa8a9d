// One parsed schedule for what is shown and what runs: croner computes the instants, cronstrue says them
// in words, and syntax the two would read differently is refused with a form that means what it says.
// Daylight-saving changes follow ISC cron: a time inside the skipped hour runs once, right after the
// change; a repeated hour runs once.
import { Cron as CronJob } from 'croner';
import cronstrue from 'cronstrue';

const FIELD_NAMES_5 = ['minute', 'hour', 'day of month', 'month', 'weekday'];
const FIELD_NAMES_6 = ['second', ...FIELD_NAMES_5];
/** Values a `*` covers, for the fields where `*\/N` must divide the range to run "every N". */
const STEP_RANGES: Record<string, { min: number; max: number; unit: string }> = {
  second: { min: 0, max: 59, unit: 'seconds' },
  minute: { min: 0, max: 59, unit: 'minutes' },
  hour: { min: 0, max: 23, unit: 'hours' },
  month: { min: 1, max: 12, unit: 'months' },
  weekday: { min: 0, max: 6, unit: 'days of the week' },
};
/** How far ahead a schedule is searched before it is declared never to fire (29 February needs 8 years). */
const NEVER_HORIZON_MS = 9 * 366 * 86_400_000;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/**
 * The longest span the quick look-up (Schedule.steadyNext) trusts an unchanged offset over: a time zone's
 * offset changes months apart, so one the same at both ends of a day did not change in between.
 */
const STEADY_SPAN_MS = 86_400_000;
/** One formatter per time zone, shared by every schedule in it: building one costs far more than using it. */
const offsetFormats = new Map<string, Intl.DateTimeFormat>();

function offsetFormat(timezone: string): Intl.DateTimeFormat {
  let format = offsetFormats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    offsetFormats.set(timezone, format);
  }
  return format;
}
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

export interface ScheduleProblem {
  /** The part of the expression at fault ("minute \"*\/7\""), or the whole expression. */
  message: string;
}

function fieldsOf(expression: string): string[] {
  return expression.trim().split(/\s+/);
}

function valuesOfStep(min: number, max: number, step: number): number[] {
  const values: number[] = [];
  for (let value = min; value <= max; value += step) values.push(value);
  return values;
}

/** Syntax croner would run differently from how it reads (and how cronstrue words it). */
export function misreadProblem(expression: string): string | undefined {
  const fields = fieldsOf(expression);
  const names = fields.length === 6 ? FIELD_NAMES_6 : FIELD_NAMES_5;
  const corrected = (index: number, replacement: string) => fields.map((field, at) => (at === index ? replacement : field)).join(' ');
  for (const [index, field] of fields.entries()) {
    const name = names[index];
    const range = STEP_RANGES[name];
    const step = /^\*\/(\d+)$/.exec(field);
    if (range && step) {
      const n = Number(step[1]);
      const span = range.max - range.min + 1;
      if (n > 1 && n < span && span % n !== 0) {
        const values = valuesOfStep(range.min, range.max, n);
        return `${name} "${field}" does not run every ${n} ${range.unit}: the step restarts at ${range.min} each cycle (${values.join(',')}, then ${range.min} again). Write "${corrected(index, values.join(','))}" to say what runs, or use a step that divides ${span}`;
      }
    }
    if (field.includes('?')) {
      // croner replaces "?" by the value of the moment the job is created: "0 0 ? * *" would run monthly.
      const hint = field === '?' ? `Write "${corrected(index, '*')}"` : 'Write a value or "*" in its place';
      return `${name} "${field}": "?" is read as the value of the moment the server starts, not "any". ${hint}`;
    }
    if (name === 'weekday') {
      const lastWeekday = /(^|,)([0-7])L(,|$)/.exec(field);
      if (lastWeekday) {
        return `weekday "${field}": croner reads "${lastWeekday[2]}L" as every ${dayName(Number(lastWeekday[2]))}, not the last one of the month. Write "${corrected(index, field.replace(`${lastWeekday[2]}L`, `${lastWeekday[2]}#L`))}" for the last ${dayName(Number(lastWeekday[2]))} of the month`;
      }
      const toSeven = /(^|,)([0-6])-7(,|$)/.exec(field);
      if (toSeven) {
        const from = Number(toSeven[2]);
        const replacement = from === 0 ? '*' : `${from}-6,0`;
        return `weekday "${field}": 7 is Sunday, so "${from}-7" reads as "${dayName(from)} through Sunday" but is a range to 7. Write "${corrected(index, field.replace(`${from}-7`, replacement))}"`;
      }
    }
  }
  return undefined;
}

function dayName(day: number): string {
  return ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'][day] ?? String(day);
}

/** Why a valid expression never fires, as precisely as the fields tell. */
function neverFiresReason(expression: string): string {
  const fields = fieldsOf(expression);
  const [dom, month] = fields.length === 6 ? [fields[3], fields[4]] : [fields[2], fields[3]];
  const days = /^\d+(,\d+)*$/.test(dom) ? dom.split(',').map(Number) : undefined;
  const months = /^\d+(,\d+)*$/.test(month) ? month.split(',').map(Number) : undefined;
  if (days && months && months.every((m) => m >= 1 && m <= 12)) {
    const longest = Math.max(...months.map((m) => DAYS_IN_MONTH[m - 1]));
    if (Math.min(...days) > longest) {
      return `day of month "${dom}" never occurs in ${months.map((m) => MONTH_NAMES[m - 1]).join(', ')} (at most ${longest} days)`;
    }
  }
  return 'no date matches all its fields';
}

export class Schedule {
  /**
   * The pattern in its time zone. croner's time-zone path formats dates through a new Intl object at every
   * step (1–4 ms a look-up, measured with 1,000 crons on one server): it is asked only near a change of
   * offset; steadyNext answers the rest.
   */
  private readonly job: CronJob;
  /**
   * The same pattern on a clock without daylight saving (a fixed offset of 0, which croner computes without
   * Intl): tells which wall-clock times match.
   */
  private readonly wall: CronJob;
  private readonly offsets: Intl.DateTimeFormat;
  /**
   * 0 in UTC (and its aliases): no offset to look up through Intl, three times a look-up, which is most of a
   * look-up's cost (every cron of figure 5, and the default time zone).
   */
  private readonly fixedOffset: number | undefined;
  readonly text: string;

  private constructor(
    readonly expression: string,
    readonly timezone: string,
  ) {
    this.job = new CronJob(expression, { timezone, paused: true });
    this.wall = new CronJob(expression, { utcOffset: 0, paused: true });
    this.offsets = offsetFormat(timezone);
    this.fixedOffset = this.offsets.resolvedOptions().timeZone === 'UTC' ? 0 : undefined;
    this.text = describe(expression);
  }

  /** The schedule, or why it is refused (a sentence to put after the expression). */
  static parse(expression: string, timezone: string, now = new Date()): Schedule | ScheduleProblem {
    const count = fieldsOf(expression).length;
    if (count !== 5 && count !== 6) return { message: `must have 5 fields (minute hour day-of-month month weekday) or 6 (seconds first), got ${count}` };
    let schedule: Schedule;
    try {
      schedule = new Schedule(expression, timezone);
    } catch (error) {
      return { message: `is not a valid cron expression: ${error instanceof Error ? error.message : String(error)}` };
    }
    const misread = misreadProblem(expression);
    if (misread) return { message: `is read differently than it runs: ${misread}` };
    let next: Date | null | undefined = schedule.steadyNext(now.getTime());
    if (next === undefined) {
      try {
        next = schedule.job.nextRun(now);
      } catch {
        // croner throws on some impossible dates ("0 0 30 2 *") instead of returning null.
        next = null;
      }
    }
    if (!next || next.getTime() - now.getTime() > NEVER_HORIZON_MS) return { message: `never fires: ${neverFiresReason(expression)}. Fix the day or the month` };
    return schedule;
  }

  /** Offset from UTC at an instant, in ms (positive east of Greenwich). */
  offsetAt(instant: number): number {
    if (this.fixedOffset !== undefined) return this.fixedOffset;
    const parts: Record<string, number> = {};
    for (const part of this.offsets.formatToParts(new Date(instant))) if (part.type !== 'literal') parts[part.type] = Number(part.value);
    const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
    return wall - Math.floor(instant / 1000) * 1000;
  }

  /** The next instant strictly after `after` at which the cron fires, or null if none. */
  nextAfter(after: Date): Date | null {
    const steady = this.steadyNext(after.getTime());
    if (steady !== undefined) return steady;
    let from = after.getTime();
    for (let attempt = 0; attempt < 100; attempt++) {
      let candidate: Date | null;
      try {
        candidate = this.job.nextRun(new Date(from));
      } catch {
        candidate = null;
      }
      const gap = this.skippedMatch(from, candidate ? candidate.getTime() : from + 366 * 86_400_000);
      if (gap !== undefined) return new Date(gap);
      if (!candidate) return null;
      const at = candidate.getTime();
      const wallAt = at + this.offsetAt(at);
      // croner moves a time that does not exist to an hour later: such a time ran at the change already.
      // A wall-clock time not after the previous one is the repeated hour: it ran once already.
      if (this.wallMatches(wallAt) && wallAt > from + this.offsetAt(from)) return candidate;
      from = at;
    }
    return null;
  }

  /**
   * The next instant strictly after `from`, found on the wall clock, when the offset from UTC is the same
   * at `from`, at the wall-clock match read as UTC, and at the instant it converts to (croner's own
   * conversion), less than STEADY_SPAN_MS apart: no change of offset lies between them, so it is the instant
   * croner's time-zone path finds, with no skipped or repeated hour to handle. Undefined when that does not
   * hold (a repeated wall-clock time reads the later offset in croner): the caller asks croner.
   */
  private steadyNext(from: number): Date | undefined {
    const offset = this.offsetAt(from);
    let wallNext: Date | null;
    try {
      wallNext = this.wall.nextRun(new Date(from + offset));
    } catch {
      return undefined;
    }
    if (!wallNext || this.offsetAt(wallNext.getTime()) !== offset) return undefined;
    const at = wallNext.getTime() - offset;
    if (at <= from || at - from > STEADY_SPAN_MS || this.offsetAt(at) !== offset) return undefined;
    return new Date(at);
  }

  private wallMatches(wallMs: number): boolean {
    try {
      return this.wall.nextRun(new Date(wallMs - 1000))?.getTime() === wallMs;
    } catch {
      return false;
    }
  }

  /** The first spring-forward change in (from, to] whose skipped wall-clock times include a match. */
  private skippedMatch(from: number, to: number): number | undefined {
    const week = 7 * 86_400_000;
    for (let start = from; start < to; start += week) {
      const end = Math.min(to, start + week);
      const before = this.offsetAt(start);
      const after = this.offsetAt(end);
      if (after <= before) continue;
      let low = start;
      let high = end;
      while (high - low > 1000) {
        // Whole seconds (offsets change on a second), and always a step: a span of 1–2 s still halves.
        const middle = low + Math.max(1, Math.floor((high - low) / 2000)) * 1000;
        if (this.offsetAt(middle) === before) low = middle;
        else high = middle;
      }
      const change = high;
      const wallStart = change + before;
      const wallEnd = change + after;
      try {
        const match = this.wall.nextRun(new Date(wallStart - 1000));
        if (match && match.getTime() < wallEnd) return change;
      } catch {
        // no match
      }
    }
    return undefined;
  }
}

export function describe(expression: string): string {
  try {
    return cronstrue.toString(expression, { use24HourTimeFormat: true, verbose: false });
  } catch {
    return expression;
  }
}
