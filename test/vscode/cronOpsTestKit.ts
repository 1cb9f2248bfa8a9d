// What the extension's suites share: the extension's API, settings for a test backend, sign-in, and waits
// on the extension's own events (bounded), neither sleeps nor polling.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { CronOpsApi } from '../../src/extension/extension';
import type { CronOpsNode, CronTreeItem } from '../../src/extension/cronTree';
import { TEST_CRON_SECRET, type ServerProcess } from '../support/serverProcess';
import { waitFor } from '../support/waitFor';

export const EXTENSION_ID = 'cron-ops.cron-ops';

/** The extension's activate() result (the same object on every call). */
export async function cronOpsApi(): Promise<CronOpsApi> {
  const extension = await waitFor(() => vscode.extensions.getExtension<CronOpsApi>(EXTENSION_ID), `extension ${EXTENSION_ID}`);
  return extension.activate();
}

export async function setSetting(name: 'serverUrl' | 'confirmBeforeTrigger' | 'refreshIntervalSeconds' | 'historyLimit' | 'notify', value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('cronOps').update(name, value, vscode.ConfigurationTarget.Global);
}

/**
 * Reads `read()` now and again on each `event` until `probe` holds on what it read (for state only a command
 * can ask, e.g. the CodeLens VS Code shows); resolves with that reading.
 */
export function untilRead<T>(event: vscode.Event<unknown>, read: () => Promise<T>, probe: (value: T) => boolean, what: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    let latest: T | undefined;
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      subscription.dispose();
      if (error) reject(error);
      else resolve(latest as T);
    };
    const check = async () => {
      if (settled) return;
      latest = await read();
      if (probe(latest)) finish();
    };
    const timer = setTimeout(() => finish(new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (now ${JSON.stringify(latest)})`)), timeoutMs);
    const subscription = event(() => void check().catch(finish));
    void check().catch(finish);
  });
}

/**
 * Resolves with `probe()` once it holds, checking now and again each time `event` fires; rejects after
 * `timeoutMs` saying what it waited for and what `describe` reports then.
 */
export function until<T>(event: vscode.Event<unknown>, probe: () => T | undefined | null | false, what: string, timeoutMs = 30_000, describe: () => string = () => ''): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      let value: T | undefined | null | false;
      try {
        value = probe();
      } catch {
        return false;
      }
      if (value === undefined || value === null || value === false) return false;
      clearTimeout(timer);
      subscription?.dispose();
      resolve(value);
      return true;
    };
    const timer = setTimeout(() => {
      subscription?.dispose();
      const now = describe();
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${now ? ` (now ${now})` : ''}`));
    }, timeoutMs);
    let subscription: vscode.Disposable | undefined;
    if (check()) return;
    subscription = event(() => void check());
  });
}

/** Waits on the extension's state: checked on each of its changes. */
export function stateUntil<T>(api: CronOpsApi, probe: () => T | undefined | null | false, what: string, timeoutMs = 30_000): Promise<T> {
  return until(api.state.onDidChange, probe, what, timeoutMs, () => `${api.state.connection}, ${api.state.crons.length} crons, ${api.state.lastError ?? 'no error'}`);
}

/** Points the extension at `server`, without confirmations, signed in with its admin token, and waits for the live stream. */
export async function connectTo(api: CronOpsApi, server: ServerProcess, cronCount: number): Promise<void> {
  await setSetting('confirmBeforeTrigger', false);
  await setSetting('serverUrl', server.url);
  const signedIn = await vscode.commands.executeCommand<boolean>('cronOps.signIn', server.token);
  if (!signedIn) throw new Error(`sign-in to ${server.url} failed: ${api.state.lastError}`);
  await stateUntil(
    api,
    () => api.state.connection === 'connected' && api.state.crons.length === cronCount && api.client.baseUrl === server.url,
    `the extension to be connected to ${server.url} with ${cronCount} crons`,
  );
}

/** Back to defaults, signed out: the next suite starts clean. */
export async function disconnect(): Promise<void> {
  await vscode.commands.executeCommand('cronOps.signOut');
  await setSetting('serverUrl', undefined);
  await setSetting('confirmBeforeTrigger', undefined);
}

/** The Crons view's top-level rows, as VS Code gets them from the provider. */
export async function cronRows(api: CronOpsApi): Promise<CronTreeItem[]> {
  return (await api.tree.provider.getChildren()) as CronTreeItem[];
}

export async function cronRow(api: CronOpsApi, name: string): Promise<CronTreeItem> {
  const row = (await cronRows(api)).find((item) => item.cron.name === name);
  if (!row) throw new Error(`no row for ${name} in the Crons view`);
  return row;
}

export async function childrenOf(api: CronOpsApi, name: string): Promise<CronOpsNode[]> {
  return api.tree.provider.getChildren(await cronRow(api, name));
}

export function iconId(item: vscode.TreeItem): string | undefined {
  return item.iconPath instanceof vscode.ThemeIcon ? item.iconPath.id : undefined;
}

export function iconColor(item: vscode.TreeItem): string | undefined {
  return item.iconPath instanceof vscode.ThemeIcon ? item.iconPath.color?.id : undefined;
}

/** A Markdown tooltip as the operator reads it: character references and non-breaking spaces undone. */
export function markdownText(tooltip: string | vscode.MarkdownString | undefined): string {
  const markdown = typeof tooltip === 'string' ? tooltip : (tooltip?.value ?? '');
  return markdown
    .replace(/&nbsp;/g, ' ')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/[\u00a0\u202f]/g, ' ');
}

export function tooltipText(item: vscode.TreeItem): string {
  return markdownText(item.tooltip);
}

/** An external script reporting that it started (X-Cron-Secret): a run with no process of ours, stuck past its timeout. */
export async function externalStart(server: ServerProcess, cronName: string): Promise<string> {
  const response = await fetch(`${server.url}/api/cron/start`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-cron-secret': TEST_CRON_SECRET },
    body: JSON.stringify({ cronName }),
  });
  const body = (await response.json()) as { id?: string; error?: string };
  if (!response.ok || !body.id) throw new Error(`external start of ${cronName}: HTTP ${response.status} ${JSON.stringify(body)}`);
  return body.id;
}

/** The server's own log lines of an execution, every page. */
export async function serverLogLines(server: ServerProcess, executionId: string): Promise<unknown[]> {
  const lines: { seq: number }[] = [];
  for (;;) {
    const response = await fetch(`${server.url}/api/admin/cron-executions/${executionId}/logs?after=${lines.at(-1)?.seq ?? 0}`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    const body = (await response.json()) as { lines: { seq: number }[] };
    if (body.lines.length === 0) return lines;
    lines.push(...body.lines);
  }
}

/** Opens a copy of the server's crons.json in folder `name` of the workspace, as an operator editing it would. */
export async function openCronsCopy(server: ServerProcess, name: string): Promise<vscode.TextDocument> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!folder) throw new Error('the test window has no workspace folder');
  const dir = join(folder, name);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'crons.json');
  copyFileSync(server.configPath!, path);
  const document = await vscode.workspace.openTextDocument(vscode.Uri.file(path));
  await vscode.window.showTextDocument(document);
  return document;
}
