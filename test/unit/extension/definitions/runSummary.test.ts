import { strict as assert } from 'node:assert';
import { lensSummary, p95Duration } from '../../../../src/extension/definitions/runSummary';
import { aCron, anExecution } from '../builders';

describe('p95Duration', () => {
  it('is the nearest-rank 95th percentile of finished runs, running ones and missing durations left out', () => {
    const runs = Array.from({ length: 20 }, (_, index) => anExecution({ durationMs: (index + 1) * 1000 }));
    assert.equal(p95Duration(runs), 19_000);
    assert.equal(p95Duration([...runs, anExecution({ status: 'running', durationMs: null, completedAt: null }), anExecution({ status: 'failed', durationMs: null })]), 19_000);
    assert.equal(p95Duration([anExecution({ durationMs: 1234 })]), 1234);
    assert.equal(p95Duration([]), undefined);
  });

  it('counts failed and cancelled runs too: they take time as well', () => {
    assert.equal(p95Duration([anExecution({ status: 'failed', durationMs: 9000 }), anExecution({ durationMs: 1000 })]), 9000);
  });
});

describe('lensSummary', () => {
  const now = Date.parse('2026-02-14T15:31:05.631Z');

  it('says the last run, its age, the p95 and the next run', () => {
    const cron = aCron({ lastExecution: anExecution({ status: 'failed' }), nextRunAt: '2026-02-15T08:00:00.000Z' });
    assert.equal(lensSummary(cron, { ms: 6 * 60_000 + 12_000, runs: 20 }, now), '$(error) failed 5 min. ago · p95 6 min 12 sec (20 runs) · next in 16 hr.');
  });

  it('says a run is going on, a cron never run, a paused schedule', () => {
    assert.match(lensSummary(aCron({ runningExecution: anExecution({ status: 'running', completedAt: null, durationMs: null }) }), undefined, now), /^\$\(sync~spin\) running · next in/);
    assert.match(lensSummary(aCron(), undefined, now), /^\$\(circle-outline\) never run · next in/);
    assert.equal(lensSummary(aCron({ paused: true, lastExecution: anExecution() }), undefined, now), '$(debug-pause) completed 5 min. ago · paused');
  });

  it('reads in the display language', () => {
    const french = (message: string, ...args: Array<string | number | boolean>) =>
      ({ completed: 'terminé', 'next {0}': 'prochaine {0}' })[message]?.replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)])) ?? message;
    assert.equal(lensSummary(aCron({ lastExecution: anExecution() }), undefined, now, french, 'fr').replace(/[\u00a0\u202f]/g, ' '), '$(pass) terminé il y a 5 min · prochaine dans 16 h');
  });
});
