// The settings of the access and limits issue in the config file: defaults, values, and clear refusals.
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../../src/server/config';

const cron = { name: 'job', schedule: '0 * * * *', command: ['node', 'job.mjs'] };
const parse = (top: Record<string, unknown>) => parseConfig(JSON.stringify({ crons: [cron], ...top }), '/tmp/crons.json');
const problems = (top: Record<string, unknown>) => {
  try {
    parse(top);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.join('\n');
    throw error;
  }
  return '';
};

describe('server: config settings for access and limits', () => {
  it('defaults: 10 streams per token, 400 connections, no extra hosts, 90 days of audit', () => {
    const config = parse({});
    assert.equal(config.maxStreamsPerToken, 10);
    assert.equal(config.maxConnections, 400);
    assert.deepEqual(config.allowedHosts, []);
    assert.equal(config.auditRetentionDays, 90);
  });

  it('takes values, host names in lower case', () => {
    const config = parse({ maxStreamsPerToken: 3, maxConnections: 12_000, allowedHosts: ['Ops.Example.internal', '192.168.1.5'], auditRetentionDays: 365 });
    assert.equal(config.maxStreamsPerToken, 3);
    assert.equal(config.maxConnections, 12_000);
    assert.deepEqual(config.allowedHosts, ['ops.example.internal', '192.168.1.5']);
    assert.equal(config.auditRetentionDays, 365);
  });

  it('refuses bad values, naming the setting', () => {
    assert.match(problems({ maxStreamsPerToken: 0 }), /maxStreamsPerToken: must be an integer between 1 and 1000/);
    assert.match(problems({ maxStreamsPerToken: '5' }), /maxStreamsPerToken/);
    assert.match(problems({ auditRetentionDays: 0 }), /auditRetentionDays/);
    assert.match(problems({ maxConnections: 5 }), /maxConnections: must be an integer between 10 and 1000000/);
    assert.match(problems({ maxStreamsPerToken: 20, maxConnections: 20 }), /maxStreamsPerToken: must be below maxConnections \(20\)/);
    assert.match(problems({ allowedHosts: 'ops.internal' }), /allowedHosts: must be an array of host names/);
    assert.match(problems({ allowedHosts: ['has space'] }), /allowedHosts/);
  });
});
