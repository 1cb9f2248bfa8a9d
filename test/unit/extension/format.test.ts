import { strict as assert } from 'node:assert';
import {
  cronDescription,
  cronIcon,
  english,
  executionDescription,
  finishedSummary,
  formatCountdown,
  formatDuration,
  formatLogLine,
  nextScheduledRun,
  scriptPath,
  statusBarText,
  timeSince,
} from '../../../src/extension/format';
import { aCron, anExecution } from './builders';

const NOW = Date.parse('2026-02-14T15:30:00.000Z');

describe('format', () => {
  it('formats durations from milliseconds to hours', () => {
    assert.equal(formatDuration(850), '850 ms');
    assert.equal(formatDuration(1631), '1.6 s');
    assert.equal(formatDuration(5000), '5.0 s');
    assert.equal(formatDuration(42_000), '42 s');
    assert.equal(formatDuration(192_000), '3m 12s');
    assert.equal(formatDuration(3_900_000), '1h 05m');
    assert.equal(formatDuration(-1), '–');
  });

  it('says how long ago something happened', () => {
    assert.equal(timeSince(new Date(NOW - 3000).toISOString(), NOW), 'just now');
    assert.equal(timeSince(new Date(NOW - 42_000).toISOString(), NOW), '42 s ago');
    assert.equal(timeSince(new Date(NOW - 5 * 60_000).toISOString(), NOW), '5 min ago');
    assert.equal(timeSince(new Date(NOW - 3 * 3_600_000).toISOString(), NOW), '3 h ago');
    assert.equal(timeSince(new Date(NOW - 50 * 3_600_000).toISOString(), NOW), '2 d ago');
  });

  it('counts down in m:ss, h:mm:ss, then days', () => {
    assert.equal(formatCountdown(9_000), '0:09');
    assert.equal(formatCountdown(192_000), '3:12');
    assert.equal(formatCountdown(3_723_000), '1:02:03');
    assert.equal(formatCountdown(2 * 86_400_000 + 3 * 3_600_000), '2d 03h');
    assert.equal(formatCountdown(-5), '0:00');
    assert.equal(formatCountdown(400), '0:01', 'rounds up so it never shows 0:00 before the run');
  });

  it('substitutes positional arguments like vscode.l10n.t', () => {
    assert.equal(english('{0} of {1}, {0} again, {2} missing', 'a', 2), 'a of 2, a again, {2} missing');
  });

  it('describes a cron as status · duration · time since, and says paused', () => {
    const last = anExecution({ completedAt: new Date(NOW - 5 * 60_000).toISOString(), durationMs: 1631 });
    assert.equal(cronDescription(aCron({ lastExecution: last }), NOW), 'completed · 1.6 s · 5 min ago');
    assert.equal(cronDescription(aCron({ paused: true }), NOW), 'never run · paused');
    const running = anExecution({ status: 'running', startedAt: new Date(NOW - 12_000).toISOString(), completedAt: null, durationMs: null });
    assert.equal(cronDescription(aCron({ lastExecution: running, runningExecution: running }), NOW), 'running · 12 s');
    const stuck = { ...running, stuck: true };
    assert.equal(cronDescription(aCron({ lastExecution: stuck, runningExecution: stuck }), NOW), 'stuck · 12 s');
  });

  it('chooses status icons in theme colours, spinning while running', () => {
    assert.deepEqual(cronIcon(aCron()), { id: 'circle-outline', color: 'descriptionForeground' });
    assert.deepEqual(cronIcon(aCron({ lastExecution: anExecution({ status: 'failed' }) })), { id: 'error', color: 'testing.iconFailed' });
    assert.deepEqual(cronIcon(aCron({ lastExecution: anExecution({ status: 'completed' }) })), { id: 'pass', color: 'testing.iconPassed' });
    assert.deepEqual(cronIcon(aCron({ lastExecution: anExecution({ status: 'cancelled' }) })), { id: 'circle-slash', color: 'disabledForeground' });
    const running = anExecution({ status: 'running' });
    assert.equal(cronIcon(aCron({ lastExecution: running, runningExecution: running })).id, 'sync~spin');
    assert.equal(cronIcon(aCron({ runningExecution: { ...running, stuck: true } })).id, 'watch');
    assert.equal(cronIcon(aCron({ paused: true })).id, 'debug-pause');
  });

  it('describes an execution with its trigger', () => {
    assert.equal(executionDescription(anExecution({ status: 'failed', durationMs: 2000 }), NOW), 'failed · 2.0 s · manual (token:alice)');
    assert.equal(executionDescription(anExecution({ triggerType: 'scheduled', triggeredBy: null, durationMs: 800 }), NOW), 'completed · 800 ms · scheduled');
  });

  it('finds the next run among active schedules, skipping paused ones', () => {
    const crons = [
      aCron({ name: 'a', nextRunAt: new Date(NOW + 60_000).toISOString(), paused: true }),
      aCron({ name: 'b', nextRunAt: new Date(NOW + 120_000).toISOString() }),
      aCron({ name: 'c', nextRunAt: new Date(NOW + 30_000).toISOString(), enabled: false }),
      aCron({ name: 'd', nextRunAt: null }),
    ];
    assert.deepEqual(nextScheduledRun(crons, undefined), { cronName: 'b', at: NOW + 120_000 });
    assert.equal(nextScheduledRun([aCron({ paused: true })], undefined), undefined);
    const stats = { executions24h: 0, running: 0, failures24h: 0, nextExecution: { cronName: 'x', at: new Date(NOW + 1000).toISOString() } };
    assert.deepEqual(nextScheduledRun([], stats), { cronName: 'x', at: NOW + 1000 });
  });

  it('writes the status bar text for each connection state', () => {
    const stats = { executions24h: 12, running: 1, failures24h: 0, nextExecution: null };
    const crons = [aCron({ nextRunAt: new Date(NOW + 192_000).toISOString() })];
    assert.equal(statusBarText('connected', stats, crons, NOW), '$(pulse) 1 running · 0 failed · next 3:12');
    assert.equal(statusBarText('connected', { ...stats, failures24h: 2 }, [], NOW), '$(warning) 1 running · 2 failed');
    assert.equal(statusBarText('disconnected', stats, crons, NOW), '$(debug-disconnect) Cron Ops: disconnected');
    assert.equal(statusBarText('signedOut', undefined, [], NOW), '$(account) Cron Ops: sign in');
    assert.equal(statusBarText('connecting', undefined, [], NOW), '$(sync~spin) Cron Ops: connecting…');
    assert.equal(statusBarText('connected', stats, [aCron({ nextRunAt: new Date(NOW - 1000).toISOString() })], NOW), '$(pulse) 1 running · 0 failed · next now');
  });

  it('sums up a finished run against its estimate', () => {
    assert.equal(finishedSummary(anExecution({ durationMs: 1631 }), 5000), 'monitor-openai completed in 1.6 s (estimated 5.0 s)');
    assert.equal(finishedSummary(anExecution({ status: 'failed', durationMs: 2000, errorMessage: 'Exit code 1' }), undefined), 'monitor-openai failed in 2.0 s: Exit code 1');
  });

  it('finds the script a command runs', () => {
    assert.equal(scriptPath(['/usr/bin/node', '/opt/scripts/job.mjs', '--fast']), '/opt/scripts/job.mjs');
    assert.equal(scriptPath(['/usr/bin/node', '--max-old-space-size=100', '/opt/scripts/job.mjs']), '/opt/scripts/job.mjs');
    assert.equal(scriptPath(['/opt/qadhya/scripts/cron-monitor-openai.sh']), '/opt/qadhya/scripts/cron-monitor-openai.sh');
    assert.equal(scriptPath(['/usr/bin/python3', 'relative.py']), undefined);
    assert.equal(scriptPath(['node', '-e', 'console.log(1)']), undefined);
    assert.equal(scriptPath([]), undefined);
  });

  it('marks stderr lines in the logs channel', () => {
    assert.equal(formatLogLine({ stream: 'stdout', line: 'ok' }), 'ok');
    assert.equal(formatLogLine({ stream: 'stderr', line: 'boom' }), '[stderr] boom');
  });
});
