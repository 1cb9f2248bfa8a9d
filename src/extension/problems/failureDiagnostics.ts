// Failed runs in the Problems panel: when the state learns that a run failed, its stderr is read (logs
// endpoint, bounded), traced back to workspace files and raised as diagnostics with a "Show Logs" quick fix;
// the next successful run of that cron clears them.
import * as vscode from 'vscode';
import type { Execution } from '../../shared/api';
import type { ApiClient } from '../apiClient';
import { t } from '../l10n';
import type { Logger } from '../logger';
import type { Settings } from '../settings';
import type { CronOpsState } from '../state';
import { candidatePaths, failureProblems, shortId, type FailureProblem } from './failureProblems';
import { errorText } from '../serverOrigin';

/** stderr lines read per failed run, at most (the server pages its logs). */
const MAX_LOG_LINES = 5000;
const LOG_PAGE = 1000;

export class FailureDiagnostics implements vscode.CodeActionProvider, vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('cronOps');
  /** Per cron, the problems of its last failed run. */
  private readonly byCron = new Map<string, FailureProblem[]>();
  /** The newest run of each cron handled, so that a slow log read of an older failure never wins. */
  private readonly latest = new Map<string, string>();
  private readonly subscriptions: vscode.Disposable[];
  private signedIn: boolean;
  private readonly updated = new vscode.EventEmitter<string>();
  /** A cron's problems were raised or cleared (after the log read). */
  readonly onDidUpdate = this.updated.event;

  constructor(
    private readonly client: ApiClient,
    state: CronOpsState,
    private readonly settings: Settings,
    private readonly log: Logger,
  ) {
    this.signedIn = state.signedIn;
    this.subscriptions = [
      state.onExecutionFinished((execution) => void this.onFinished(execution)),
      // Another server's crons are other crons: what the previous one raised no longer applies.
      settings.onDidChange((names) => {
        if (names.has('serverUrl')) this.clearAll();
      }),
      // Sign Out clears every view: problems read with the token are gone with it.
      state.onDidChange(() => {
        if (this.signedIn && !state.signedIn) this.clearAll();
        this.signedIn = state.signedIn;
      }),
    ];
  }

  /** The problems raised for a cron, as they are in Problems. */
  problemsOf(cronName: string): readonly FailureProblem[] {
    return this.byCron.get(cronName) ?? [];
  }

  private async onFinished(execution: Execution): Promise<void> {
    if (execution.status === 'running') return;
    this.latest.set(execution.cronName, execution.id);
    if (execution.status === 'completed') {
      this.set(execution.cronName, []);
      return;
    }
    if (execution.status !== 'failed') return;
    try {
      const stderr = await this.stderrOf(execution.id);
      const context = this.mappingContext();
      const files = new Map<string, string[]>();
      for (const path of candidatePaths(stderr, context)) {
        const lines = await fileLines(path);
        if (lines) files.set(path, lines);
      }
      const found = failureProblems(execution, stderr, context, (path) => files.has(path), t);
      for (const problem of found) problem.endColumn = Math.max(problem.column + 1, files.get(problem.path)?.[problem.line]?.length ?? 0);
      if (this.latest.get(execution.cronName) !== execution.id) return;
      this.set(execution.cronName, found);
      if (found.length) this.log.info(`[Problems] ${execution.cronName} ${execution.id} failed: ${found.length} place(s) in the workspace`);
    } catch (error) {
      this.log.warn(`[Problems] Could not read the logs of ${execution.cronName} ${execution.id}: ${errorText(error)}`);
    }
  }

  private async stderrOf(executionId: string): Promise<string[]> {
    const lines: string[] = [];
    let after = 0;
    for (let read = 0; read < MAX_LOG_LINES; read += LOG_PAGE) {
      const reply = await this.client.logs(executionId, after, LOG_PAGE);
      for (const line of reply.lines) if (line.stream === 'stderr') lines.push(line.line);
      if (reply.lines.length === 0 || reply.done) break;
      after = reply.lines[reply.lines.length - 1].seq;
    }
    return lines;
  }

  private mappingContext() {
    return {
      mappings: this.settings.pathMappings,
      folders: (vscode.workspace.workspaceFolders ?? []).map((folder) => ({ name: folder.name, path: folder.uri.fsPath.replace(/\\/g, '/') })),
    };
  }

  private set(cronName: string, problems: FailureProblem[]): void {
    const before = this.byCron.get(cronName) ?? [];
    if (problems.length) this.byCron.set(cronName, problems);
    else this.byCron.delete(cronName);
    const paths = new Set([...before, ...problems].map((problem) => problem.path));
    for (const path of paths) {
      const uri = vscode.Uri.file(path);
      const all = [...this.byCron.values()].flat().filter((problem) => problem.path === path);
      this.collection.set(uri, all.map(toDiagnostic));
    }
    this.updated.fire(cronName);
  }

  private clearAll(): void {
    const crons = [...this.byCron.keys()];
    this.byCron.clear();
    this.latest.clear();
    this.collection.clear();
    for (const cronName of crons) this.updated.fire(cronName);
  }

  provideCodeActions(document: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    const path = document.uri.fsPath;
    for (const diagnostic of context.diagnostics) {
      if (diagnostic.source !== 'Cron Ops') continue;
      const problem = [...this.byCron.values()].flat().find((candidate) => candidate.path === path && candidate.line === diagnostic.range.start.line && candidate.message === diagnostic.message);
      if (!problem) continue;
      const action = new vscode.CodeAction(t('Show Logs of {0} run {1}', problem.cronName, shortId(problem.executionId)), vscode.CodeActionKind.QuickFix);
      action.diagnostics = [diagnostic];
      action.command = { command: 'cronOps.showLogs', title: action.title, arguments: [problem.executionId] };
      actions.push(action);
    }
    return actions;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.collection.dispose();
    this.updated.dispose();
  }
}

function toDiagnostic(problem: FailureProblem): vscode.Diagnostic {
  const range = new vscode.Range(problem.line, problem.column, problem.line, problem.endColumn ?? problem.column + 1);
  const diagnostic = new vscode.Diagnostic(range, problem.message, problem.raisedHere ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
  diagnostic.source = 'Cron Ops';
  diagnostic.code = problem.cronName;
  return diagnostic;
}

/** A workspace file's lines (to underline a whole statement), or undefined when there is no such file. */
async function fileLines(path: string): Promise<string[] | undefined> {
  try {
    const uri = vscode.Uri.file(path);
    if ((await vscode.workspace.fs.stat(uri)).type !== vscode.FileType.File) return undefined;
    return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)).split(/\r?\n/);
  } catch {
    return undefined;
  }
}

export function registerFailureDiagnostics(context: vscode.ExtensionContext, deps: { client: ApiClient; state: CronOpsState; settings: Settings; log: Logger }): FailureDiagnostics {
  const diagnostics = new FailureDiagnostics(deps.client, deps.state, deps.settings, deps.log);
  context.subscriptions.push(diagnostics, vscode.languages.registerCodeActionsProvider({ scheme: 'file' }, diagnostics, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }));
  return diagnostics;
}
