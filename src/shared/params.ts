// The check of a trigger param against its declaration: the server enforces it, the extension applies it
// before sending, so both say the same thing.
import type { ParamSpec } from './api';

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? text.slice(0, 57) + '...' : text;
}

/** What is wrong with `value` for a param declared as `spec`, or undefined when it is fine. */
export function paramValueProblem(spec: ParamSpec, value: unknown): string | undefined {
  switch (spec.type) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return `must be an integer, got ${describe(value)}`;
      if (spec.min !== undefined && value < spec.min) return `must be at least ${spec.min}, got ${value}`;
      if (spec.max !== undefined && value > spec.max) return `must be at most ${spec.max}, got ${value}`;
      return undefined;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `must be true or false, got ${describe(value)}`;
    case 'string':
      if (typeof value !== 'string') return `must be a string, got ${describe(value)}`;
      if (spec.min !== undefined && value.length < spec.min) return `must be at least ${spec.min} characters long`;
      if (spec.max !== undefined && value.length > spec.max) return `must be at most ${spec.max} characters long`;
      if (spec.pattern !== undefined && !new RegExp(spec.pattern).test(value)) return `must match ${spec.pattern}, got ${describe(value)}`;
      return undefined;
  }
}
