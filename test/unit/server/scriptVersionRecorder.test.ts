// The launch hook on real folders: the version read before the spawn and handed to the store, and a run that
// never waits on (nor fails for) a version that cannot be read or stored.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Execution } from '../../../src/shared/api';
import type { CronDefinition } from '../../../src/server/config';
import { createLogger } from '../../../src/server/logger';
import type { ScriptVersion } from '../../../src/server/scriptVersion';
import { ScriptVersionRecorder } from '../../../src/server/scriptVersionRecorder';

const EXECUTION: Execution = {
  id: '0b7f3c1e-4a5d-4c6e-9f10-2a3b4c5d6e7f',
  cronName: 'index-kb',
  status: 'running',
  triggerType: 'manual',
  triggeredBy: 'token:alice',
  params: {},
  startedAt: '2026-11-30T02:00:00.000Z',
  completedAt: null,
  durationMs: null,
  exitCode: null,
  errorMessage: null,
  runnerId: 'here',
  stuck: false,
  logLinesDropped: 0,
};

function cronRunning(command: string[]): CronDefinition {
  return { name: 'index-kb', description: '', schedule: '0 3 * * *', scheduleText: '', timezone: 'UTC', command, estimatedDurationMs: 0, timeoutMs: 60_000, enabled: true, params: {}, runOn: [], env: {}, inheritEnv: false, leftovers: 'end' };
}

describe('script version at launch', () => {
  let folder: string;
  let lines: string[];
  const log = () => createLogger({ json: true, level: 'debug', write: (line) => lines.push(line) });

  beforeEach(() => {
    folder = realpathSync(mkdtempSync(join(tmpdir(), 'cron-ops-recorder-')));
    mkdirSync(join(folder, 'scripts'));
    writeFileSync(join(folder, 'scripts', 'job.mjs'), "console.log('indexing');\n");
    lines = [];
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  it('reads the version before the spawn and hands it to the store for the run', async () => {
    const recorded: Array<{ id: string; version: ScriptVersion }> = [];
    const recorder = new ScriptVersionRecorder({ folder, log: log(), store: { record: async (id, version) => void recorded.push({ id, version }) } });
    const { recorded: written } = await recorder.beforeSpawn(EXECUTION, cronRunning([process.execPath, join(folder, 'scripts', 'job.mjs')]));
    await written;
    assert.equal(recorded.length, 1);
    assert.equal(recorded[0].id, EXECUTION.id);
    assert.deepEqual(recorded[0].version.files.map((file) => file.path), ['scripts/job.mjs']);
    assert.match(recorded[0].version.hash ?? '', /^[0-9a-f]{64}$/);
  });

  it('writes nothing for a command that names no file, outside any repository', async () => {
    const recorder = new ScriptVersionRecorder({ folder, log: log(), store: { record: async () => assert.fail('nothing to record') } });
    await (await recorder.beforeSpawn(EXECUTION, cronRunning([process.execPath, '-e', 'console.log(1)']))).recorded;
  });

  it('a store that refuses the version is logged; the run goes on', async () => {
    const recorder = new ScriptVersionRecorder({ folder, log: log(), store: { record: async () => Promise.reject(new Error('disk full')) } });
    await (await recorder.beforeSpawn(EXECUTION, cronRunning(['node', 'scripts/job.mjs']))).recorded;
    assert.ok(lines.some((line) => /Could not store the script version of index-kb/.test(line) && /disk full/.test(line)), lines.join('\n'));
  });

  it('a folder that cannot be read gives no version and a warning, not a failed run', async () => {
    rmSync(folder, { recursive: true, force: true });
    const recorder = new ScriptVersionRecorder({ folder, log: log(), store: { record: async () => assert.fail('nothing to record') } });
    await (await recorder.beforeSpawn(EXECUTION, cronRunning(['node', 'scripts/job.mjs']))).recorded;
    assert.ok(lines.some((line) => /Could not read the script version of index-kb: the run starts without one/.test(line)), lines.join('\n'));
  });
});
