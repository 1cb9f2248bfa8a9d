// CodeLens above each cron of an open definitions file (crons.json, *.crons.json) that the connected server
// runs: last run, p95, next run, then ▶ Run and Show Logs. Renders from the shared state; only the p95 is
// fetched here (the server's history, bounded and cached per cron, refreshed when that cron's run finishes).
import * as vscode from 'vscode';
import type { ApiClient } from '../apiClient';
import type { Clock } from '../clock';
import { describeSchedule } from '../../shared/schedule';
import { displayLanguage, t } from '../l10n';
import type { Settings } from '../settings';
import type { CronOpsState } from '../state';
import { cronDefinitionSites } from './cronDefinitions';
import { P95Cache } from './p95Cache';
import { lensSummary } from './runSummary';

/** The files the lenses (and the schema, see package.json jsonValidation) apply to. */
export const DEFINITIONS_SELECTOR: vscode.DocumentSelector = [
  { language: 'json', pattern: '**/{crons.json,*.crons.json}' },
  { language: 'jsonc', pattern: '**/{crons.json,*.crons.json}' },
];

export class CronCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  readonly p95: P95Cache;
  private readonly subscriptions: vscode.Disposable[];
  /** Whether the lenses last drawn offered ▶ Run: a role change (another token, same crons) redraws them. */
  private drawnCanAct: boolean;

  constructor(
    client: ApiClient,
    private readonly state: CronOpsState,
    private readonly clock: Clock,
    settings: Settings,
  ) {
    this.drawnCanAct = state.canAct;
    this.p95 = new P95Cache(async (cronName, limit) => (await client.executions({ cronName, limit })).executions);
    this.subscriptions = [
      state.onDidChangeCrons(() => this.changed.fire()),
      state.onDidChange(() => {
        if (state.canAct !== this.drawnCanAct) this.changed.fire();
      }),
      state.onExecutionFinished((execution) => this.p95.invalidate(execution.cronName)),
      this.p95.onDidChange(() => this.changed.fire()),
      // Another server: its crons of the same names are other crons.
      settings.onDidChange((names) => {
        if (names.has('serverUrl')) this.p95.clear();
      }),
    ];
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (this.state.connection !== 'connected' && !this.state.isLoaded) return [];
    const now = this.clock.now();
    this.drawnCanAct = this.state.canAct;
    const lenses: vscode.CodeLens[] = [];
    for (const site of cronDefinitionSites(document.getText())) {
      const cron = this.state.cron(site.name);
      if (!cron) continue;
      const start = document.positionAt(site.offset);
      const range = new vscode.Range(start, start);
      const shown = cron.runningExecution ?? cron.lastExecution;
      lenses.push(
        new vscode.CodeLens(range, {
          title: lensSummary(cron, this.p95.get(cron.name), now, t, displayLanguage()),
          // The schedule as the tree and the dashboard say it: in the display language, with its time zone.
          tooltip: cron.schedule ? t('{0}: {1}', cron.name, describeSchedule(cron.schedule, cron.timezone, displayLanguage())) : cron.name,
          // Information only: an empty command makes the lens text unclickable.
          command: '',
        }),
      );
      if (this.state.canAct) lenses.push(new vscode.CodeLens(range, { title: t('$(play) Run'), tooltip: t('Run {0} now', cron.name), command: 'cronOps.triggerCron', arguments: [cron.name] }));
      if (shown) lenses.push(new vscode.CodeLens(range, { title: t('$(output) Show Logs'), tooltip: t('Show the logs of the last run of {0}', cron.name), command: 'cronOps.showLogs', arguments: [shown.id] }));
    }
    return lenses;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.p95.dispose();
    this.changed.dispose();
  }
}

export function registerCronCodeLens(context: vscode.ExtensionContext, deps: { client: ApiClient; state: CronOpsState; clock: Clock; settings: Settings }): CronCodeLensProvider {
  const provider = new CronCodeLensProvider(deps.client, deps.state, deps.clock, deps.settings);
  context.subscriptions.push(provider, vscode.languages.registerCodeLensProvider(DEFINITIONS_SELECTOR, provider));
  return provider;
}
