import { strict as assert } from 'node:assert';
import { formatDurationTick, formatRelative, formatTimeLeft, statusLabel } from '../../../src/webview/format';
import { setStrings, t } from '../../../src/webview/strings';

describe('webview formatting', () => {
  afterEach(() => setStrings({}));

  it('counts down in the duration style of the tree and the status bar', () => {
    assert.equal(formatTimeLeft(192_000), '3 min 12 sec');
    assert.equal(formatTimeLeft(8_001), '9.0 sec');
    assert.equal(formatTimeLeft(3_723_000), '1 hr 2 min');
    assert.equal(formatTimeLeft(-5000), '0 sec');
  });

  it('says how far a time is from now, in the display language', () => {
    const now = 1_000_000_000;
    assert.equal(formatRelative(now + 5 * 60_000, now), 'in 5 min.');
    assert.equal(formatRelative(now - 3 * 3_600_000, now), '3 hr. ago');
    assert.equal(formatRelative(now + 2000, now), 'now');
    assert.equal(formatRelative(now + 5 * 60_000, now, 'fr').replace(/\u00a0/g, ' '), 'dans 5 min');
    assert.equal(formatRelative(Number.NaN, now), '–');
  });

  it('labels the duration axis with round values', () => {
    assert.deepEqual([100, 1000, 30_000, 60_000, 90_000, 1_800_000, 7_200_000].map((ms) => formatDurationTick(ms)), ['100 ms', '1 sec', '30 sec', '1 min', '1.5 min', '30 min', '2 hr']);
  });

  it('takes translated strings by key from the extension, keeping English for the rest', () => {
    setStrings({ statusFailed: 'échec', inTime: 'dans {0}', unknownKey: 'ignored', execute: 42 });
    assert.equal(statusLabel('failed'), 'échec');
    assert.equal(statusLabel('completed'), 'completed');
    assert.equal(t('inTime', '2 min'), 'dans 2 min');
    assert.equal(t('execute'), 'Execute');
    assert.equal(t('executeLabel', 'check-alerts'), 'Execute check-alerts now');
  });
});
