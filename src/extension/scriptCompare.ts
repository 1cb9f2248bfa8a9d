// Compare with Last Successful Run: VS Code's diff editor between the script a failing run launched and the
// one the last good run of that cron launched, both as the server kept them (read-only documents on the
// cron-ops-script: scheme), and the same action on a failure notification when the two versions differ.
import * as vscode from 'vscode';
import type { Execution, ScriptVersionReply } from '../shared/api';
import { showFailure } from './errorNotifications';
import { t } from './l10n';
import type { Logger } from './logger';
import { resolveExecution } from './pickers';
import type { ServerConnection, Servers } from './servers';
import { innerArg, type ServerScopedArg } from './serverTarget';
import { changedFiles, type ChangedFile } from './scriptVersionDiff';
import { shortVersion } from './scriptVersionText';

export const SCRIPT_SCHEME = 'cron-ops-script';
export const COMPARE_COMMAND = 'cronOps.compareWithLastSuccess';

/** How long a failure notification may wait to know whether it can offer the comparison. */
const OFFER_TIMEOUT_MS = 3_000;

/**
 * The document of one file as run `executionId` of server `serverId` launched it; `absent`: that run had no
 * such file (shown empty).
 */
export function scriptUri(serverId: string, executionId: string, path: string, absent = false): vscode.Uri {
  const query = new URLSearchParams({ server: serverId, ...(absent ? { absent: '1' } : {}) });
  return vscode.Uri.from({ scheme: SCRIPT_SCHEME, path: `/${executionId}/${path}`, query: query.toString() });
}

function parseScriptUri(uri: vscode.Uri): { serverId: string; executionId: string; path: string; absent: boolean } {
  const [executionId, ...rest] = uri.path.replace(/^\//, '').split('/');
  const query = new URLSearchParams(uri.query);
  return { serverId: query.get('server') ?? '', executionId, path: rest.join('/'), absent: query.has('absent') };
}

/** Read-only: the server's copy of what ran never changes, so each document is fetched once. */
export class ScriptContentProvider implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, Promise<string>>();

  constructor(private readonly servers: Servers) {}

  provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const key = uri.toString();
    let content = this.contents.get(key);
    if (!content) {
      content = this.fetch(uri);
      this.contents.set(key, content);
      // A failed fetch (server down, signed out) is tried again next time the document is opened.
      content.catch(() => this.contents.delete(key));
    }
    return content;
  }

  private async fetch(uri: vscode.Uri): Promise<string> {
    const { serverId, executionId, path, absent } = parseScriptUri(uri);
    if (absent) return '';
    const server = this.servers.find(serverId);
    if (!server) throw new Error(t('No configured Cron Ops server is called {0}: check the cronOps.servers setting.', serverId));
    const file = await server.client.scriptFile(executionId, path);
    if (file.encoding === 'utf8') return file.content;
    return t('(binary content: {0} bytes, sha-256 {1})', file.size, file.sha256) + '\n';
  }
}

export type CompareOutcome =
  | { kind: 'opened'; path: string; failing: Execution; baseline: Execution; left: vscode.Uri; right: vscode.Uri }
  | { kind: 'noVersion' | 'noBaseline' | 'sameVersion'; execution: Execution };

export interface ScriptCompareDeps {
  servers: Servers;
  log: Logger;
}

export class ScriptCompare implements vscode.Disposable {
  private readonly offered = new vscode.EventEmitter<{ executionId: string; offered: boolean }>();
  /** Fires once a failure notification knows whether it offers the comparison (the suite waits on it). */
  readonly onDidDecideOffer = this.offered.event;

  constructor(private readonly deps: ScriptCompareDeps) {}

