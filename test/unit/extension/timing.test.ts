import { strict as assert } from 'node:assert';
import { locateScript } from '../../../src/extension/scriptLocation';
import { manualTriggerBlockedUntil, nextRunAt, nextScheduledRun, runDurationMs } from '../../../src/shared/timing';
import { openingRange, timeTicks } from '../../../src/webview/timelineData';
import { aCron, anExecution } from './builders';

const NOW = Date.parse('2026-02-14T15:30:00.000Z');

describe('one definition of a run\'s duration and a cron\'s next run', () => {
  it('gives an ended run its recorded duration and a running one the time elapsed on the clock', () => {
    assert.equal(runDurationMs(anExecution({ durationMs: 1631 }), NOW), 1631);
    assert.equal(runDurationMs(anExecution({ durationMs: null, startedAt: '2026-02-14T15:00:00.000Z', completedAt: '2026-02-14T15:00:02.500Z' }), NOW), 2500);
    const running = anExecution({ status: 'running', startedAt: new Date(NOW - 5000).toISOString(), completedAt: null, durationMs: null });
    assert.equal(runDurationMs(running, NOW), 5000);
    assert.equal(runDurationMs(running, NOW + 60_000), 65_000);
  });

  it('keeps the server\'s next run while it is ahead, then the schedule\'s next tick at once', () => {
    const cron = aCron({ schedule: '*/5 * * * *', timezone: 'UTC', nextRunAt: '2026-02-14T15:35:00.000Z' });
    assert.equal(nextRunAt(cron, NOW), Date.parse('2026-02-14T15:35:00.000Z'));
    assert.equal(nextRunAt(cron, Date.parse('2026-02-14T15:35:01.000Z')), Date.parse('2026-02-14T15:40:00.000Z'));
    assert.equal(nextRunAt({ ...cron, paused: true }, NOW), undefined);
    assert.equal(nextRunAt({ ...cron, enabled: false }, NOW), undefined);
  });

  it('never throws for a time zone this runtime does not know: the server\'s next run stands', () => {
    const odd = aCron({ schedule: '*/5 * * * *', timezone: 'Mars/Olympus_Mons', nextRunAt: '2026-02-14T15:25:00.000Z' });
    assert.doesNotThrow(() => nextRunAt(odd, NOW));
    assert.equal(nextRunAt(odd, NOW), Date.parse('2026-02-14T15:25:00.000Z'));
    assert.equal(nextRunAt({ ...odd, nextRunAt: null }, NOW), undefined);
    assert.deepEqual(nextScheduledRun([odd], NOW), { cronName: odd.name, at: Date.parse('2026-02-14T15:25:00.000Z') });
  });

  it('reads the schedule in the cron\'s time zone', () => {
    const tunis = aCron({ schedule: '0 8 * * *', timezone: 'Africa/Tunis', nextRunAt: null });
    // 08:00 in Tunis (UTC+1) is 07:00 UTC.
    assert.equal(nextRunAt(tunis, NOW), Date.parse('2026-02-15T07:00:00.000Z'));
  });

  it('finds the soonest active schedule', () => {
    const crons = [aCron({ name: 'a', nextRunAt: new Date(NOW + 60_000).toISOString() }), aCron({ name: 'b', nextRunAt: new Date(NOW + 30_000).toISOString(), paused: true })];
    assert.deepEqual(nextScheduledRun(crons, NOW), { cronName: 'a', at: NOW + 60_000 });
  });

  it('knows when a manual trigger is refused by the rate limits before asking', () => {
    assert.equal(manualTriggerBlockedUntil(aCron({ manualTriggerAvailableAt: new Date(NOW + 20_000).toISOString() }), NOW), NOW + 20_000);
    assert.equal(manualTriggerBlockedUntil(aCron({ manualTriggerAvailableAt: new Date(NOW - 1).toISOString() }), NOW), undefined);
    assert.equal(manualTriggerBlockedUntil(aCron({ manualTriggerAvailableAt: null }), NOW), undefined);
    assert.equal(manualTriggerBlockedUntil(aCron(), NOW), undefined);
  });
});

describe('the timeline on day one and on day 300', () => {
  const week = { from: NOW - 7 * 86_400_000, to: NOW };

  it('opens on the range that holds the runs when they cover a small part of the week', () => {
    const range = openingRange([NOW - 3_600_000, NOW - 600_000], [], week.from, week.to);
    assert.ok(range.min <= NOW - 3_600_000 && range.min > NOW - 2 * 3_600_000, JSON.stringify(range));
    assert.equal(range.max, NOW);
  });

  it('shows the whole week when runs cover most of it, or when there are none', () => {
    assert.deepEqual(openingRange([week.from + 3_600_000, NOW - 1000], [], week.from, week.to), { min: week.from, max: week.to });
    assert.deepEqual(openingRange([], [], week.from, week.to), { min: week.from, max: week.to });
  });

  it('ticks on round local times once zoomed in', () => {
    const ticks = timeTicks(NOW, NOW + 2 * 3_600_000);
    assert.ok(ticks.length >= 2 && ticks.length <= 9, String(ticks.length));
    for (const tick of ticks) assert.equal(new Date(tick).getSeconds(), 0);
  });
});

describe('Open Script', () => {
  const files = ['/ws/src/server/demo/scripts/check-alerts.mjs', '/ws/test/fixtures/other.mjs'];
  const find = async (suffix: string) => files.filter((file) => file.endsWith('/' + suffix));

  it('opens the workspace source of a build copy', async () => {
    assert.equal(await locateScript('/ws/dist/demo/scripts/check-alerts.mjs', ['/ws'], find), '/ws/src/server/demo/scripts/check-alerts.mjs');
  });

  it('opens a source of the workspace as it is, and finds nothing for a file it does not hold', async () => {
    assert.equal(await locateScript('/ws/test/fixtures/other.mjs', ['/ws'], find), '/ws/test/fixtures/other.mjs');
    assert.equal(await locateScript('/opt/jobs/unknown.sh', ['/ws'], find), undefined);
  });
});

describe('server origins and URLs shown', () => {
  it('keys tokens by origin: the same server whatever the path, another port is another server', async () => {
    const { originOf } = await import('../../../src/extension/serverOrigin');
    assert.equal(originOf('http://127.0.0.1:9998/'), 'http://127.0.0.1:9998');
    assert.equal(originOf('http://127.0.0.1:9998/base'), 'http://127.0.0.1:9998');
    assert.notEqual(originOf('http://127.0.0.1:9999'), originOf('http://127.0.0.1:9998'));
    assert.equal(originOf('https://ops.example.com:443'), 'https://ops.example.com');
  });

  it('redacts credentials written into URLs, alone or inside a message', async () => {
    const { redactUrl, redactUrls } = await import('../../../src/extension/serverOrigin');
    assert.equal(redactUrl('https://alice:s3cret@ops.example.com/x'), 'https://***@ops.example.com/x');
    assert.equal(redactUrl('http://127.0.0.1:9998'), 'http://127.0.0.1:9998');
    assert.equal(redactUrls('fetch failed for https://bob:pw@host:1/a and http://h/b'), 'fetch failed for https://***@host:1/a and http://h/b');
  });
});
