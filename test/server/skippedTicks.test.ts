// Ticks that start no run are recorded, apart from the executions: a tick that finds the cron still running
// (already-running), a tick of a paused cron (paused), and at start the ticks missed while the server was
// down (server-down); `catchUp: "last"` then runs once. Real server processes on real time, per-second
// schedules, waits on what the API shows.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_PATHS, CATCH_UP_TRIGGERED_BY, type Cron, type Execution, type SkippedTick, type SkippedTicksReply, type TimelineReply } from '../../src/shared/api';
import { api, getExecution, listExecutions, TEST_CRON_SECRET, triggerOk, waitForExecution } from '../support/http';
import { nodeCron, startServer, writeConfig, type ServerProcess } from '../support/serverProcess';
import { waitFor } from '../support/waitFor';

async function skippedOf(server: ServerProcess, cronName: string, query = ''): Promise<SkippedTick[]> {
  const reply = await api<SkippedTicksReply>(server, `${API_PATHS.skipped(cronName)}${query ? `?${query}` : ''}`);
  assert.equal(reply.status, 200, reply.text);
  return reply.body.skippedTicks;
}

async function cronOf(server: ServerProcess, cronName: string): Promise<Cron> {
  return (await api<{ crons: Cron[] }>(server, API_PATHS.crons)).body.crons.find((cron) => cron.name === cronName)!;
}

/**
 * Waits until each of `servers` that recorded ticks of `cronName` missed while down has logged what became
 * of its catch-up: started here, or found already started (by another instance or an earlier start).
 */
async function waitForCatchUpDecisions(servers: ServerProcess[], cronName: string): Promise<void> {
  const missed = new RegExp(`${cronName} missed \\d+ ticks? while the server was down`);
  const decided = new RegExp(`Cron ${cronName} started to catch up|${cronName}: the downtime is already caught up`);
  await waitFor(() => servers.every((server) => !missed.test(server.output()) || decided.test(server.output())), `the catch-up decision of each instance that recorded missed ticks of ${cronName}`, 30_000);
}

