// Every user-facing string of the dashboard: English from src/shared/dashboardStrings.ts, replaced by the
// translations by key that the extension sends in its `config` message; `{0}`-style placeholders take
// positional arguments, as vscode.l10n.t does.
import { ENGLISH_STRINGS as ENGLISH, type DashboardStringKey } from '../shared/dashboardStrings';

export type StringKey = DashboardStringKey;

let current: Record<StringKey, string> = { ...ENGLISH };

/** The string for `key` with `{n}` replaced by the n-th argument. */
export function t(key: StringKey, ...args: Array<string | number>): string {
  return current[key].replace(/\{(\d+)\}/g, (whole, index: string) => (Number(index) < args.length ? String(args[Number(index)]) : whole));
}

/** Replaces strings by key; unknown keys and non-strings are ignored, missing keys stay English. */
export function setStrings(overrides: Record<string, unknown>): void {
  const next: Record<StringKey, string> = { ...ENGLISH };
  for (const key of Object.keys(ENGLISH) as StringKey[]) {
    const value = overrides[key];
    if (typeof value === 'string' && value) next[key] = value;
  }
  current = next;
}

/** The English strings, for the extension to translate (their keys are what `config.strings` takes). */
export const ENGLISH_STRINGS: Readonly<Record<StringKey, string>> = ENGLISH;
