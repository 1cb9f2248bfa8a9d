// What the extension says about a run's script version, and which files Compare with Last Successful Run offers.
import { strict as assert } from 'node:assert';
import type { ScriptFileInfo } from '../../../src/shared/api';
import { english } from '../../../src/extension/format';
import { changedFiles } from '../../../src/extension/scriptVersionDiff';
import { scriptVersionText } from '../../../src/extension/scriptVersionText';

const file = (path: string, sha256: string | null, size = 10): ScriptFileInfo => ({ path, size, sha256, skipped: sha256 ? null : 'too-large' });

describe('script versions in the extension', () => {
  it('reads as the short hash and the short commit, or nothing when the run recorded neither', () => {
    const hash = 'ab'.repeat(32);
    const commit = '1234567890abcdef1234567890abcdef12345678';
    assert.equal(scriptVersionText({ scriptVersion: hash, gitCommit: commit }, english), 'Script version abababab · git 1234567');
    assert.equal(scriptVersionText({ scriptVersion: null, gitCommit: commit }, english), 'git 1234567');
    assert.equal(scriptVersionText({ scriptVersion: null, gitCommit: null }, english), undefined);
    assert.equal(scriptVersionText({}, english), undefined, 'a server without script versions');
  });

  it('offers the files that changed, were added or were removed, in path order', () => {
    const baseline = [file('conf/settings.json', 'a'), file('scripts/job.mjs', 'b'), file('scripts/old.mjs', 'c'), file('big.bin', null, 5_000_000)];
    const failing = [file('conf/settings.json', 'a'), file('scripts/job.mjs', 'B'), file('scripts/new.mjs', 'd'), file('big.bin', null, 6_000_000)];
    assert.deepEqual(changedFiles(baseline, failing), [
      { path: 'big.bin', inBaseline: true, inFailing: true },
      { path: 'scripts/job.mjs', inBaseline: true, inFailing: true },
      { path: 'scripts/new.mjs', inBaseline: false, inFailing: true },
      { path: 'scripts/old.mjs', inBaseline: true, inFailing: false },
    ]);
    assert.deepEqual(changedFiles(baseline, baseline), []);
  });
});
