// Which servers the extension watches: the `cronOps.servers` list (name, URL) with `cronOps.serverUrl` as the
// default entry when the list is empty or does not name it. One entry per origin, since tokens are kept per
// origin: two entries of one origin would share a token. No vscode import (unit-tested).
import { originOf, redactTyped, redactUrls } from './serverOrigin';

/**
 * The id of the entry that `cronOps.serverUrl` names: its URL follows that setting. Ids are matched before
 * names, so no entry may be named like an id (resolveServers renames such an entry, as a duplicate name).
 */
export const DEFAULT_SERVER_ID = 'cronOps.serverUrl';

export interface ServerEntry {
  /** DEFAULT_SERVER_ID for the `cronOps.serverUrl` entry, the origin for the others (internal: never a name). */
  id: string;
  name: string;
  /** The base URL, without a trailing slash. */
  url: string;
  origin: string;
  /** Whether this is the `cronOps.serverUrl` entry. */
  isDefault: boolean;
}

export interface ResolvedServers {
  servers: ServerEntry[];
  /** What was left out of the list and why, with what to do (for the log and a warning). */
  problems: string[];
}

function httpUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

function trimUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

/** A URL from the settings, made a server's base URL. */
export interface BaseUrl {
  /** Scheme, host, port and any path (a reverse proxy's prefix: the API client appends to it), no trailing slash. */
  url: string;
  /** The URL carried a user name or password: they are never sent (tokens go through Sign In). */
  hadCredentials: boolean;
  /** What was removed and why ("#/crons" from a browser's address bar), for a warning; empty when nothing. */
  removed: string[];
}

/** Undefined when the text is not an http(s) URL. */
export function baseUrlOf(text: string): BaseUrl | undefined {
  const url = httpUrl(text.trim());
  if (!url) return undefined;
  const removed: string[] = [];
  if (url.search) removed.push(`the query "${redactUrls(url.search)}"`);
  if (url.hash) removed.push(`the fragment "${redactUrls(url.hash)}"`);
  return { url: `${url.origin}${url.pathname.replace(/\/+$/, '')}`, hadCredentials: url.username !== '' || url.password !== '', removed };
}

/**
 * The base URL of the `cronOps.serverUrl` server: that setting cleaned as baseUrlOf does (its warnings come from
 * resolveServers); the text itself when it is no URL, so requests fail saying what is wrong with it.
 */
export function defaultServerUrl(serverUrl: string): string {
  return baseUrlOf(serverUrl)?.url ?? trimUrl(serverUrl);
}

const SIGN_IN_INSTEAD = 'Remove them from the URL and use "Cron Ops: Sign In" with an API token instead.';

/** A name for a server the settings do not name: its host and port. */
export function defaultServerName(url: string): string {
  return httpUrl(url)?.host ?? url;
}

/** The servers the settings describe, the `cronOps.serverUrl` one first unless the list places it. */
export function resolveServers(list: unknown, serverUrl: string): ResolvedServers {
  const problems: string[] = [];
  const defaultBase = baseUrlOf(serverUrl);
  if (defaultBase?.hadCredentials) problems.push(`cronOps.serverUrl holds a user name or password: they are not sent. ${SIGN_IN_INSTEAD}`);
  if (defaultBase?.removed.length) problems.push(`cronOps.serverUrl: ${defaultBase.removed.join(' and ')} was ignored (a server URL is its address, e.g. https://cron.example.com).`);
  const defaultUrl = defaultServerUrl(serverUrl);
  const defaultOrigin = originOf(defaultUrl);
  const servers: ServerEntry[] = [];
  const origins = new Set<string>();
  const names = new Set<string>();
  const entries = list === undefined || list === null ? [] : Array.isArray(list) ? list : undefined;
  if (!entries) problems.push('cronOps.servers is not a list: write it as [{ "name": "production", "url": "https://cron.example.com" }].');
  for (const [index, raw] of (entries ?? []).entries()) {
    const where = `cronOps.servers[${index}]`;
    const entry = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
    const typed = typeof entry?.url === 'string' ? trimUrl(entry.url) : undefined;
    if (!typed) {
      problems.push(`${where} has no "url": give each server { "name": "…", "url": "https://…" }; it was left out.`);
      continue;
    }
    const base = baseUrlOf(typed);
    if (!base) {
      problems.push(`${where}: "${redactTyped(typed)}" is not an http(s) URL; it was left out.`);
      continue;
    }
    if (base.hadCredentials) {
      problems.push(`${where}: "${redactUrls(typed)}" holds a user name or password; it was left out. ${SIGN_IN_INSTEAD}`);
      continue;
    }
    if (base.removed.length) problems.push(`${where}: ${base.removed.join(' and ')} of "${base.url}" was ignored (a server URL is its address, e.g. https://cron.example.com).`);
    const urlText = base.url;
    const origin = originOf(urlText);
    if (origins.has(origin)) {
      problems.push(`${where}: ${origin} is already listed (one token per server origin); it was left out.`);
      continue;
    }
    const isDefault = origin === defaultOrigin;
    let name = typeof entry?.name === 'string' && entry.name.trim() ? entry.name.trim() : defaultServerName(urlText);
    if (names.has(name)) {
      problems.push(`${where}: the name "${name}" is already used; this one is shown as "${name} (${httpUrl(urlText)!.host})".`);
      name = `${name} (${httpUrl(urlText)!.host})`;
    }
    origins.add(origin);
    names.add(name);
    // The default entry keeps cronOps.serverUrl's own URL: that setting stays the one place to change it.
    servers.push({ id: isDefault ? DEFAULT_SERVER_ID : origin, name, url: isDefault ? defaultUrl : urlText, origin, isDefault });
  }
  if (!origins.has(defaultOrigin)) {
    let name = defaultServerName(defaultUrl);
    if (names.has(name)) name = `${name} (cronOps.serverUrl)`;
    servers.unshift({ id: DEFAULT_SERVER_ID, name, url: defaultUrl, origin: defaultOrigin, isDefault: true });
  }
  // A name equal to another entry's id would be shadowed by it (commands match ids first).
  for (const server of servers) {
    if (!servers.some((other) => other.id === server.name)) continue;
    const renamed = `${server.name} (${httpUrl(server.url)?.host ?? server.origin})`;
    problems.push(`The name "${server.name}" is reserved; that server is shown as "${renamed}".`);
    server.name = renamed;
  }
  return { servers, problems: problems.map(redactUrls) };
}

/** The entry a reference names: its id, its name, its URL or its origin (case-insensitive name). */
export function findServer<T extends Pick<ServerEntry, 'id' | 'name' | 'url' | 'origin'>>(servers: readonly T[], ref: string): T | undefined {
  const text = ref.trim();
  return (
    servers.find((server) => server.id === text) ??
    servers.find((server) => server.name === text) ??
    servers.find((server) => server.name.toLowerCase() === text.toLowerCase()) ??
    servers.find((server) => server.url === trimUrl(text)) ??
    servers.find((server) => server.origin === originOf(text))
  );
}
