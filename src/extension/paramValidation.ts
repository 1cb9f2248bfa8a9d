// Reads what the operator types for a trigger param and checks it with the server's own rule
// (src/shared/params.ts), so the input box refuses a value before the request is sent.
import type { ParamSpec, ParamValue } from '../shared/api';
import { paramValueProblem } from '../shared/params';
import { english, type Translate } from './format';

/** What an input box gave: a value to send, "omit" (empty: the server applies the default), or a problem. */
export type ParsedParam = { kind: 'value'; value: ParamValue } | { kind: 'omit' } | { kind: 'problem'; message: string };

/** Turns the text typed for a param into the value the server expects and checks it. */
export function parseParamInput(name: string, spec: ParamSpec, text: string, t: Translate = english): ParsedParam {
  const trimmed = spec.type === 'string' ? text : text.trim();
  if (trimmed === '') return { kind: 'omit' };
  let value: unknown = trimmed;
  if (spec.type === 'integer') {
    if (!/^[+-]?\d+$/.test(trimmed)) return { kind: 'problem', message: t('{0} must be a whole number', name) };
    value = Number(trimmed);
  } else if (spec.type === 'boolean') {
    const lower = trimmed.toLowerCase();
    if (lower === 'true') value = true;
    else if (lower === 'false') value = false;
    else return { kind: 'problem', message: t('{0} must be true or false', name) };
  }
  const problem = paramValueProblem(spec, value);
  return problem ? { kind: 'problem', message: `${name} ${problem}` } : { kind: 'value', value: value as ParamValue };
}

/** The hint under an input box: type, bounds, pattern and default. */
export function paramPrompt(name: string, spec: ParamSpec, t: Translate = english): string {
  const parts = [spec.description ? `${name}: ${spec.description}` : name, spec.type];
  if (spec.min !== undefined) parts.push(spec.type === 'string' ? t('at least {0} characters', spec.min) : t('min {0}', spec.min));
  if (spec.max !== undefined) parts.push(spec.type === 'string' ? t('at most {0} characters', spec.max) : t('max {0}', spec.max));
  if (spec.pattern !== undefined) parts.push(t('matches {0}', spec.pattern));
  parts.push(spec.default !== undefined ? t('empty = default {0}', String(spec.default)) : t('empty = not set'));
  return parts.join(' · ');
}
