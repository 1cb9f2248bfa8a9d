// The checks every part of the config file shares (crons, alerts): each reports what is wrong at which
// field, with the value shown, and returns a fallback so that one reading finds every problem at once.

/** A value as JSON.parse gives it, not yet checked. */
export type Json = unknown;

/** Where a problem is and what is wrong. */
export type Report = (field: string, message: string) => void;

/** A value as it reads in a message: JSON, cut at 60 characters. */
export function describeValue(value: Json): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? text.slice(0, 57) + '...' : text;
}

export function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class FieldChecker {
  constructor(private readonly report: Report) {}

  fail(field: string, message: string): void {
    this.report(field, message);
  }

  string(value: Json, field: string, required: boolean): string | undefined {
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value.trim() === '') {
      this.fail(field, value === undefined ? 'is required (a non-empty string)' : `must be a non-empty string, got ${describeValue(value)}`);
      return undefined;
    }
    return value;
  }

  integer(value: Json, field: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(field, `must be an integer between ${min} and ${max}, got ${describeValue(value)}`);
      return fallback;
    }
    return value;
  }

  number(value: Json, field: string, fallback: number, min: number, max: number): number {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      this.fail(field, `must be a number between ${min} and ${max}, got ${describeValue(value)}`);
      return fallback;
    }
    return value;
  }

  boolean(value: Json, field: string, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') {
      this.fail(field, `must be true or false, got ${describeValue(value)}`);
      return fallback;
    }
    return value;
  }

  object(value: Json, field: string): Record<string, Json> | undefined {
    if (value === undefined) return undefined;
    if (!isObject(value)) {
      this.fail(field, `must be an object, got ${describeValue(value)}`);
      return undefined;
    }
    return value;
  }
}
