import { strict as assert } from 'node:assert';
import { toTimelineColumns } from '../../../src/shared/messages';
import { contentSecurityPolicy, createNonce, dashboardHtml, parseFromWebview } from '../../../src/extension/dashboard/dashboardHtml';
import { runsSignature } from '../../../src/extension/stateReducer';
import type { Cron, Execution } from '../../../src/shared/api';
import { run, T0 } from './builders';

const cspSource = 'https://file+.vscode-resource.vscode-cdn.net';

function execution(id: string, status: Execution['status']): Execution {
  return { id, cronName: 'a', status, triggerType: 'manual', triggeredBy: 'op', params: {}, startedAt: new Date(T0).toISOString(), completedAt: null, durationMs: null, exitCode: null, errorMessage: null, runnerId: null, stuck: false, logLinesDropped: 0 };
}

function cron(name: string, last: Execution | null, running: Execution | null = null): Cron {
  return { name, description: '', schedule: '* * * * *', scheduleText: '', timezone: 'UTC', command: [], estimatedDurationMs: 1, timeoutMs: 1, enabled: true, paused: false, params: {}, nextRunAt: null, lastExecution: last, runningExecution: running };
}

describe('dashboard messages and page', () => {
  it('puts the timeline in columns, names once, statuses and times as numbers', () => {
    const cols = toTimelineColumns([run('a', 'completed', 0, 10), run('b', 'failed', 1000, 20), run('a', 'running', 2000, 5)]);
    assert.deepEqual(cols.cronNames, ['a', 'b']);
    assert.deepEqual(cols.cron, [0, 1, 0]);
    assert.deepEqual(cols.status, [0, 2, 1]);
    assert.deepEqual(cols.startMs, [T0, T0 + 1000, T0 + 2000]);
    assert.deepEqual(cols.durationMs, [10, 20, 5]);
  });

  it('builds the page under the strict CSP, with one nonce on the only script', () => {
    const nonce = createNonce();
    assert.match(nonce, /^[A-Za-z0-9+/]{22}==$/);
    assert.notEqual(createNonce(), nonce);
    const html = dashboardHtml({ cspSource, nonce, scriptUri: `${cspSource}/dist/webview.js`, styleUri: `${cspSource}/media/dashboard.css`, title: 'Cron Ops <Dashboard>', lang: 'fr' });
    assert.equal(contentSecurityPolicy(cspSource, nonce), `default-src 'none'; script-src 'nonce-${nonce}'; style-src ${cspSource}; img-src ${cspSource}`);
    assert.ok(html.includes(`content="default-src &#39;none&#39;; script-src &#39;nonce-${nonce}&#39;; style-src ${cspSource}; img-src ${cspSource}"`));
    assert.equal(html.match(/<script/g)?.length, 1);
    assert.ok(html.includes(`<script nonce="${nonce}" src="${cspSource}/dist/webview.js"></script>`));
    assert.ok(html.includes('<title>Cron Ops &#60;Dashboard&#62;</title>'));
    assert.ok(html.includes('<html lang="fr">'));
    assert.ok(!/style="/.test(html), 'no inline style');
  });

  it('accepts the messages the page sends and drops malformed ones', () => {
    assert.deepEqual(parseFromWebview({ type: 'ready', filter: { cronName: null, status: null } }), { type: 'ready', filter: { cronName: null, status: null } });
    assert.deepEqual(parseFromWebview({ type: 'filter', filter: { cronName: 'a', status: 'failed' } }), { type: 'filter', filter: { cronName: 'a', status: 'failed' } });
    assert.deepEqual(parseFromWebview({ type: 'trigger', cronName: 'a' }), { type: 'trigger', cronName: 'a' });
    assert.deepEqual(parseFromWebview({ type: 'showLogs', executionId: 'id' }), { type: 'showLogs', executionId: 'id' });
    assert.deepEqual(parseFromWebview({ type: 'signIn' }), { type: 'signIn' });
    assert.deepEqual(parseFromWebview({ type: 'refresh', extra: 1 }), { type: 'refresh' });
    for (const bad of [null, 'ready', {}, { type: 'trigger' }, { type: 'trigger', cronName: '' }, { type: 'filter', filter: { cronName: null, status: 'exploded' } }, { type: 'runShell', command: 'rm' }]) {
      assert.equal(parseFromWebview(bad), undefined, JSON.stringify(bad));
    }
  });

  it('fetches the timeline again only when runs start or end or the counts move', () => {
    const done = execution('1', 'completed');
    const before = runsSignature([cron('a', done)], { executions24h: 1, running: 0, failures24h: 0, nextExecution: null });
    assert.equal(runsSignature([cron('a', done)], { executions24h: 1, running: 0, failures24h: 0, nextExecution: { cronName: 'a', at: 'x' } }), before, 'a new next run changes nothing');
    assert.notEqual(runsSignature([cron('a', execution('2', 'running'), execution('2', 'running'))], { executions24h: 2, running: 1, failures24h: 0, nextExecution: null }), before);
    assert.notEqual(runsSignature([cron('a', { ...done, status: 'failed' })], { executions24h: 1, running: 0, failures24h: 0, nextExecution: null }), before);
  });
});