describe('skipped ticks', function () {
  this.timeout(120_000);

  describe('while the server runs', () => {
    let server: ServerProcess;

    before(async () => {
      server = await startServer({
        config: {
          crons: [
            // Lasts 2.5 s, fires every second: most ticks find it running.
            nodeCron('slow-ticker', 'setTimeout(() => {}, 2500)', { schedule: '* * * * * *' }),
            nodeCron('paused-ticker', 'console.log("tick")', { schedule: '* * * * * *' }),
          ],
          rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
        },
      });
    });

    after(async () => {
      await server?.stop();
    });

    it('records a tick that finds the cron running as skipped (already-running), with the run it found', async () => {
      const skips = await waitFor(async () => {
        const list = (await skippedOf(server, 'slow-ticker')).filter((tick) => tick.reason === 'already-running');
        return list.length >= 2 ? list : undefined;
      }, 'two already-running skips of slow-ticker', 30_000);
      for (const skip of skips) {
        assert.equal(skip.cronName, 'slow-ticker');
        assert.equal(new Date(skip.tickAt).getUTCMilliseconds(), 0, 'a tick on a whole second');
        assert.ok(skip.runnerId, 'the instance that saw it');
        const running = await getExecution(server, skip.runningExecutionId!);
        assert.equal(running.cronName, 'slow-ticker');
        const tickAt = Date.parse(skip.tickAt);
        assert.ok(Date.parse(running.startedAt) <= tickAt + 1000 && (running.completedAt === null || Date.parse(running.completedAt) >= tickAt - 1000), `the run ${JSON.stringify(running)} was going at ${skip.tickAt}`);
      }
      // Not fake executions: the history holds runs only, none of them at a skipped tick.
      const runs = await listExecutions(server, 'cronName=slow-ticker&limit=1000');
      assert.ok(runs.every((run: Execution) => run.triggerType === 'scheduled' && ['running', 'completed'].includes(run.status)), JSON.stringify(runs));
      const cron = await cronOf(server, 'slow-ticker');
      assert.ok(cron.skippedTicks24h! >= skips.length, `skippedTicks24h ${cron.skippedTicks24h} counts them`);
    });

    it('shows skipped ticks in the timeline as their own marks, not runs', async () => {
      const timeline = (await api<TimelineReply>(server, `${API_PATHS.timeline}?days=1&cronName=slow-ticker`)).body;
      assert.ok(timeline.skipped!.length >= 2, JSON.stringify(timeline.skipped));
      assert.ok(timeline.skipped!.every((tick) => tick.cronName === 'slow-ticker' && tick.reason === 'already-running'));
      assert.equal(timeline.skippedTotal, timeline.skipped!.length);
      const runIds = new Set(timeline.executions.map((run) => run.startedAt));
      assert.ok(timeline.skipped!.every((tick) => !runIds.has(tick.tickAt)), 'a skipped tick is no run');
      const filtered = (await api<TimelineReply>(server, `${API_PATHS.timeline}?days=1&cronName=slow-ticker&status=completed`)).body;
      assert.deepEqual(filtered.skipped, [], 'a status filter shows runs of that status only');
    });

    it("records a paused cron's ticks as skipped (paused), and none once resumed", async () => {
      // A tick can be skipped as paused from the moment the request is sent (the reply may come later).
      const pausedAt = Date.now();
      const paused = await api<Cron>(server, API_PATHS.pause('paused-ticker'), { method: 'POST' });
      assert.equal(paused.status, 200);
      const skips = await waitFor(async () => {
        const list = (await skippedOf(server, 'paused-ticker')).filter((tick) => tick.reason === 'paused');
        return list.length >= 2 ? list : undefined;
      }, 'two paused skips of paused-ticker', 20_000);
      assert.ok(skips.every((tick) => Date.parse(tick.tickAt) >= pausedAt - 1000), JSON.stringify(skips));
      assert.equal(skips[0].runningExecutionId, null);
      // Paging: newest first, the cursor reaches the older ones.
      const first = await api<SkippedTicksReply>(server, `${API_PATHS.skipped('paused-ticker')}?limit=1`);
      assert.equal(first.body.skippedTicks.length, 1);
      const older = await skippedOf(server, 'paused-ticker', `limit=1&before=${encodeURIComponent(first.body.nextCursor!)}`);
      assert.ok(Date.parse(older[0].tickAt) < Date.parse(first.body.skippedTicks[0].tickAt));

      const resumed = await api<Cron>(server, API_PATHS.resume('paused-ticker'), { method: 'POST' });
      const resumedAt = Date.now();
      await waitFor(async () => (await listExecutions(server, 'cronName=paused-ticker&limit=5')).some((run) => Date.parse(run.startedAt) > resumedAt), 'a run after the resume', 15_000);
      const lastPaused = Math.max(...(await skippedOf(server, 'paused-ticker')).map((tick) => Date.parse(tick.tickAt)));
      assert.ok(lastPaused <= Date.parse(resumed.body.nextRunAt!), 'no paused skip after the resume');
    });

    it('answers 404 for an unknown cron', async () => {
      const reply = await api(server, API_PATHS.skipped('no-such-cron'));
      assert.equal(reply.status, 404);
      assert.match(reply.body.error, /Unknown cron "no-such-cron"/);
    });
  });

  describe('a crons list of many crons', () => {
    let server: ServerProcess;
    const ZONES = ['Europe/Paris', 'America/New_York', 'Asia/Tokyo', 'Africa/Tunis'];

    before(async () => {
      // 300 crons as a large install has them: most disabled, many yearly, in time zones (each a costly
      // look at croner), and one that runs every second for 1.5 s: its runs overlap its schedule.
      const crons = [nodeCron('overlapping', 'setTimeout(() => {}, 1500)', { schedule: '* * * * * *' }), nodeCron('yearly-with-runs', 'console.log(1)', { schedule: '0 0 1 1 *', timezone: 'Europe/Paris' })];
      for (let index = 0; index < 298; index++) {
        const schedule = index % 3 === 0 ? '0 0 1 1 *' : index % 3 === 1 ? '*/5 * * * *' : '0 8,9 * * 1-5';
        crons.push(nodeCron(`bulk-${index}`, 'console.log(1)', { schedule, timezone: ZONES[index % ZONES.length], enabled: index % 5 === 0 }));
      }
      server = await startServer({ config: { crons, rateLimits: { perCronSeconds: 0, globalPerMinute: 0 } } });
    });

    after(async () => {
      await server?.stop();
    });

    it('answers the list and a /health sent meanwhile, with the forecast of a cron with enough runs still right', async () => {
      for (let run = 0; run < 3; run++) await waitForExecution(server, await triggerOk(server, 'yearly-with-runs'));
      await waitFor(async () => (await listExecutions(server, 'cronName=overlapping&status=completed')).length >= 3, 'three finished runs of overlapping', 30_000);
      const list = api<{ crons: Cron[] }>(server, API_PATHS.crons);
      const health = api(server, API_PATHS.health, { token: null });
      const [listReply, healthReply] = await Promise.all([list, health]);
      assert.equal(healthReply.status, 200, healthReply.text);
      assert.equal(listReply.status, 200, listReply.text);
      const crons = listReply.body.crons;
      assert.equal(crons.length, 300);
      const overlapping = crons.find((cron) => cron.name === 'overlapping')!;
      assert.equal(overlapping.overlap!.status, 'overlap', JSON.stringify(overlapping.overlap));
      assert.equal(overlapping.overlap!.shortestIntervalMs, 1000);
      assert.match(overlapping.overlap!.message!, /^p95 \d+(\.\d+)? s > every 1 s$/);
      // A yearly cron with runs: its next tick is past the forecast's week ahead, so no forecast, and no century walked.
      const yearly = crons.find((cron) => cron.name === 'yearly-with-runs')!;
      assert.deepEqual([yearly.overlap!.status, yearly.overlap!.samples, yearly.overlap!.shortestIntervalMs], ['unknown', 3, null]);
      // A disabled cron: nothing forecast, nothing read.
      const disabled = crons.find((cron) => cron.name === 'bulk-1')!;
      assert.equal(disabled.enabled, false);
      assert.deepEqual([disabled.overlap!.status, disabled.overlap!.samples], ['unknown', 0]);
      // Health answers between the slices of a list: a stream of health checks during lists all answer.
      const lists = Array.from({ length: 3 }, () => api(server, API_PATHS.crons));
      const checks = Array.from({ length: 5 }, () => api(server, API_PATHS.health, { token: null }));
      for (const reply of await Promise.all([...lists, ...checks])) assert.equal(reply.status, 200, reply.text);
    });
  });

  describe('across a stop', () => {
    let server: ServerProcess | undefined;
    let dataDir: string;

    before(() => {
      dataDir = mkdtempSync(join(tmpdir(), 'cron-ops-skips-'));
    });

    after(async () => {
      await server?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('records the ticks missed while the server was down; catchUp "last" runs once at start, "none" does not', async () => {
      const configPath = writeConfig({
        crons: [
          nodeCron('catch-last', 'console.log("caught")', { schedule: '* * * * * *', catchUp: 'last' }),
          nodeCron('catch-none', 'console.log("not caught")', { schedule: '* * * * * *' }),
        ],
        rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
      });
      server = await startServer({ config: configPath, args: ['--data', dataDir] });
      for (const name of ['catch-last', 'catch-none']) {
        await waitFor(async () => (await listExecutions(server!, `cronName=${name}&status=completed`)).length >= 1, `a run of ${name}`, 20_000);
      }
      assert.equal((await cronOf(server, 'catch-last')).catchUp, 'last');
      assert.equal((await cronOf(server, 'catch-none')).catchUp, 'none');
      // The server ran every tick up to at least this one: a tick missed while down comes after it.
      const lastRunBefore = new Map<string, number>();
      for (const name of ['catch-last', 'catch-none']) lastRunBefore.set(name, Date.parse((await listExecutions(server, `cronName=${name}&limit=1`))[0].startedAt));
      await server.stop();
      const stoppedAt = Date.now();
      // The downtime under test: long enough for ticks older than the start's 2 s grace.
      await waitFor(() => Date.now() - stoppedAt > 4_000, 'four seconds of downtime', 10_000);
      server = await startServer({ config: configPath, args: ['--data', dataDir] });
      const restartedAt = Date.now();

      for (const name of ['catch-last', 'catch-none']) {
        const down: SkippedTick[] = (await skippedOf(server, name)).filter((tick) => tick.reason === 'server-down');
        assert.ok(down.length >= 2, `${name}: the ticks of the downtime recorded at start: ${JSON.stringify(down)}`);
        assert.ok(down.every((tick: SkippedTick) => Date.parse(tick.tickAt) > lastRunBefore.get(name)! - 1000 && Date.parse(tick.tickAt) <= restartedAt), `${name}: within the downtime: ${JSON.stringify(down)}`);
        // A tick is a run or a skip, never both (the catch-up run is the missed tick's, started when it is seen).
        const ran: Set<number> = new Set((await listExecutions(server, `cronName=${name}&limit=1000`)).filter((run) => run.triggeredBy !== CATCH_UP_TRIGGERED_BY).map((run: Execution) => Math.floor(Date.parse(run.startedAt) / 1000) * 1000));
        assert.deepEqual(down.filter((tick: SkippedTick) => ran.has(Date.parse(tick.tickAt))), [], `${name}: no missed tick is also a run: ${JSON.stringify(down)}`);
        assert.match(server.output(), new RegExp(`${name} missed \\d+ ticks? while the server was down`));
      }
      const catchUp = await waitFor(async () => {
        const runs = (await listExecutions(server!, 'cronName=catch-last&limit=1000')).filter((run) => run.triggeredBy === CATCH_UP_TRIGGERED_BY);
        return runs.length > 0 ? runs : undefined;
      }, 'the catch-up run of catch-last', 20_000);
      assert.equal(catchUp.length, 1, 'one catch-up run');
      assert.equal(catchUp[0].triggerType, 'scheduled');
      assert.ok(Date.parse(catchUp[0].startedAt) >= stoppedAt, 'started after the downtime');
      // catch-none runs on its schedule again, never as a catch-up.
      await waitFor(async () => (await listExecutions(server!, 'cronName=catch-none&limit=20')).some((run) => Date.parse(run.startedAt) > restartedAt), 'catch-none on schedule again', 20_000);
      const noneRuns = await listExecutions(server, 'cronName=catch-none&limit=1000');
      assert.equal(noneRuns.filter((run) => run.triggeredBy === CATCH_UP_TRIGGERED_BY).length, 0, 'no catch-up for catchUp "none"');

    });

    it('leaves no hole at a restart: every second from the last run before the stop to the first run after the start is a run or a skipped tick', async () => {
      const configPath = writeConfig({ crons: [nodeCron('every-second', 'console.log("tick")', { schedule: '*/1 * * * * *' })], rateLimits: { perCronSeconds: 0, globalPerMinute: 0 } });
      const holeData = mkdtempSync(join(tmpdir(), 'cron-ops-skips-hole-'));
      try {
        // The previous test's server, if it failed before stopping it.
        await server?.stop();
        server = await startServer({ config: configPath, args: ['--data', holeData] });
        await waitFor(async () => (await listExecutions(server!, 'cronName=every-second&status=completed')).length >= 2, 'two runs of every-second', 20_000);
        await server.stop();
        const stoppedAt = Date.now();
        await waitFor(() => Date.now() - stoppedAt > 3_000, 'three seconds of downtime', 10_000);
        server = await startServer({ config: configPath, args: ['--data', holeData] });
        const restartedAt = Date.now();
        await waitFor(async () => (await listExecutions(server!, 'cronName=every-second&limit=20')).some((run) => Date.parse(run.startedAt) > restartedAt), 'a scheduled run after the restart', 20_000);
        const second = (iso: string) => Math.floor(Date.parse(iso) / 1000) * 1000;
        const runs = (await listExecutions(server, 'cronName=every-second&limit=1000')).map((run) => second(run.startedAt));
        const skips = (await skippedOf(server, 'every-second', 'limit=1000')).map((tick) => Date.parse(tick.tickAt));
        const lastBefore = Math.max(...runs.filter((at) => at < stoppedAt));
        const firstAfter = Math.min(...runs.filter((at) => at > restartedAt - 1000));
        const covered = new Set([...runs, ...skips]);
        const holes: string[] = [];
        for (let at = lastBefore; at <= firstAfter; at += 1000) if (!covered.has(at)) holes.push(new Date(at).toISOString());
        assert.deepEqual(holes, [], `every second from ${new Date(lastBefore).toISOString()} to ${new Date(firstAfter).toISOString()} is a run or a skip`);
        assert.ok(skips.some((at) => at > stoppedAt), 'the downtime is recorded');
      } finally {
        await server?.stop();
        server = undefined;
        rmSync(holeData, { recursive: true, force: true });
      }
    });

    it('does not record as server-down the ticks a changed schedule would have had while the server was up', async () => {
      const configPath = writeConfig({ crons: [nodeCron('rescheduled', 'console.log("ran")', { schedule: '0 0 1 1 *' })], rateLimits: { perCronSeconds: 0, globalPerMinute: 0 } });
      const upData = mkdtempSync(join(tmpdir(), 'cron-ops-skips-up-'));
      try {
        // The previous test's server, if it failed before stopping it.
        await server?.stop();
        server = await startServer({ config: configPath, args: ['--data', upData] });
        // A yearly cron run once by hand: its last run is the last thing known of it.
        const ranAt = Date.parse((await waitForExecution(server, await triggerOk(server, 'rescheduled'))).startedAt);
        await waitFor(() => Date.now() - ranAt > 3_000, 'three seconds up after the run', 10_000);
        const stopAsked = Date.now();
        await server.stop();
        // While stopped, the schedule becomes every second: applied back to the last run, it would claim
        // the seconds the server was up were missed.
        const config = JSON.parse(readFileSync(configPath, 'utf8')) as { crons: Array<{ schedule: string }> };
        config.crons[0].schedule = '* * * * * *';
        writeFileSync(configPath, JSON.stringify(config, null, 2));
        // The downtime must outlast the 2 s left to a peer that may still be alive, or no second of it is missed.
        await waitFor(() => Date.now() - stopAsked > 4_000, 'four seconds down', 10_000);
        server = await startServer({ config: configPath, args: ['--data', upData] });
        // The missed ticks are recorded just after the server listens: read until they are there (bounded).
        const down = await waitFor(async () => {
          const ticks = (await skippedOf(server!, 'rescheduled', 'limit=1000')).filter((tick) => tick.reason === 'server-down');
          return ticks.length >= 1 ? ticks : undefined;
        }, 'the seconds of the restart to be recorded as server-down', 30_000);
        const early = down.filter((tick) => Date.parse(tick.tickAt) <= stopAsked);
        assert.deepEqual(early, [], `no tick of ${new Date(ranAt).toISOString()}–${new Date(stopAsked).toISOString()} (the server was up) is recorded as server-down`);
      } finally {
        await server?.stop();
        server = undefined;
        rmSync(upData, { recursive: true, force: true });
      }
    });

    it('runs one catch-up for a downtime when the server restarts twice in quick succession (a crash right after the first start)', async () => {
      const configPath = writeConfig({ crons: [nodeCron('catch-restart', 'console.log("caught")', { timezone: 'UTC', catchUp: 'last' })], rateLimits: { perCronSeconds: 0, globalPerMinute: 0 } });
      const restartData = mkdtempSync(join(tmpdir(), 'cron-ops-skips-restart-'));
      try {
        // The previous test's server, if it failed before stopping it.
        await server?.stop();
        server = await startServer({ config: configPath, args: ['--data', restartData] });
        // A run by hand: the last thing known of the cron before the downtime.
        await waitForExecution(server, await triggerOk(server, 'catch-restart'));
        await server.stop();
        // While stopped, the cron gets three ticks a minute, all in the downtime ahead: the two quick
        // restarts then fall between ticks, so what they could catch up is that downtime only.
        const firstTick = Math.ceil((Date.now() + 1000) / 1000) * 1000;
        const ticks = [0, 1, 2].map((index) => firstTick + index * 1000);
        const config = JSON.parse(readFileSync(configPath, 'utf8')) as { crons: Array<{ schedule: string }> };
        config.crons[0].schedule = `${ticks.map((at) => new Date(at).getUTCSeconds()).join(',')} * * * * *`;
        writeFileSync(configPath, JSON.stringify(config, null, 2));
        await waitFor(() => Date.now() > ticks[2] + 3_000, 'the three ticks past, and the start grace after them', 15_000);

        server = await startServer({ config: configPath, args: ['--data', restartData] });
        const catchUps = async () => (await listExecutions(server!, 'cronName=catch-restart&limit=1000')).filter((run) => run.triggeredBy === CATCH_UP_TRIGGERED_BY);
        const first = await waitFor(async () => {
          const runs = await catchUps();
          return runs.length > 0 ? runs : undefined;
        }, 'the catch-up run of the downtime', 20_000);
        // A crash right after the start, and a start again at once.
        await server.kill9();
        server = await startServer({ config: configPath, args: ['--data', restartData] });
        const restartedAt = Date.now();
        assert.ok(restartedAt < ticks[0] + 60_000, 'the restarts were over before the next minute brought the ticks back');
        await waitFor(async () => (await listExecutions(server!, 'cronName=catch-restart&limit=1000')).every((run) => run.status !== 'running'), 'the catch-up run ended (or was marked failed by the start after the crash)', 20_000);

        const all = await catchUps();
        assert.deepEqual(all.map((run) => run.id), first.map((run) => run.id), `one catch-up run for the downtime: ${JSON.stringify(all)}`);
        assert.equal(first.length, 1);
        const down = (await skippedOf(server, 'catch-restart', 'limit=1000')).filter((tick) => tick.reason === 'server-down');
        assert.deepEqual(down.map((tick) => Date.parse(tick.tickAt)).sort((a, b) => a - b), ticks, 'the three ticks of the downtime, each recorded once');
        assert.doesNotMatch(server.output(), /catch-restart missed \d+ ticks?/, 'the second start found no tick missed');
      } finally {
        await server?.stop();
        server = undefined;
        rmSync(restartData, { recursive: true, force: true });
      }
    });

    it('starts the catch-up once a run going at start has ended (an external script still reporting its run)', async () => {
      const configPath = writeConfig({ crons: [nodeCron('catch-wait', 'console.log("caught")', { schedule: '* * * * * *', catchUp: 'last' })], rateLimits: { perCronSeconds: 0, globalPerMinute: 0 } });
      const waitData = mkdtempSync(join(tmpdir(), 'cron-ops-skips-wait-'));
      try {
        // The previous test's server, if it failed before stopping it.
        await server?.stop();
        server = await startServer({ config: configPath, args: ['--data', waitData] });
        await waitFor(async () => (await listExecutions(server!, 'cronName=catch-wait&status=completed')).length >= 1, 'a run of catch-wait', 20_000);
        // A run reported by a script outside the server: a stop leaves it going, and ticks find it running.
        const external = await waitFor(async () => {
          const reply = await api<Execution>(server!, API_PATHS.externalStart, { secret: TEST_CRON_SECRET, body: { cronName: 'catch-wait' } });
          return reply.status === 201 ? reply.body : undefined;
        }, 'the external run started between two scheduled runs', 15_000);
        await server.stop();
        const stoppedAt = Date.now();
        await waitFor(() => Date.now() - stoppedAt > 4_000, 'four seconds of downtime', 10_000);
        server = await startServer({ config: configPath, args: ['--data', waitData] });
        await server.waitForOutput(new RegExp(`catch-wait: the run ${external.id} is going; the catch-up starts when it ends`));
        const catchUps = async () => (await listExecutions(server!, 'cronName=catch-wait&limit=1000')).filter((run) => run.triggeredBy === CATCH_UP_TRIGGERED_BY);
        assert.deepEqual(await catchUps(), [], 'no catch-up while the run goes on');

        const completed = await api<Execution>(server, API_PATHS.externalComplete, { secret: TEST_CRON_SECRET, body: { executionId: external.id, status: 'completed', exitCode: 0 } });
        assert.equal(completed.status, 200, completed.text);
        const caught = await waitFor(async () => {
          const runs = await catchUps();
          return runs.length > 0 ? runs : undefined;
        }, 'the catch-up run once the external run ended', 20_000);
        assert.equal(caught.length, 1, JSON.stringify(caught));
        assert.ok(Date.parse(caught[0].startedAt) >= Date.parse(completed.body.completedAt!), `started after the run it waited for: ${JSON.stringify([caught[0], completed.body])}`);
      } finally {
        await server?.stop();
        server = undefined;
        rmSync(waitData, { recursive: true, force: true });
      }
    });

    // Several instances share the store on PostgreSQL only (the embedded store's folder is one instance's).
    if (process.env.CRON_OPS_TEST_STORE === 'postgres') {
      it('two instances starting after a downtime record each missed tick once and run the catch-up once; a third starting later runs none', async () => {
        const dataKey = mkdtempSync(join(tmpdir(), 'cron-ops-skips-pair-'));
        try {
          const configPath = writeConfig({
            crons: [nodeCron('catch-pair', 'console.log("caught")', { schedule: '* * * * * *', catchUp: 'last' })],
            rateLimits: { perCronSeconds: 0, globalPerMinute: 0 },
          });
          const instance = (runnerId: string) => startServer({ config: configPath, args: ['--data', dataKey], env: { CRON_OPS_RUNNER_ID: runnerId } });
          const first = await instance('pair-a');
          await waitFor(async () => (await listExecutions(first, 'cronName=catch-pair&status=completed')).length >= 1, 'a run of catch-pair', 20_000);
          await first.stop();
          const stoppedAt = Date.now();
          await waitFor(() => Date.now() - stoppedAt > 4_000, 'four seconds of downtime', 10_000);
          const pair = await Promise.all([instance('pair-a'), instance('pair-b')]);
          const later: ServerProcess[] = [];
          try {
            // Each instance that recorded missed ticks says what became of the catch-up: it started it, or
            // found it started (it may first wait for a scheduled run going to end).
            await waitForCatchUpDecisions(pair, 'catch-pair');
            const catchUps = async () => (await listExecutions(pair[0], 'cronName=catch-pair&limit=1000')).filter((run) => run.triggeredBy === CATCH_UP_TRIGGERED_BY);
            const once = await catchUps();
            assert.equal(once.length, 1, `one catch-up run: ${JSON.stringify(once.map((run) => [run.id, run.runnerId, run.startedAt]))}`);
            assert.ok(['pair-a', 'pair-b'].includes(once[0].runnerId!), JSON.stringify(once[0]));
            const down = (await skippedOf(pair[1], 'catch-pair')).filter((tick) => tick.reason === 'server-down');
            assert.ok(down.length >= 2, JSON.stringify(down));
            assert.equal(new Set(down.map((tick) => tick.tickAt)).size, down.length, 'each missed tick recorded once');
            assert.ok(down.every((tick) => ['pair-a', 'pair-b'].includes(tick.runnerId)));

            // A third instance starting while these run: the downtime is over, nothing more is caught up.
            later.push(await instance('pair-c'));
            await waitForCatchUpDecisions(later, 'catch-pair');
            assert.deepEqual((await catchUps()).map((run) => run.id), [once[0].id], 'still the one catch-up run');
          } finally {
            await Promise.all([...pair, ...later].map((server) => server.stop()));
          }
        } finally {
          rmSync(dataKey, { recursive: true, force: true });
        }
      });
    }
  });
});
