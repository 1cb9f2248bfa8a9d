import { strict as assert } from 'node:assert';
import { cronDefinitionSites } from '../../../../src/extension/definitions/cronDefinitions';

describe('cronDefinitionSites', () => {
  it('finds each named cron object of the crons array, where its object starts and ends', () => {
    const text = `{
  // comments are fine while editing
  "crons": [
    { "name": "nightly-report", "schedule": "0 2 * * *", "command": ["node", "a.js"] },
    { "name": "cleanup", "schedule": "0 3 * * *", "command": ["sh", "b.sh"] },
  ],
}`;
    const sites = cronDefinitionSites(text);
    assert.deepEqual(sites.map((site) => site.name), ['nightly-report', 'cleanup']);
    for (const site of sites) {
      assert.equal(text[site.offset], '{');
      assert.equal(text[site.offset + site.length - 1], '}');
      assert.ok(text.slice(site.offset, site.offset + site.length).includes(`"${site.name}"`));
    }
  });

  it('still finds the crons of a file being edited (a half-typed cron after them)', () => {
    const text = '{ "crons": [ { "name": "a-job", "command": ["x"] }, { "name": "b-job", "schedule": "0 3 * ';
    assert.deepEqual(cronDefinitionSites(text).map((site) => site.name), ['a-job', 'b-job']);
    assert.deepEqual(cronDefinitionSites('{ "crons": [ { "name": "a-job" }, { "sched').map((site) => site.name), ['a-job']);
  });

  it('ignores crons without a string name, nested "crons" keys and files of another shape', () => {
    assert.deepEqual(cronDefinitionSites('{ "crons": [ { "name": 3 }, {}, "x", { "params": { "crons": [ { "name": "inner" } ] }, "name": "outer" } ] }').map((site) => site.name), ['outer']);
    assert.deepEqual(cronDefinitionSites('[ { "name": "a" } ]'), []);
    assert.deepEqual(cronDefinitionSites('{ "crons": {} }'), []);
    assert.deepEqual(cronDefinitionSites(''), []);
  });
});
