// CodeLens above each cron of an open crons.json that the connected server runs: last run, p95, next run,
// ▶ Run and Show Logs, against a live backend. The file in the workspace is the one the server was started with.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { CronOpsApi } from '../../src/extension/extension';
import type { TriggerOutcome } from '../../src/extension/triggerCommand';
import { nodeCron, runServerCommand, startServer, type ServerProcess, type TestConfig } from '../support/serverProcess';
import { describeSchedule } from '../../src/shared/schedule';
import { requestScreenshot } from './harness/protocol';
import { connectTo, cronOpsApi, disconnect, openCronsCopy, stateUntil, until, untilRead } from './cronOpsTestKit';

const config: TestConfig = {
  rateLimits: { perCronSeconds: 1, globalPerMinute: 100 },
  crons: [
    nodeCron('lens-report', "console.log('report ready')", { description: 'Builds the report', schedule: '0 6 * * *', estimatedDurationMs: 500 }),
    nodeCron('lens-cleanup', "console.log('clean')", { schedule: '30 2 * * *', timezone: 'Africa/Tunis' }),
  ],
};

interface LensRow {
  line: number;
  title: string;
  tooltip: string;
  command: string;
  arguments: unknown[];
}

describe('CodeLens in crons.json', () => {
  let server: ServerProcess;
  let api: CronOpsApi;
  let document: vscode.TextDocument;

  const lenses = async (): Promise<LensRow[]> => {
    const found = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri)) ?? [];
    return found.map((lens) => ({ line: lens.range.start.line, title: lens.command?.title ?? '', tooltip: lens.command?.tooltip ?? '', command: lens.command?.command ?? '', arguments: lens.command?.arguments ?? [] }));
  };
  const lineOf = (name: string) => document.positionAt(document.getText().indexOf(`"name": "${name}"`)).line;
  const lensesOf = async (name: string) => (await lenses()).filter((lens) => lens.line === lineOf(name) - 1);
  /** Asks VS Code for the lenses again on each of the provider's change events until those above `name` satisfy `probe`. */
  const lensesUntil = (name: string, probe: (rows: LensRow[]) => boolean, what: string, timeoutMs = 60_000): Promise<LensRow[]> =>
    untilRead(api.codeLens.onDidChangeCodeLenses, () => lensesOf(name), probe, what, timeoutMs);

  let viewerToken = '';

  before(async () => {
    // A store on disk, so that a viewer's token can be made for the server before it starts.
    const dataDir = mkdtempSync(join(tmpdir(), 'cron-ops-lens-'));
    const created = await runServerCommand(['token', 'create', '--name', 'lens-viewer', '--role', 'viewer', '--data', dataDir], {}, 60_000);
    assert.equal(created.code, 0, `token create: ${created.stdout}${created.stderr}`);
    viewerToken = created.stdout.trim().split('\n').pop()!.trim();
    [server, api] = await Promise.all([startServer({ config, args: ['--data', dataDir] }), cronOpsApi()]);
    await connectTo(api, server, config.crons.length);
    document = await openCronsCopy(server, 'lens-check');
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await disconnect();
    await server?.stop();
  });

  it('shows above each cron the server runs that it never ran yet, with its next run and a Run action', async () => {
    const rows = await lensesUntil('lens-cleanup', (found) => found.length > 0, 'the lenses above lens-cleanup');
    assert.match(rows[0].title, /^\$\(circle-outline\) never run · next in \d+ (hr|min)\./);
    assert.deepEqual(rows.slice(1).map((row) => [row.title, row.command, row.arguments]), [['$(play) Run', 'cronOps.triggerCron', ['lens-cleanup']]]);
  });

  it('its Run action starts a run; the lens then says how it ended, its p95 and offers its logs', async () => {
    const [, run] = await lensesUntil('lens-report', (found) => found.length === 2, 'the Run lens above lens-report');
    assert.equal(run.title, '$(play) Run');
    const finished = until(api.state.onExecutionFinished, () => api.state.cron('lens-report')?.lastExecution?.status === 'completed', 'lens-report to complete', 60_000);
    const outcome = await vscode.commands.executeCommand<TriggerOutcome>(run.command, ...run.arguments);
    assert.equal(outcome.kind, 'started', JSON.stringify(outcome));
    if (outcome.kind !== 'started') return;
    await finished;
    await stateUntil(api, () => api.state.cron('lens-report')?.lastExecution?.id === outcome.reply.executionId, 'the run to be the last one');

    const rows = await lensesUntil('lens-report', (found) => /p95/.test(found[0]?.title ?? ''), 'the lens to show the p95 of the finished run');
    assert.match(rows[0].title, /^\$\(pass\) completed (now|\d+ sec\. ago) · p95 [\d.]+ (ms|sec) \(1 run\) · next in \d+ (hr|min)\./);
    assert.deepEqual(rows.slice(1).map((row) => [row.title, row.command, row.arguments]), [
      ['$(play) Run', 'cronOps.triggerCron', ['lens-report']],
      ['$(output) Show Logs', 'cronOps.showLogs', [outcome.reply.executionId]],
    ]);
    await vscode.commands.executeCommand('notifications.clearAll');
    await requestScreenshot('crons-json-codelens', { waitForSelector: '.codelens-decoration:has-text("p95")' });
  });

  it('gives the schedule in its tooltip as the tree does: in words, in the display language, with its time zone', async () => {
    await lensesUntil('lens-cleanup', (found) => found.length > 0, 'the lenses above lens-cleanup');
    // VS Code's executeCodeLensProvider drops the tooltip of an information-only lens: ask the provider itself.
    const line = lineOf('lens-cleanup') - 1;
    const summary = api.codeLens.provideCodeLenses(document).find((lens) => lens.range.start.line === line)!.command!;
    // The shared description (not the server's English text), in this window's language and hour cycle.
    assert.equal(summary.tooltip, `lens-cleanup: ${describeSchedule('30 2 * * *', 'Africa/Tunis', vscode.env.language)}`);
    assert.match(summary.tooltip, /\(Africa\/Tunis\)$/);
  });

  it('a viewer signing in on the same server loses ▶ Run at once, and gets it back as admin', async () => {
    await lensesUntil('lens-cleanup', (found) => found.some((lens) => lens.command === 'cronOps.triggerCron'), 'the Run lens for the admin');
    try {
      assert.equal(await vscode.commands.executeCommand<boolean>('cronOps.signIn', viewerToken), true);
      // The crons are the same: only the role changed, and that alone must redraw the lenses.
      const rows = await lensesUntil('lens-cleanup', (found) => found.length > 0 && !found.some((lens) => lens.command === 'cronOps.triggerCron'), 'the Run lens to go for the viewer');
      assert.match(rows[0].title, /never run/);
      assert.equal(api.state.role, 'viewer');
    } finally {
      assert.equal(await vscode.commands.executeCommand<boolean>('cronOps.signIn', server.token), true);
    }
    await lensesUntil('lens-cleanup', (found) => found.some((lens) => lens.command === 'cronOps.triggerCron'), 'the Run lens back for the admin');
  });
});
