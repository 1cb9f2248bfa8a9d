import { strict as assert } from 'node:assert';
import {
  cronDescription,
  english,
  executionDescription,
  finishedSummary,
  formatDuration,
  formatLogLine,
  formatTimeLeft,
  nextScheduledRun,
  scriptPath,
  statusBarText,
  timeSince,
} from '../../../src/extension/format';
import { escapeMarkdown } from '../../../src/extension/markdown';
import { codicon, cronIcon } from '../../../src/extension/statusIcons';
import { formatNumber, formatRelative } from '../../../src/shared/format';
import { describeSchedule } from '../../../src/shared/schedule';
import { aCron, anExecution } from './builders';

const NOW = Date.parse('2026-02-14T15:30:00.000Z');
/** Intl puts non-breaking spaces between a number and its unit in French: compare them as spaces. */
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');

describe('format', () => {
  it('writes every duration in one Intl style, in the display language', () => {
    assert.equal(formatDuration(850), '850 ms');
    // Rounded before the unit is chosen: never "1,000 ms".
    assert.equal(formatDuration(999.6), '1.0 sec');
    assert.equal(formatDuration(999.4), '999 ms');
    assert.equal(formatDuration(1631), '1.6 sec');
    assert.equal(formatDuration(5000), '5.0 sec');
    assert.equal(formatDuration(42_000), '42 sec');
    assert.equal(formatDuration(192_000), '3 min 12 sec');
    assert.equal(formatDuration(180_000), '3 min');
    assert.equal(formatDuration(3_900_000), '1 hr 5 min');
    assert.equal(formatDuration(2 * 86_400_000 + 3 * 3_600_000), '2 days 3 hr');
    assert.equal(formatDuration(-1), '–');
    assert.equal(plain(formatDuration(1631, 'fr')), '1,6 s');
    assert.equal(plain(formatDuration(192_000, 'fr')), '3 min 12 s');
  });

  it('says how long ago something happened, through Intl', () => {
    assert.equal(timeSince(new Date(NOW - 3000).toISOString(), NOW), 'now');
    assert.equal(timeSince(new Date(NOW - 42_000).toISOString(), NOW), '42 sec. ago');
    assert.equal(timeSince(new Date(NOW - 5 * 60_000).toISOString(), NOW), '5 min. ago');
    assert.equal(timeSince(new Date(NOW - 3 * 3_600_000).toISOString(), NOW), '3 hr. ago');
    assert.equal(timeSince(new Date(NOW - 50 * 3_600_000).toISOString(), NOW), '2 days ago');
    assert.equal(plain(timeSince(new Date(NOW - 5 * 60_000).toISOString(), NOW, 'fr')), 'il y a 5 min');
    assert.equal(plain(formatRelative(NOW + 3 * 3_600_000, NOW, 'fr')), 'dans 3 h');
  });

  it('counts down in the duration style, rounding up to the second', () => {
    assert.equal(formatTimeLeft(9_000), '9.0 sec');
    assert.equal(formatTimeLeft(187_000), '3 min 7 sec');
    assert.equal(formatTimeLeft(400), '1.0 sec', 'never 0 before the run');
    assert.equal(formatTimeLeft(-5), '0 sec');
  });

  it('writes numbers as the display language does', () => {
    assert.equal(formatNumber(12345, 'en'), '12,345');
    assert.equal(plain(formatNumber(12345, 'fr')), '12 345');
  });

  it('describes schedules in the display language with the cron\'s time zone', () => {
    assert.equal(describeSchedule('*/5 * * * *', 'Africa/Tunis', 'fr'), 'Toutes les 5 minutes (Africa/Tunis)');
    assert.equal(describeSchedule('0 8 * * *', 'Africa/Tunis', 'fr'), 'À 08:00 (Africa/Tunis)');
    // The display language's hour cycle, as every other time: 12-hour in US English, 24-hour in British English and French.
    assert.equal(describeSchedule('0 8 * * *', 'Africa/Tunis', 'en'), 'At 08:00 AM (Africa/Tunis)');
    assert.equal(describeSchedule('0 20 * * *', 'Africa/Tunis', 'en-GB'), 'At 20:00 (Africa/Tunis)');
    assert.equal(describeSchedule('0 20 * * *', 'Africa/Tunis', 'fr'), 'À 20:00 (Africa/Tunis)');
    assert.equal(describeSchedule('not a cron', 'UTC', 'en'), 'not a cron (UTC)');
  });

  it('substitutes positional arguments like vscode.l10n.t', () => {
    assert.equal(english('{0} of {1}, {0} again, {2} missing', 'a', 2), 'a of 2, a again, {2} missing');
  });

  it('describes a cron as status · duration · time since, a paused schedule saying so first', () => {
    const last = anExecution({ completedAt: new Date(NOW - 5 * 60_000).toISOString(), durationMs: 1631 });
    assert.equal(cronDescription(aCron({ lastExecution: last }), NOW), 'completed · 1.6 sec · 5 min. ago');
    assert.equal(cronDescription(aCron({ paused: true }), NOW), 'paused · never run');
    assert.equal(cronDescription(aCron({ paused: true, lastExecution: last }), NOW), 'paused · completed · 1.6 sec · 5 min. ago');
    const running = anExecution({ status: 'running', startedAt: new Date(NOW - 12_000).toISOString(), completedAt: null, durationMs: null });
    assert.equal(cronDescription(aCron({ lastExecution: running, runningExecution: running }), NOW), 'running · 12 sec');
    assert.equal(cronDescription(aCron({ lastExecution: running, runningExecution: running }), NOW + 60_000), 'running · 1 min 12 sec', 'a running duration moves with the clock');
    const stuck = { ...running, stuck: true };
    assert.equal(cronDescription(aCron({ lastExecution: stuck, runningExecution: stuck }), NOW), 'stuck · 12 sec');
  });

  it('chooses status icons in theme colours, spinning while running, a pause of its own', () => {
    assert.deepEqual(cronIcon(aCron()), { id: 'circle-outline', color: 'descriptionForeground' });
    assert.deepEqual(cronIcon(aCron({ lastExecution: anExecution({ status: 'failed' }) })), { id: 'error', color: 'testing.iconFailed' });
    assert.deepEqual(cronIcon(aCron({ lastExecution: anExecution({ status: 'completed' }) })), { id: 'pass', color: 'testing.iconPassed' });
    assert.deepEqual(cronIcon(aCron({ lastExecution: anExecution({ status: 'cancelled' }) })), { id: 'circle-slash', color: 'disabledForeground' });
    const running = anExecution({ status: 'running' });
    assert.equal(cronIcon(aCron({ lastExecution: running, runningExecution: running })).id, 'sync~spin');
    assert.equal(cronIcon(aCron({ runningExecution: { ...running, stuck: true } })).id, 'watch');
    assert.equal(cronIcon(aCron({ paused: true })).id, 'debug-pause');
    assert.equal(cronIcon(aCron({ paused: true, lastExecution: anExecution({ status: 'completed' }) })).id, 'debug-pause', 'paused whatever the last outcome');
    assert.equal(codicon(cronIcon(aCron({ paused: true }))), '$(debug-pause)');
  });

  it('describes an execution with its trigger', () => {
    assert.equal(executionDescription(anExecution({ status: 'failed', durationMs: 2000 }), NOW), 'failed · 2.0 sec · manual (token:alice)');
    assert.equal(executionDescription(anExecution({ triggerType: 'scheduled', triggeredBy: null, durationMs: 800 }), NOW), 'completed · 800 ms · scheduled');
    assert.equal(executionDescription(anExecution({ status: 'failed', triggerType: 'scheduled', triggeredBy: 'retry', durationMs: 800, attempt: 2, retryOf: 'x' }), NOW), 'failed · 800 ms · scheduled (retry) · attempt 2');
  });

  it('finds the next run among active schedules, skipping paused ones', () => {
    const crons = [
      aCron({ name: 'a', nextRunAt: new Date(NOW + 60_000).toISOString(), paused: true }),
      aCron({ name: 'b', nextRunAt: new Date(NOW + 120_000).toISOString() }),
      aCron({ name: 'c', nextRunAt: new Date(NOW + 30_000).toISOString(), enabled: false }),
      aCron({ name: 'd', nextRunAt: null, schedule: 'not a cron' }),
    ];
    assert.deepEqual(nextScheduledRun(crons, undefined, NOW), { cronName: 'b', at: NOW + 120_000 });
    assert.equal(nextScheduledRun([aCron({ paused: true })], undefined, NOW), undefined);
    const stats = { executions24h: 0, running: 0, failures24h: 0, nextExecution: { cronName: 'x', at: new Date(NOW + 1000).toISOString() } };
    assert.deepEqual(nextScheduledRun([], stats, NOW), { cronName: 'x', at: NOW + 1000 });
  });

  it('writes the status bar text for each connection state; past a tick the next one shows at once', () => {
    const stats = { executions24h: 12, running: 1, failures24h: 0, nextExecution: null };
    const running = anExecution({ status: 'running' });
    const crons = [aCron({ nextRunAt: new Date(NOW + 192_000).toISOString(), runningExecution: running })];
    assert.equal(statusBarText('connected', stats, crons, NOW), '$(pulse) 1 running · 0 failed · next in 3 min 12 sec');
    assert.equal(statusBarText('connected', { ...stats, failures24h: 2 }, [], NOW), '$(warning) 1 running · 2 failed');
    assert.equal(statusBarText('connected', { ...stats, failures24h: 2 }, [], NOW, undefined, 'en', 1), '$(bell-dot) 1 unseen · $(warning) 1 running · 2 failed');
    assert.equal(statusBarText('disconnected', stats, crons, NOW), '$(debug-disconnect) Cron Ops: disconnected');
    assert.equal(statusBarText('signedOut', undefined, [], NOW), '$(account) Cron Ops: sign in');
    assert.equal(statusBarText('connecting', undefined, [], NOW), '$(sync~spin) Cron Ops: connecting…');
    // The server said 08:00 today, which has just passed: the schedule gives tomorrow's 08:00 (UTC) at once.
    const at8 = Date.parse('2026-02-14T08:00:00.000Z');
    const passed = [aCron({ nextRunAt: new Date(at8).toISOString() })];
    assert.equal(statusBarText('connected', stats, passed, at8 + 1000), '$(pulse) 0 running · 0 failed · next in 23 hr 59 min');
  });

  it('sums up a finished run against its estimate', () => {
    assert.equal(finishedSummary(anExecution({ durationMs: 1631 }), 5000), 'monitor-openai completed in 1.6 sec (estimated 5.0 sec)');
    assert.equal(finishedSummary(anExecution({ status: 'failed', durationMs: 2000, errorMessage: 'Exit code 1' }), undefined), 'monitor-openai failed in 2.0 sec: Exit code 1');
  });

  it('escapes server text in Markdown tooltips without backslashes', () => {
    const text = 'Cannot reach (ECONNREFUSED). Start it with `npm start` *now* [here] $(x) #1 <b> a_b\\c';
    const escaped = escapeMarkdown(text);
    assert.ok(!escaped.includes('\\'), escaped);
    assert.doesNotMatch(escaped.replace(/&#\d+;/g, ''), /[`*_[\]()#<>$]/);
    const decoded = escaped.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
    assert.equal(decoded, text);
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
