import { strict as assert } from 'node:assert';
import type { ParamSpec } from '../../../src/shared/api';
import { paramPrompt, parseParamInput } from '../../../src/extension/paramValidation';

describe('param validation', () => {
  const batchSize: ParamSpec = { type: 'integer', min: 1, max: 100, default: 2 };
  const source: ParamSpec = { type: 'string', min: 2, max: 20, pattern: '^[a-z-]+$' };
  const dryRun: ParamSpec = { type: 'boolean', default: false };

  it('turns typed text into the value the server expects', () => {
    assert.deepEqual(parseParamInput('batchSize', batchSize, ' 10 '), { kind: 'value', value: 10 });
    assert.deepEqual(parseParamInput('batchSize', batchSize, ''), { kind: 'omit' });
    assert.deepEqual(parseParamInput('dryRun', dryRun, 'TRUE'), { kind: 'value', value: true });
    assert.deepEqual(parseParamInput('source', source, 'web-news'), { kind: 'value', value: 'web-news' });
  });

  it('refuses what the server would refuse, naming the param', () => {
    assert.deepEqual(parseParamInput('batchSize', batchSize, '2.5'), { kind: 'problem', message: 'batchSize must be a whole number' });
    assert.deepEqual(parseParamInput('batchSize', batchSize, '500'), { kind: 'problem', message: 'batchSize must be at most 100, got 500' });
    assert.deepEqual(parseParamInput('batchSize', batchSize, '0'), { kind: 'problem', message: 'batchSize must be at least 1, got 0' });
    assert.deepEqual(parseParamInput('dryRun', dryRun, 'maybe'), { kind: 'problem', message: 'dryRun must be true or false' });
    assert.deepEqual(parseParamInput('source', source, 'Web'), { kind: 'problem', message: 'source must match ^[a-z-]+$, got "Web"' });
    assert.deepEqual(parseParamInput('source', source, 'a'), { kind: 'problem', message: 'source must be at least 2 characters long' });
  });

  it('prompts with the type, bounds and default', () => {
    assert.equal(paramPrompt('batchSize', { ...batchSize, description: 'Documents per batch' }), 'batchSize: Documents per batch · integer · min 1 · max 100 · empty = default 2');
    assert.equal(paramPrompt('source', source), 'source · string · at least 2 characters · at most 20 characters · matches ^[a-z-]+$ · empty = not set');
  });
});
