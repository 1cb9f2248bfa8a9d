// Crashes and restarts on a --data folder: kill -9 during a run leaves nothing running after the restart
// and loses no history; a paused schedule stays paused; SIGTERM exits 0 with the running run recorded.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_PATHS, type Cron, type Execution } from '../../src/shared/api';
import { api, getExecution, listExecutions, processAlive, triggerOk, waitForStatus } from '../support/http';
import { nodeCron, startServer, writeConfig, type ServerProcess } from '../support/serverProcess';
import { withStoreSql } from '../support/storeSql';
import { waitFor } from '../support/waitFor';

const HANG = 'console.log("pid " + process.pid); setInterval(() => {}, 1000)';

describe('restarts on a data folder', function () {
  this.timeout(120_000);
  let server: ServerProcess | undefined;
  let dataDir: string;
  let configPath: string;
  const orphans: number[] = [];

  const start = async () => {
    server = await startServer({ config: configPath, args: ['--data', dataDir] });
    return server;
  };

  const pidOf = (id: string) =>
    waitFor(async () => {
      const line: string | undefined = (await api(server!, API_PATHS.logs(id))).body.lines[0]?.line;
      return line ? Number(/^pid (\d+)$/.exec(line)![1]) : undefined;
    }, `the pid of ${id}`);

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cron-ops-data-'));
    configPath = writeConfig({
      crons: [
        nodeCron('quick', 'console.log("done")'),
        nodeCron('long', HANG),
        nodeCron('ticker', 'console.log("tick")', { schedule: '* * * * * *' }),
        nodeCron('other-ticker', 'console.log("tock")', { schedule: '* * * * * *' }),
      ],
      rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
      killGraceMs: 1000,
    });
    await start();
  });

  after(async () => {
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    for (const pid of orphans) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone, as it should be.
      }
    }
  });

  it('after kill -9 during a run and a restart: nothing left running, the run failed as interrupted, no history lost, the pause kept', async () => {
    const quick = await triggerOk(server!, 'quick');
    const completed = await waitForStatus(server!, quick, 'completed');
    const paused = await api<Cron>(server!, API_PATHS.pause('ticker'), { method: 'POST' });
    assert.equal(paused.body.paused, true);
    const long = await triggerOk(server!, 'long');
    const pid = await pidOf(long);
    orphans.push(pid);
    const history = await listExecutions(server!, 'limit=1000');
    const runnerId = (await api(server!, API_PATHS.health, { token: null })).body.runnerId;

    await server!.kill9();
    const restartedAt = Date.now();
    await start();

    assert.equal((await api(server!, API_PATHS.health, { token: null })).body.runnerId, runnerId, 'the runner id is stable across restarts');
    const interrupted = await getExecution(server!, long);
    assert.equal(interrupted.status, 'failed');
    assert.equal(interrupted.errorMessage, 'Interrupted: server restarted');
    assert.ok(interrupted.completedAt);
    // Every execution from before the crash is still there, and none is left running.
    const after = await listExecutions(server!, 'limit=1000');
    for (const execution of history) {
      const now = after.find((candidate) => candidate.id === execution.id);
      assert.ok(now, `execution ${execution.id} (${execution.cronName}) kept`);
      assert.notEqual(now.status, 'running', `${execution.cronName} ${execution.id} not left running`);
      if (execution.status !== 'running') assert.deepEqual({ ...now, stuck: false }, { ...execution, stuck: false }, 'a finished execution is unchanged');
    }
    assert.deepEqual(await getExecution(server!, quick), completed);
    const logs = await api(server!, API_PATHS.logs(quick));
    assert.deepEqual(logs.body.lines.map((line: { line: string }) => line.line), ['done'], 'its logs kept');
    const runningNow = await listExecutions(server!, 'status=running');
    assert.ok(runningNow.every((execution) => Date.parse(execution.startedAt) >= restartedAt - 1000), `only runs started after the restart may be running: ${JSON.stringify(runningNow)}`);
    // The orphaned process of the interrupted run does not live on.
    await waitFor(() => !processAlive(pid), `the orphaned process ${pid} to be ended`, 10_000);

    // The pause survived the crash: ticker stays quiet while other-ticker runs.
    const crons = (await api<{ crons: Cron[] }>(server!, API_PATHS.crons)).body.crons;
    assert.equal(crons.find((cron) => cron.name === 'ticker')!.paused, true);
    assert.equal(crons.find((cron) => cron.name === 'other-ticker')!.paused, false);
    const tickerRuns = (await listExecutions(server!, 'cronName=ticker&limit=1000')).length;
    const otherRuns = (await listExecutions(server!, 'cronName=other-ticker&limit=1000')).length;
    await waitFor(async () => (await listExecutions(server!, 'cronName=other-ticker&limit=1000')).length >= otherRuns + 3, 'three runs of other-ticker', 20_000);
    assert.equal((await listExecutions(server!, 'cronName=ticker&limit=1000')).length, tickerRuns, 'no scheduled run of the paused cron');

    await api(server!, API_PATHS.resume('ticker'), { method: 'POST' });
    await waitFor(async () => (await listExecutions(server!, 'cronName=ticker&limit=1000')).length > tickerRuns, 'ticker to run again once resumed', 10_000);
  });

  it('after kill -9 before a run\'s pid was written: the restart finds its process by its environment and ends it', async () => {
    const long = await triggerOk(server!, 'long');
    const pid = await pidOf(long);
    orphans.push(pid);
    await server!.kill9();
    // The crash came within the turn of the start: the pid is written once per turn, and was not yet.
    await withStoreSql(dataDir, (query, dialect) => query(`UPDATE cron_executions SET pid = NULL WHERE id = ${dialect === 'postgres' ? '$1' : '?'}`, [long]));
    assert.ok(processAlive(pid), 'the job outlived the server');
    await start();
    assert.equal((await getExecution(server!, long)).status, 'failed');
    await waitFor(() => !processAlive(pid), `the orphaned process ${pid} to be ended`, 10_000);
    assert.match(server!.output(), new RegExp(`Execution ${long} of long was left running by a previous start: marked failed, its process\\(es\\) ${pid} ended`));
  });

  it('SIGTERM exits 0 promptly, records the running execution as ended and ends its process', async () => {
    await api(server!, API_PATHS.pause('ticker'), { method: 'POST' });
    await api(server!, API_PATHS.pause('other-ticker'), { method: 'POST' });
    const long = await triggerOk(server!, 'long');
    const pid = await pidOf(long);
    orphans.push(pid);
    const stoppingAt = Date.now();
    const code = await server!.stop(30_000);
    assert.equal(code, 0, `exit code 0, output:\n${server!.output().slice(-2000)}`);
    assert.ok(Date.now() - stoppingAt < 15_000, 'within seconds');
    await waitFor(() => !processAlive(pid), `process ${pid} to be ended`, 10_000);

    await start();
    const execution: Execution = await getExecution(server!, long);
    assert.notEqual(execution.status, 'running');
    assert.ok(['failed', 'cancelled'].includes(execution.status), execution.status);
    assert.ok(execution.completedAt);
    assert.ok(Date.parse(execution.completedAt!) <= Date.now());
    assert.notEqual(execution.errorMessage, 'Interrupted: server restarted', 'recorded by the stopping server, not left for the next start');
    const crons = (await api<{ crons: Cron[] }>(server!, API_PATHS.crons)).body.crons;
    assert.ok(crons.every((cron) => cron.name === 'quick' || cron.name === 'long' || cron.paused), 'pauses kept across a clean restart');
  });
});
