// Which server a command acts on. A tree item or an argument that names its server says so; a cron name or an
// execution id known to exactly one server means that server; one known to several is asked; nothing named
// (the palette) means the active server. No vscode import (unit-tested).

/**
 * A command argument that names its server, for callers outside the tree (the dashboard, a notification's
 * Show Logs, tests): `{ server: "production", cronName: "backup" }`.
 */
export interface ServerScopedArg {
  server: string;
  cronName?: string;
  executionId?: string;
  /** Sign In: the token to check and store instead of asking. */
  token?: string;
}

export function isServerScoped(arg: unknown): arg is ServerScopedArg {
  return typeof arg === 'object' && arg !== null && typeof (arg as { server?: unknown }).server === 'string';
}

/** The server an argument names: a scoped argument's, or a tree item's (`serverId`). */
export function serverRefOf(arg: unknown): string | undefined {
  if (isServerScoped(arg)) return arg.server;
  if (typeof arg === 'object' && arg !== null && typeof (arg as { serverId?: unknown }).serverId === 'string') return (arg as { serverId: string }).serverId;
  return undefined;
}

/** What the command's own resolution (pickers) should get: the cron or execution inside a scoped argument, else the argument. */
export function innerArg(arg: unknown): unknown {
  if (isServerScoped(arg)) return arg.executionId ?? arg.cronName;
  return arg;
}

export interface ServerCandidate {
  id: string;
  active: boolean;
  /** Whether this server knows the cron or execution the command names. */
  knows: boolean;
}

export type ServerChoice = { kind: 'server'; id: string } | { kind: 'ask'; ids: string[] };

/**
 * `named`: whether the argument names a cron or an execution (a string), rather than nothing (the palette).
 * Assumes at least one candidate, the active one among them.
 */
export function chooseServer(candidates: readonly ServerCandidate[], named: boolean): ServerChoice {
  const active = candidates.find((candidate) => candidate.active) ?? candidates[0];
  if (candidates.length <= 1 || !named) return { kind: 'server', id: active.id };
  const knowing = candidates.filter((candidate) => candidate.knows);
  if (knowing.length === 1) return { kind: 'server', id: knowing[0].id };
  // Known nowhere: the active server answers (and says what is wrong with the name).
  if (knowing.length === 0) return { kind: 'server', id: active.id };
  // The active one first in the question.
  return { kind: 'ask', ids: [...knowing].sort((a, b) => Number(b.active) - Number(a.active)).map((candidate) => candidate.id) };
}
