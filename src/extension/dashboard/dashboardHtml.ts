// The dashboard's HTML shell and the checks on what the webview posts. No vscode import: unit-tested in Node.
import { randomBytes } from 'node:crypto';
import { EXECUTION_STATUSES } from '../../shared/api';
import type { FromWebview, RenderedView, TimelineFilter } from '../../shared/messages';

export interface DashboardHtmlOptions {
  /** webview.cspSource: the origin of the extension's own resources. */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
  title: string;
  lang: string;
}

/** A fresh nonce for each HTML load: 16 random bytes, base64. */
export function createNonce(): string {
  return randomBytes(16).toString('base64');
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The strict policy: only our nonce'd script, only our stylesheet and images, nothing else. */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return `default-src 'none'; script-src 'nonce-${nonce}'; style-src ${cspSource}; img-src ${cspSource}`;
}

/** The page: the stylesheet, an empty main the script fills, and the script. */
export function dashboardHtml(options: DashboardHtmlOptions): string {
  const nonce = escapeHtml(options.nonce);
  return `<!DOCTYPE html>
<html lang="${escapeHtml(options.lang)}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(options.cspSource, options.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(options.styleUri)}">
<title>${escapeHtml(options.title)}</title>
</head>
<body>
<main id="app" aria-busy="true"></main>
<script nonce="${nonce}" src="${escapeHtml(options.scriptUri)}"></script>
</body>
</html>`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function asFilter(value: unknown): TimelineFilter | undefined {
  if (!isRecord(value)) return undefined;
  const { cronName, status } = value;
  if (cronName !== null && typeof cronName !== 'string') return undefined;
  if (status !== null && !(EXECUTION_STATUSES as readonly unknown[]).includes(status)) return undefined;
  return { cronName: cronName || null, status: status as TimelineFilter['status'] };
}

/** A message from the webview, checked (the page is ours, but a bad message must not reach a command). */
export function parseFromWebview(raw: unknown): FromWebview | undefined {
  if (!isRecord(raw) || typeof raw.type !== 'string') return undefined;
  const type = raw.type as FromWebview['type'];
  switch (type) {
    case 'ready':
    case 'filter': {
      const filter = asFilter(raw.filter);
      return filter ? { type, filter } : undefined;
    }
    case 'refresh':
    case 'signIn':
      return { type };
    case 'trigger':
      return typeof raw.cronName === 'string' && raw.cronName ? { type, cronName: raw.cronName } : undefined;
    case 'showLogs':
      return typeof raw.executionId === 'string' && raw.executionId ? { type, executionId: raw.executionId } : undefined;
    case 'rendered':
      return isRecord(raw.view) ? { type, view: raw.view as unknown as RenderedView } : undefined;
    case 'problem':
      return typeof raw.message === 'string' ? { type, message: raw.message } : undefined;
    case 'zoom': {
      if (raw.range === null) return { type, range: null };
      const range = raw.range;
      return isRecord(range) && typeof range.from === 'string' && typeof range.to === 'string' && Number.isFinite(Date.parse(range.from)) && Number.isFinite(Date.parse(range.to))
        ? { type, range: { from: range.from, to: range.to } }
        : undefined;
    }
    default: {
      // Compile time: every message type is handled above. Run time: an unknown type is dropped.
      const unexpected: never = type;
      void unexpected;
      return undefined;
    }
  }
}

