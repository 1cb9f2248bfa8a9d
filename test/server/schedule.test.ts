// Schedules fire on their own: a 6-field expression every second gives scheduled executions, never two
// running at once (an overlapping tick is skipped and logged); a paused schedule does not fire.
import assert from 'node:assert/strict';
import { API_PATHS, type Cron, type Execution } from '../../src/shared/api';
import { api, listExecutions, triggerOk, waitForStatus } from '../support/http';
import { nodeCron, startServer, type ServerProcess } from '../support/serverProcess';
import { waitFor } from '../support/waitFor';

describe('scheduler', function () {
  let server: ServerProcess;

  before(async () => {
    server = await startServer({
      config: {
        crons: [
          // Lasts longer than its period: ticks overlap and must be skipped.
          nodeCron('every-second-slow', 'console.log("slow tick " + process.env.CRON_EXECUTION_ID); setTimeout(() => {}, 1600)', { schedule: '* * * * * *', estimatedDurationMs: 1600 }),
          nodeCron('every-second', 'console.log("tick")', { schedule: '* * * * * *' }),
          nodeCron('every-two-seconds', 'console.log("tock")', { schedule: '*/2 * * * * *', timezone: 'Africa/Tunis' }),
        ],
        rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
      },
    });
  });

  after(async () => {
    await server?.stop();
  });

  const ended = (executions: Execution[]) => executions.filter((execution) => execution.status !== 'running');

  /** Each run starts once the one before has ended (store timestamps, with a little slack for clock reads). */
  function assertNoOverlap(runs: Execution[]): void {
    const sorted = [...runs].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
    for (let index = 1; index < sorted.length; index++) {
      assert.ok(
        Date.parse(sorted[index].startedAt) >= Date.parse(sorted[index - 1].completedAt!) - 250,
        `run ${index} starts after run ${index - 1} ended: ${JSON.stringify(sorted.slice(index - 1, index + 1))}`,
      );
    }
  }

  it('runs a 6-field schedule every second as scheduled executions', async () => {
    const runs = await waitFor(async () => {
      const list = ended(await listExecutions(server, 'cronName=every-second'));
      return list.length >= 4 ? list : undefined;
    }, 'four scheduled runs', 20_000);
    for (const run of runs) {
      assert.equal(run.triggerType, 'scheduled');
      assert.equal(run.status, 'completed');
    }
    assertNoOverlap(runs);
    const cron = (await api<{ crons: Cron[] }>(server, API_PATHS.crons)).body.crons.find((candidate) => candidate.name === 'every-second')!;
    assert.ok(Date.parse(cron.nextRunAt!) - Date.now() <= 1500, `next run within a second: ${cron.nextRunAt}`);
    assert.equal(new Date(cron.nextRunAt!).getUTCMilliseconds(), 0, 'on a whole second');
  });

  it('never runs two at once when a run outlasts its period, and logs the skipped ticks', async () => {
    const runs = await waitFor(async () => {
      const list = ended(await listExecutions(server, 'cronName=every-second-slow'));
      return list.length >= 3 ? list : undefined;
    }, 'three slow scheduled runs', 30_000);
    assertNoOverlap(runs);
    // 1.6 s runs every second: ticks were skipped rather than queued.
    const span = Date.parse(runs[0].completedAt!) - Date.parse(runs[runs.length - 1].startedAt);
    assert.ok(runs.length <= Math.ceil(span / 1600) + 1, `${runs.length} runs in ${span} ms: no more than fit one after another`);
    const running = (await listExecutions(server, 'cronName=every-second-slow&status=running')).length;
    assert.ok(running <= 1, `at most one running (${running})`);
    await server.waitForOutput(/every-second-slow/i);
    assert.match(server.output(), /skip[^\n]*every-second-slow|every-second-slow[^\n]*skip/i, 'the skipped tick is logged');
  });

  it('counts the next scheduled run in the KPIs', async () => {
    const stats = (await api(server, API_PATHS.stats)).body;
    assert.ok(['every-second', 'every-second-slow', 'every-two-seconds'].includes(stats.nextExecution.cronName));
    assert.ok(Date.parse(stats.nextExecution.at) - Date.now() <= 2500, JSON.stringify(stats.nextExecution));
  });

  it('a paused schedule does not fire; resumed, it fires again; manual triggers work meanwhile', async () => {
    const paused = await api<Cron>(server, API_PATHS.pause('every-second'), { method: 'POST' });
    assert.equal(paused.body.paused, true);
    // A run started just before the pause may still finish: count from once it has.
    const settled = await waitFor(async () => {
      const list = await listExecutions(server, 'cronName=every-second&limit=1000');
      return list.every((execution) => execution.status !== 'running') ? list : undefined;
    }, 'no run of every-second in progress');
    const countBefore = settled.length;
    const other = (await listExecutions(server, 'cronName=every-two-seconds&limit=1000')).length;
    await waitFor(async () => (await listExecutions(server, 'cronName=every-two-seconds&limit=1000')).length >= other + 3, 'three more runs of the other cron', 20_000);
    const scheduledWhilePaused = (await listExecutions(server, 'cronName=every-second&limit=1000')).length - countBefore;
    assert.equal(scheduledWhilePaused, 0, 'no scheduled run while paused');
    const manual = await triggerOk(server, 'every-second');
    await waitForStatus(server, manual, 'completed');
    const resumed = await api<Cron>(server, API_PATHS.resume('every-second'), { method: 'POST' });
    assert.equal(resumed.body.paused, false);
    await waitFor(
      async () => (await listExecutions(server, 'cronName=every-second&limit=5')).some((execution) => execution.triggerType === 'scheduled' && Date.parse(execution.startedAt) > Date.parse((resumed.body as Cron).nextRunAt!) - 1500),
      'a scheduled run after the resume',
      10_000,
    );
  });
});
