// The dashboard webview in a real extension host against a live backend: the page itself reports what it
// rendered (`rendered` messages), and those figures must match the API's.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { Stats, TimelineReply } from '../../src/shared/api';
import type { RenderedView, TimelineFilter } from '../../src/shared/messages';
import type { CronOpsApi } from '../../src/extension/extension';
import type { TriggerOutcome } from '../../src/extension/triggerCommand';
import { nodeCron, startServer, type ServerProcess, type TestConfig } from '../support/serverProcess';
import { requestScreenshot } from './harness/protocol';
import { connectTo, cronOpsApi, cronRow, disconnect, stateUntil } from './cronOpsTestKit';
import { DashboardRecorder } from './dashboardRecorder';
import { LogRecorder } from './logRecorder';

const config: TestConfig = {
  rateLimits: { perCronSeconds: 30, globalPerMinute: 100 },
  crons: [
    nodeCron('report-job', "console.log('report done')", { description: 'Builds the daily report', estimatedDurationMs: 300 }),
    nodeCron('broken-job', "console.error('boom'); process.exit(3)", { description: 'Always fails', estimatedDurationMs: 300 }),
    nodeCron('extra-job', "console.log('extra')", { description: 'Triggered from the dashboard', estimatedDurationMs: 300 }),
  ],
};