  /** Opens the diff editor for `arg` (an execution id, a tree node, or a pick among failed runs). */
  async compare(arg?: unknown): Promise<CompareOutcome | undefined> {
    const { servers, log } = this.deps;
    try {
      const server = await servers.forExecution(arg);
      if (!server) return undefined;
      const { client, state } = server;
      const chosen = await resolveExecution(innerArg(arg), state, client, {
        candidates: async () => (await client.executions({ status: 'failed', limit: 50 })).executions,
        placeHolder: t('Compare which failed run with the last successful one?'),
        empty: t('No failed run to compare.'),
        fromCron: (cron) => cron.lastExecution,
      });
      if (!chosen) return undefined;
      // The copy from the start event predates the version: ask the server.
      const failing = await client.execution(chosen.id);
      if (!failing.scriptVersion) {
        void vscode.window.showInformationMessage(t('{0}: this run has no recorded script version (its command names no file inside the config folder, or it was not started by the server).', failing.cronName));
        return { kind: 'noVersion', execution: failing };
      }
      const baseline = (await client.lastSuccessful(failing.id)).execution;
      if (!baseline?.scriptVersion) {
        void vscode.window.showInformationMessage(t('{0}: no earlier successful run with a recorded script version to compare with.', failing.cronName));
        return { kind: 'noBaseline', execution: failing };
      }
      if (baseline.scriptVersion === failing.scriptVersion) {
        void vscode.window.showInformationMessage(
          t('{0}: this run launched the same script version ({1}) as the last successful run: the cause is elsewhere (params, data, environment).', failing.cronName, shortVersion(failing.scriptVersion)),
        );
        return { kind: 'sameVersion', execution: failing };
      }
      const [before, after] = await Promise.all([client.script(baseline.id), client.script(failing.id)]);
      const file = await this.pickFile(before, after);
      if (!file) return undefined;
      const left = scriptUri(server.id, baseline.id, file.path, !file.inBaseline);
      const right = scriptUri(server.id, failing.id, file.path, !file.inFailing);
      const title = t('{0}: last success {1} ↔ failed run {2}', file.path, shortVersion(baseline.scriptVersion), shortVersion(failing.scriptVersion));
      await vscode.commands.executeCommand('vscode.diff', left, right, title, { preview: false });
      log.info(`Compared ${file.path} of ${failing.cronName}: ${baseline.id} ↔ ${failing.id}`);
      return { kind: 'opened', path: file.path, failing, baseline, left, right };
    } catch (error) {
      showFailure(error, log, 'Compare with Last Successful Run');
      return undefined;
    }
  }

  /** The one changed file, or the one the operator picks when several changed. */
  private async pickFile(before: ScriptVersionReply, after: ScriptVersionReply): Promise<ChangedFile | undefined> {
    const changed = changedFiles(before.files, after.files);
    if (changed.length <= 1) return changed[0];
    const picked = await vscode.window.showQuickPick(
      changed.map((file) => ({ label: file.path, description: !file.inBaseline ? t('added') : !file.inFailing ? t('removed') : t('changed'), file })),
      { placeHolder: t('{0} files changed since the last successful run: compare which?', changed.length) },
    );
    return picked?.file;
  }

  /**
   * The notification's action for a failed run, when a last successful run launched another version; bounded
   * in time, and never offered to a viewer (the content of scripts is for admins).
   */
  async failureAction(execution: Execution, server: ServerConnection): Promise<{ title: string; run: () => void } | undefined> {
    let offer = false;
    try {
      if (execution.status !== 'failed' || !execution.scriptVersion || !server.state.canAct) return undefined;
      const baseline = (await server.client.lastSuccessful(execution.id, OFFER_TIMEOUT_MS)).execution;
      offer = Boolean(baseline?.scriptVersion && baseline.scriptVersion !== execution.scriptVersion);
      const arg: ServerScopedArg = { server: server.id, executionId: execution.id };
      return offer ? { title: t('Compare with Last Successful Run'), run: () => void vscode.commands.executeCommand(COMPARE_COMMAND, arg) } : undefined;
    } catch (error) {
      this.deps.log.debug(`No comparison offered for ${execution.id}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    } finally {
      this.offered.fire({ executionId: execution.id, offered: offer });
    }
  }

  dispose(): void {
    this.offered.dispose();
  }
}

export function registerScriptCompare(context: vscode.ExtensionContext, deps: ScriptCompareDeps): ScriptCompare {
  const compare = new ScriptCompare({ ...deps, log: deps.log.child('Compare') });
  context.subscriptions.push(
    compare,
    vscode.workspace.registerTextDocumentContentProvider(SCRIPT_SCHEME, new ScriptContentProvider(deps.servers)),
    vscode.commands.registerCommand(COMPARE_COMMAND, (arg?: unknown) => compare.compare(arg)),
  );
  return compare;
}
