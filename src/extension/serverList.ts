// Which servers the extension watches: the `cronOps.servers` list (name, URL) with `cronOps.serverUrl` as the
// default entry when the list is empty or does not name it. One entry per origin, since tokens are kept per
// origin: two entries of one origin would share a token. No vscode import (unit-tested).
import { originOf } from './serverOrigin';

/** The id of the entry that `cronOps.serverUrl` names: its URL follows that setting. */
export const DEFAULT_SERVER_ID = 'default';

export interface ServerEntry {
  /** DEFAULT_SERVER_ID for the `cronOps.serverUrl` entry, the origin for the others. */
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

/** A name for a server the settings do not name: its host and port. */
export function defaultServerName(url: string): string {
  return httpUrl(url)?.host ?? url;
}

/** The servers the settings describe, the `cronOps.serverUrl` one first unless the list places it. */
export function resolveServers(list: unknown, serverUrl: string): ResolvedServers {
  const problems: string[] = [];
  const defaultUrl = trimUrl(serverUrl);
  const defaultOrigin = originOf(defaultUrl);
  const servers: ServerEntry[] = [];
  const origins = new Set<string>();
  const names = new Set<string>();
  const entries = list === undefined || list === null ? [] : Array.isArray(list) ? list : undefined;
  if (!entries) problems.push('cronOps.servers is not a list: write it as [{ "name": "production", "url": "https://cron.example.com" }].');
  for (const [index, raw] of (entries ?? []).entries()) {
    const where = `cronOps.servers[${index}]`;
    const entry = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
    const urlText = typeof entry?.url === 'string' ? trimUrl(entry.url) : undefined;
    if (!urlText) {
      problems.push(`${where} has no "url": give each server { "name": "…", "url": "https://…" }.`);
      continue;
    }
    if (!httpUrl(urlText)) {
      problems.push(`${where}: "${urlText}" is not an http(s) URL; it was left out.`);
      continue;
    }
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
  return { servers, problems };
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
