// The server's word on its definitions file, in the editor: when it reloads crons.json and finds problems, each
// becomes a diagnostic at its line in the workspace copy of that file; a valid reload clears them. The file is
// the server's path, through `cronOps.pathMappings` when the server runs elsewhere. On each (re)connection the
// current state is read from /health, so problems found while VS Code was away show too.
import * as vscode from 'vscode';
import type { DefinitionProblem } from '../../shared/api';
import type { DefinitionsReloadedEvent } from '../../shared/events';
import type { ApiClient } from '../apiClient';
import type { EventStream } from '../eventStream';
import type { Logger } from '../logger';
import { candidateWorkspacePaths } from '../problems/stackFrames';
import type { Settings } from '../settings';

export const RELOAD_DIAGNOSTIC_SOURCE = 'Cron Ops server';

export class ReloadDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('cronOps.definitions');
  private readonly subscriptions: vscode.Disposable[];
  /** Orders the answers: a slow /health read never overwrites a newer event. */
  private generation = 0;

  constructor(
    private readonly client: ApiClient,
    stream: EventStream,
    private readonly settings: Settings,
    private readonly log: Logger,
  ) {
    this.subscriptions = [
      stream.onEvent((event) => {
        if (event.name === 'definitions.reloaded') void this.show(event.data.path, event.data.problems, ++this.generation);
      }),
      stream.onStatus((status) => {
        if (status.state === 'open') void this.readHealth();
      }),
      // Another server's file is another file: what the previous one reported no longer applies.
      settings.onDidChange((names) => {
        if (names.has('serverUrl')) {
          this.generation++;
          this.collection.clear();
        }
      }),
    ];
  }

  private async readHealth(): Promise<void> {
    const generation = ++this.generation;
    try {
      const definitions = (await this.client.health()).definitions;
      if (definitions) await this.show(definitions.path, definitions.problems, generation);
    } catch (error) {
      this.log.debug(`[Definitions] Could not read /health: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async show(serverPath: DefinitionsReloadedEvent['path'], problems: readonly DefinitionProblem[], generation: number): Promise<void> {
    const uri = await this.localFile(serverPath);
    if (generation !== this.generation) return;
    this.collection.clear();
    if (!uri) {
      if (problems.length > 0) this.log.warn(`[Definitions] The server reports ${problems.length} problem(s) in ${serverPath}, which is not in this workspace (see cronOps.pathMappings)`);
      return;
    }
    this.collection.set(uri, problems.map(toDiagnostic));
    if (problems.length > 0) this.log.info(`[Definitions] The server kept its crons: ${problems.length} problem(s) in ${uri.fsPath}`);
  }

  /** The workspace copy of the server's file: through the path mappings, else the path itself if it exists here. */
  private async localFile(serverPath: string): Promise<vscode.Uri | undefined> {
    const folders = (vscode.workspace.workspaceFolders ?? []).map((folder) => ({ name: folder.name, path: folder.uri.fsPath.replace(/\\/g, '/') }));
    const candidates = [...candidateWorkspacePaths(serverPath, { mappings: this.settings.pathMappings, folders }), serverPath];
    for (const candidate of candidates) {
      try {
        const uri = vscode.Uri.file(candidate);
        if ((await vscode.workspace.fs.stat(uri)).type & vscode.FileType.File) return uri;
      } catch {
        // Not here: try the next one.
      }
    }
    return undefined;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.collection.dispose();
  }
}

function toDiagnostic(problem: DefinitionProblem): vscode.Diagnostic {
  const line = Math.max(0, (problem.line ?? 1) - 1);
  const column = Math.max(0, (problem.column ?? 1) - 1);
  const range = new vscode.Range(line, column, line, column + Math.max(1, problem.length ?? 1));
  const diagnostic = new vscode.Diagnostic(range, problem.field ? `${problem.field}: ${problem.message}` : problem.message, vscode.DiagnosticSeverity.Error);
  diagnostic.source = RELOAD_DIAGNOSTIC_SOURCE;
  return diagnostic;
}

export function registerReloadDiagnostics(context: vscode.ExtensionContext, deps: { client: ApiClient; stream: EventStream; settings: Settings; log: Logger }): ReloadDiagnostics {
  const diagnostics = new ReloadDiagnostics(deps.client, deps.stream, deps.settings, deps.log);
  context.subscriptions.push(diagnostics);
  return diagnostics;
}
