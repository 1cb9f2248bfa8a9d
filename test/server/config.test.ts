// A bad cron config stops the server at start with the file, the field and what is wrong, and a
// non-zero exit code: never a stack trace alone.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { nodeCron, runServerCommand, writeConfig, type TestConfig } from '../support/serverProcess';

const good = (): TestConfig => ({ crons: [nodeCron('first', 'console.log(1)'), nodeCron('second', 'console.log(2)', { schedule: '*/10 * * * * *' })] });

async function startFails(config: TestConfig | string, field: RegExp | string, what: RegExp): Promise<void> {
  const path = writeConfig(config);
  const result = await runServerCommand(['--config', path, '--memory', '--port', '0', '--host', '127.0.0.1']);
  const output = result.stdout + result.stderr;
  assert.notEqual(result.code, 0, `exit code non-zero, output:\n${output}`);
  assert.ok(!/listening on/.test(output), 'never listens');
  const line = output.split('\n').find((candidate) => candidate.includes(path));
  assert.ok(line, `a line names the file ${path}:\n${output}`);
  if (typeof field === 'string') assert.ok(line.includes(`${path}: ${field}`), `the line names the field ${field}: ${line}`);
  else assert.match(line, field);
  assert.match(line, what);
  assert.ok(!/^\s+at .+:\d+:\d+\)?$/m.test(output), `no stack trace:\n${output}`);
}

describe('config errors', function () {
  it('bad JSON', async () => {
    await startFails('{"crons": [ {"name": "x", }', /JSON/i, /JSON/i);
  });

  it('not an object, or no crons array', async () => {
    await startFails('[]', /top level|crons/, /object|crons/i);
    await startFails('{"rateLimits": {}}', 'crons', /required|array/i);
  });

  it('unknown time zone', async () => {
    const config = good();
    config.crons[1].timezone = 'Mars/Olympus_Mons';
    await startFails(config, 'crons[1].timezone', /Mars\/Olympus_Mons/);
  });

  it('bad cron expression', async () => {
    const config = good();
    config.crons[0].schedule = '61 * * * *';
    await startFails(config, 'crons[0].schedule', /61 \* \* \* \*/);
    config.crons[0].schedule = '* * * * * * *';
    await startFails(config, 'crons[0].schedule', /field/i);
    config.crons[0].schedule = 'every day at noon';
    await startFails(config, 'crons[0].schedule', /every day at noon/);
  });

  it('a schedule that can never fire: the cron, the field and why', async () => {
    const config = good();
    config.crons[1].schedule = '0 0 31 2 *';
    await startFails(config, 'crons[1].schedule', /never fires: day of month "31" never occurs in February/);
  });

  it('a schedule croner would run differently from how it reads: the field and a corrected form', async () => {
    const config = good();
    config.crons[0].schedule = '*/7 * * * *';
    await startFails(config, 'crons[0].schedule', /minute "\*\/7" does not run every 7 minutes.*"0,7,14,21,28,35,42,49,56 \* \* \* \*"/);
    config.crons[0].schedule = '0 9 * * 1L';
    await startFails(config, 'crons[0].schedule', /"0 9 \* \* 1#L"/);
  });

  it('an empty program is refused; empty arguments are not', async () => {
    const config = good();
    config.crons[0].command = ['', 'x'];
    await startFails(config, 'crons[0].command[0]', /program must be a non-empty string/);
  });

  it('env with a reserved or badly typed variable, leftovers other than end or keep', async () => {
    const reserved = good() as TestConfig & { crons: Array<Record<string, unknown>> };
    reserved.crons[0].env = { CRON_EXECUTION_ID: 'mine' };
    await startFails(reserved as TestConfig, 'crons[0].env.CRON_EXECUTION_ID', /set by cron-ops/);
    const typed = good() as TestConfig & { crons: Array<Record<string, unknown>> };
    typed.crons[0].env = { BATCH: 5 };
    await startFails(typed as TestConfig, 'crons[0].env.BATCH', /must be a string/);
    const leftovers = good() as TestConfig & { crons: Array<Record<string, unknown>> };
    leftovers.crons[1].leftovers = 'kill';
    await startFails(leftovers as TestConfig, 'crons[1].leftovers', /"end".*"keep"/);
  });

  it('log caps: a line cap below 256 bytes, a run cap smaller than two lines', async () => {
    await startFails({ ...good(), maxLogLineBytes: 10 } as TestConfig, 'maxLogLineBytes', /256/);
    await startFails({ ...good(), maxLogLineBytes: 16384, maxLogBytesPerExecution: 20000 } as TestConfig, 'maxLogBytesPerExecution', /32768/);
  });

  it('bad name, duplicate name', async () => {
    const config = good();
    config.crons[0].name = 'Bad_Name';
    await startFails(config, 'crons[0].name', /Bad_Name/);
    const twice = good();
    twice.crons[1].name = 'first';
    await startFails(twice, 'crons[1].name', /first/);
  });

  it('bad command, bad numbers, bad params, unknown keys', async () => {
    const noCommand = good();
    noCommand.crons[1].command = [];
    await startFails(noCommand, 'crons[1].command', /argv|array/);
    const timeout = good();
    (timeout.crons[0] as any).timeoutMs = 'soon';
    await startFails(timeout, 'crons[0].timeoutMs', /soon/);
    const param = good();
    param.crons[0].params = { batchSize: { type: 'integer', min: 1, max: 50, default: 99 } };
    await startFails(param, 'crons[0].params.batchSize.default', /50/);
    const paramType = good();
    paramType.crons[0].params = { batchSize: { type: 'float' } };
    await startFails(paramType, 'crons[0].params.batchSize.type', /float/);
    const limits = good();
    limits.rateLimits = { perCronSeconds: -1 };
    await startFails(limits, 'rateLimits.perCronSeconds', /-1/);
    const typo = { ...good(), retentionDayz: 7 } as unknown as TestConfig;
    await startFails(typo, 'retentionDayz', /not a known/i);
  });

  it('a missing config file', async () => {
    const path = join(writeConfig(good()), '..', 'no-such-file.json');
    const result = await runServerCommand(['--config', path, '--memory', '--port', '0']);
    assert.notEqual(result.code, 0);
    assert.ok(result.stderr.includes(path), result.stderr);
    assert.match(result.stderr, /no such file|not found|cannot read/i);
  });

  it('reports every problem at once', async () => {
    const config = good();
    config.crons[0].schedule = 'nope';
    config.crons[1].timezone = 'Nowhere/Land';
    const path = writeConfig(config);
    const result = await runServerCommand(['--config', path, '--memory', '--port', '0']);
    assert.notEqual(result.code, 0);
    assert.ok(result.stderr.includes(`${path}: crons[0].schedule`), result.stderr);
    assert.ok(result.stderr.includes(`${path}: crons[1].timezone`), result.stderr);
  });

  it('bad command-line arguments exit non-zero with the usage', async () => {
    const path = writeConfig(good());
    const port = await runServerCommand(['--config', path, '--memory', '--port', 'abc']);
    assert.notEqual(port.code, 0);
    assert.match(port.stderr, /--port/);
    const unknown = await runServerCommand(['--config', path, '--memory', '--no-such-option']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no-such-option/);
    assert.match(unknown.stderr, /Usage/i);
  });
});