describe('Dashboard webview', () => {
  let server: ServerProcess;
  let api: CronOpsApi;
  let hooks: DashboardRecorder;

  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${server.token}` } });
    assert.equal(response.status, 200, `GET ${path}`);
    return (await response.json()) as T;
  };
  const apiTimeline = (filter: TimelineFilter = { cronName: null, status: null }) =>
    get<TimelineReply>(`/api/admin/cron-executions/timeline?days=7&cronName=${filter.cronName ?? ''}&status=${filter.status ?? ''}`);
  const trigger = async (name: string): Promise<string> => {
    const outcome = await vscode.commands.executeCommand<TriggerOutcome>('cronOps.triggerCron', name);
    assert.equal(outcome.kind, 'started', JSON.stringify(outcome));
    return outcome.kind === 'started' ? outcome.reply.executionId : '';
  };
  const finished = (name: string, id: string) =>
    stateUntil(api, () => api.state.cron(name)?.lastExecution?.id === id && !api.state.cron(name)?.runningExecution, `${name} run ${id} to end`);
  /** The first `rendered` report (already received or to come) for which `check` holds. */
  const rendered = (check: (view: RenderedView) => boolean, after = 0, timeoutMs = 30_000) => hooks.rendered(check, after, timeoutMs);

  before(async () => {
    [server, api] = await Promise.all([startServer({ config }), cronOpsApi()]);
    hooks = new DashboardRecorder(api.dashboard);
    await connectTo(api, server, config.crons.length);
    const [report, broken] = [await trigger('report-job'), await trigger('broken-job')];
    await Promise.all([finished('report-job', report), finished('broken-job', broken)]);
    // The state has the KPIs of both ended runs before the dashboard opens.
    await stateUntil(api, () => api.state.stats?.executions24h === 2 && api.state.stats.failures24h === 1, 'the KPIs of the two runs');
  });

  after(async () => {
    api?.dashboard.panel?.dispose();
    hooks?.dispose();
    await disconnect();
    await server?.stop();
  });

  it('opens and renders the KPIs, the cron table and the timeline that the API reports', async () => {
    await vscode.commands.executeCommand('cronOps.openDashboard');
    assert.ok(api.dashboard.panel, 'a dashboard panel is open');
    const view = await rendered((candidate) => candidate.executions !== null && candidate.kpis !== null && candidate.cronRows === config.crons.length);
    const [stats, timeline] = await Promise.all([get<Stats>('/api/admin/cron-executions/stats'), apiTimeline()]);
    assert.equal(view.connection, 'connected');
    assert.deepEqual(
      { executions24h: view.kpis?.executions24h, running: view.kpis?.running, failures24h: view.kpis?.failures24h },
      { executions24h: stats.executions24h, running: stats.running, failures24h: stats.failures24h },
    );
    assert.deepEqual(view.kpis?.nextExecution, stats.nextExecution);
    assert.equal(view.executions, timeline.executions.length);
    assert.equal(view.executions, 2);
    assert.equal(view.marks, 2, 'one mark per run');
    assert.deepEqual(view.filter, { cronName: null, status: null });
    const problems = hooks.received.filter((message) => message.type === 'problem');
    assert.deepEqual(problems, [], 'no script error or CSP violation in the page');
    // The page reported its render: what the harness captures now is the drawn dashboard (toasts cleared).
    await vscode.commands.executeCommand('notifications.clearAll');
    await requestScreenshot('dashboard');
  });

  it('shows a run triggered from the Execute button in the KPIs and the timeline', async () => {
    const after = hooks.received.length;
    await api.dashboard.handle({ type: 'trigger', cronName: 'extra-job' });
    const run = await stateUntil(api, () => api.state.cron('extra-job')?.lastExecution, 'the run triggered from the dashboard');
    await finished('extra-job', run.id);
    const view = await rendered((candidate) => candidate.executions === 3 && candidate.kpis?.executions24h === 3 && candidate.kpis.running === 0, after);
    const [stats, timeline] = await Promise.all([get<Stats>('/api/admin/cron-executions/stats'), apiTimeline()]);
    assert.equal(view.kpis?.executions24h, stats.executions24h);
    assert.equal(view.executions, timeline.executions.length);
  });

  it('filters the timeline by cron and status through the API', async () => {
    const filter: TimelineFilter = { cronName: 'broken-job', status: 'failed' };
    const after = hooks.received.length;
    await api.dashboard.handle({ type: 'filter', filter });
    const view = await rendered((candidate) => candidate.filter.cronName === 'broken-job' && candidate.filter.status === 'failed' && candidate.executions !== null, after);
    const timeline = await apiTimeline(filter);
    assert.equal(view.executions, timeline.executions.length);
    assert.equal(view.executions, 1);
    const posted = hooks.posted.filter((message) => message.type === 'timeline').at(-1);
    assert.ok(posted?.type === 'timeline' && posted.columns.ids[0] === timeline.executions[0].id, 'the page got the API run');
  });

  it('restores its filter after being hidden and shown again', async () => {
    const panel = api.dashboard.panel!;
    const after = hooks.received.length;
    const hidden = new Promise<void>((resolve) => {
      const listener = panel.onDidChangeViewState(() => {
        if (!panel.visible) {
          listener.dispose();
          resolve();
        }
      });
    });
    // Another editor in the same group hides the panel; its page is not retained.
    const other = vscode.Uri.file(server.configPath!);
    await vscode.window.showTextDocument(other, { viewColumn: panel.viewColumn, preview: true });
    await hidden;
    await vscode.commands.executeCommand('cronOps.openDashboard');
    const ready = await hooks.waitForMessage('ready', () => true, { after, timeoutMs: 30_000 });
    assert.deepEqual(ready.filter, { cronName: 'broken-job', status: 'failed' }, 'the page restored its filter with getState');
    const view = await rendered((candidate) => candidate.executions !== null && candidate.kpis !== null, hooks.received.indexOf(ready));
    assert.deepEqual(view.filter, { cronName: 'broken-job', status: 'failed' });
    assert.equal(view.executions, 1);
    const tabs = vscode.window.tabGroups.all.flatMap((group) => group.tabs);
    await vscode.window.tabGroups.close(tabs.filter((tab) => tab.input instanceof vscode.TabInputText && tab.input.uri.fsPath === other.fsPath));
  });

  it('opens the logs of a run the page asks for', async () => {
    const run = api.state.cron('report-job')!.lastExecution!;
    const logs = new LogRecorder(api.logTails);
    try {
      await api.dashboard.handle({ type: 'showLogs', executionId: run.id });
      const written = await logs.finished(run.id);
      assert.match(written.text, /report done/);
    } finally {
      logs.dispose();
    }
  });

  it('shows one duration for a run in the tree, the cron table and Latest runs', async () => {
    await api.dashboard.handle({ type: 'filter', filter: { cronName: null, status: null } });
    const run = api.state.cron('report-job')!.lastExecution!;
    const view = await rendered((candidate) => candidate.latest.some((row) => row.id === run.id) && candidate.table.some((row) => row.cronName === 'report-job' && row.duration !== ''));
    const treeDuration = String((await cronRow(api, 'report-job')).description).split(' · ')[1];
    const tableDuration = view.table.find((row) => row.cronName === 'report-job')!.duration;
    const latestDuration = view.latest.find((row) => row.id === run.id)!.duration;
    assert.ok(treeDuration, 'the tree shows a duration');
    assert.deepEqual({ table: tableDuration, latest: latestDuration }, { table: treeDuration, latest: treeDuration });
  });

  it('on day one the timeline opens on the range that holds the runs, not the whole week', async () => {
    const view = await rendered((candidate) => candidate.xRange !== null && candidate.executions !== null && candidate.filter.cronName === null);
    const timeline = await apiTimeline();
    const weekMs = Date.parse(timeline.to) - Date.parse(timeline.from);
    assert.ok(view.xRange!.max - view.xRange!.min < weekMs / 2, `x range ${JSON.stringify(view.xRange)} vs a week`);
    const firstRun = Math.min(...timeline.executions.map((run) => Date.parse(run.startedAt)));
    assert.ok(view.xRange!.min <= firstRun, 'the first run is in view');
  });

  it('zooming re-requests the range from the server and shows exactly it', async () => {
    const to = new Date(api.clock.now());
    const from = new Date(to.getTime() - 30 * 60_000);
    const after = hooks.received.length;
    await api.dashboard.handle({ type: 'zoom', range: { from: from.toISOString(), to: to.toISOString() } });
    const view = await rendered((candidate) => candidate.xRange !== null && Math.abs(candidate.xRange.min - from.getTime()) < 1000, after);
    assert.ok(Math.abs(view.xRange!.max - to.getTime()) < 1000, JSON.stringify(view.xRange));
    const posted = hooks.posted.filter((message) => message.type === 'timeline').at(-1);
    assert.ok(posted?.type === 'timeline' && posted.range?.from === from.toISOString(), 'the extension asked for that range');
    await api.dashboard.handle({ type: 'zoom', range: null });
  });

  it('Sign Out clears every view, the dashboard included, without blaming the token', async () => {
    const after = hooks.received.length;
    const postedBefore = hooks.posted.length;
    await vscode.commands.executeCommand('cronOps.signOut');
    const view = await rendered((candidate) => candidate.connection === 'signedOut' && candidate.cronRows === 0 && candidate.executions === null, after);
    assert.equal(view.kpis, null);
    assert.deepEqual(view.latest, []);
    const errors = hooks.posted.slice(postedBefore).filter((message) => message.type === 'timelineError');
    assert.deepEqual(errors, [], 'no timeline fetched without a token');
    await connectTo(api, server, config.crons.length);
  });
});
