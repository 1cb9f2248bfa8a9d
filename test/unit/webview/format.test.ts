import { strict as assert } from 'node:assert';
import { formatCountdown, formatDurationTick, formatRelative, statusLabel } from '../../../src/webview/format';
import { setStrings, t } from '../../../src/webview/strings';

describe('webview formatting', () => {
  afterEach(() => setStrings({}));

  it('counts down to the second, rounding up, and never below zero', () => {
    assert.equal(formatCountdown(192_000), '3:12');
    assert.equal(formatCountdown(8_001), '0:09');
    assert.equal(formatCountdown(3_723_000), '1:02:03');
    assert.equal(formatCountdown(2 * 86_400_000 + 3 * 3_600_000), '2d 03h');
    assert.equal(formatCountdown(-5000), '0:00');
  });

  it('says how far a time is from now', () => {
    const now = 1_000_000_000;
    assert.equal(formatRelative(now + 5 * 60_000, now), 'in 5 min');
    assert.equal(formatRelative(now - 3 * 3_600_000, now), '3 h ago');
    assert.equal(formatRelative(now + 2000, now), 'just now');
    assert.equal(formatRelative(Number.NaN, now), '–');
  });

  it('labels the duration axis with round values', () => {
    assert.deepEqual([100, 1000, 30_000, 60_000, 1_800_000, 7_200_000].map(formatDurationTick), ['100 ms', '1 s', '30 s', '1 min', '30 min', '2 h']);
  });

  it('takes translated strings by key from the extension, keeping English for the rest', () => {
    setStrings({ statusFailed: 'échec', inTime: 'dans {0}', unknownKey: 'ignored', execute: 42 });
    assert.equal(statusLabel('failed'), 'échec');
    assert.equal(statusLabel('completed'), 'completed');
    assert.equal(formatRelative(120_000, 0), 'dans 2 min');
    assert.equal(t('execute'), 'Execute');
    assert.equal(t('executeLabel', 'check-alerts'), 'Execute check-alerts now');
  });
});
