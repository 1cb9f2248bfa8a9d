// Wires store, runner, scheduler and HTTP into one backend that tests and main can start and stop.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { version } from '../../package.json';
import type { ServerConfig } from './config';
import { startChangeFeed } from './changeFeed';
import { createAlertsRuntime } from './alerts/alertsRuntime';
import type { RetriedExecution } from './alerts/runOutcomes';
import { CronInsights } from './cronInsights';
import { CronService } from './cronService';
import { DefinitionsReloader, type ReloadOutcome, type ReloadTrigger } from './definitionsReload';
import { recordDowntime } from './downtimeTicks';
import { EventBus } from './eventBus';
import type { HttpDeps } from './http/context';
import { buildHttp } from './http/httpApp';
import { warmUp, WarmUpAuthenticator } from './http/warmUp';
import { SseHub } from './http/sseHub';
import { errorText, type Logger } from './logger';
import { endOrphansByMarker } from './processTree';
import { endOrphan, Runner } from './runner';
import { Scheduler } from './scheduler';
import { AuditStore } from './store/auditStore';
import type { Db } from './store/db';
import { ExecutionStore } from './store/executionStore';
import { LogStore } from './store/logStore';
import { migrate } from './store/migrations';
import { RUNNER_ALIVE_SECONDS, RunnerStore } from './store/runnerStore';
import { ScheduleStore } from './store/scheduleStore';
import { SkippedTickStore } from './store/skippedTickStore';
import { ScriptVersionStore } from './store/scriptVersionStore';
import { ScriptVersionRecorder } from './scriptVersionRecorder';
import { timelineSource, type TimelineSourceOptions } from './store/timelineReader';
import { TokenStore } from './store/tokenStore';

export interface AppOptions {
  config: ServerConfig;
  db: Db;
  log: Logger;
  runnerId?: string;
  adminToken?: string;
  cronSecret?: string;
  /** Reload the definitions when the config file changes (main.ts; in-process tests leave it off). */
  watchDefinitions?: boolean;
  /** Where the timeline worker's bundle is, and how it starts (tests). */
  timeline?: TimelineSourceOptions;
  /** Asks each read the extension makes once before listening, so no first request pays its one-time work (main.ts). */
  warmUp?: boolean;
}

export interface App {
  http: FastifyInstance;
  service: CronService;
  tokens: TokenStore;
  runnerId: string;
  /** Reads the cron definitions file again (SIGHUP); `watchDefinitions` also does on every change of it. */
  reloadDefinitions(trigger: ReloadTrigger): Promise<ReloadOutcome>;
  /** Listens and starts the schedules; resolves with the URL. */
  listen(port: number, host: string): Promise<string>;
  /** No new runs, running ones recorded as they end, store closed. */
  close(): Promise<void>;
}

const DAILY_RETENTION = '0 3 * * *';

/** How long /health waits for the store's write probe before it answers degraded. */
const HEALTH_PROBE_DEADLINE_MS = 2_000;

type HealthProbe = Awaited<ReturnType<HttpDeps['health']>>;

/** Stable per host unless configured: what a restarted runner recognises as its own. */
export function defaultRunnerId(): string {
  return process.env.CRON_OPS_RUNNER_ID || hostname();
}

export async function buildApp(options: AppOptions): Promise<App> {
  const { config, db, log } = options;
  const runnerId = options.runnerId ?? defaultRunnerId();
  await migrate(db);

  // Looked up at each call: a reload of the definitions replaces config.crons.
  // Read from the definitions in effect: a reload replaces config.crons.
  const timeoutOf = (name: string) => config.crons.find((cron) => cron.name === name)?.timeoutMs;
  const executions = new ExecutionStore(db, timeoutOf, () => config.crons.map((cron) => cron.name));
  const timeline = await timelineSource(db, executions, log, options.timeline);
  const logs = new LogStore(db);
  const scripts = new ScriptVersionStore(db);
  const scriptVersions = new ScriptVersionRecorder({ folder: dirname(config.path), store: scripts, log });
  const audit = new AuditStore(db);
  const tokens = new TokenStore(db);
  const schedules = new ScheduleStore(db);
  const events = new EventBus();
  // Children report back (start/complete, retention) with CRON_SECRET: generate one if none is set.
  const cronSecret = options.cronSecret || randomBytes(24).toString('base64url');
  let serverUrl = '';

  // A runner id is a lease: held while its instance heartbeats. One held by a live instance on another
  // host is refused (on this host the lock in main.ts already refused it), so only the runs of an expired
  // lease are reconciled below.
  const runners = new RunnerStore(db);
  const holder = await runners.holder(runnerId);
  // This runner was up until its last heartbeat: no tick before it was missed (downtimeTicks.ts).
  const lastUpAt = holder?.lastSeenAt ?? null;
  if (holder && holder.host !== hostname() && holder.seenSecondsAgo < RUNNER_ALIVE_SECONDS) {
    throw new Error(
      `Runner id "${runnerId}" is held by a live instance on ${holder.host} (seen ${Math.round(holder.seenSecondsAgo)} s ago): give this instance another id (--runner-id or CRON_OPS_RUNNER_ID), or stop that one.`,
    );
  }
  const interrupted = await executions.failInterrupted(runnerId);
  // A run whose pid was not written yet (a crash within a turn of its start) is found by its environment.
  const endedByMarker = endOrphansByMarker(interrupted.filter(({ pid }) => pid === null).map(({ execution }) => execution.id));
  for (const { execution, pid } of interrupted) {
    const ended = pid !== null && endOrphan(pid, execution.id);
    const found = endedByMarker.get(execution.id);
    const what = ended ? `, its process group ${pid} ended` : found ? `, its process(es) ${found.join(', ')} ended` : '';
    log.warn(`Execution ${execution.id} of ${execution.cronName} was left running by a previous start: marked failed${what}`);
  }

  const auth = new WarmUpAuthenticator(tokens, options.adminToken, cronSecret);
  const pausedAtStart = await schedules.pausedCrons();
  const service = new CronService(
    config,
    executions,
    schedules,
    {
      runner: (hooks) =>
        new Runner({
          configPath: config.path,
          caps: { maxLines: config.maxLogLinesPerExecution, maxLineBytes: config.maxLogLineBytes, maxBytes: config.maxLogBytesPerExecution },
          killGraceMs: config.killGraceMs,
          baseEnv: () => ({ CRON_SECRET: cronSecret, CRON_TRIGGER_SERVER_URL: serverUrl }),
          logs,
          events,
          log,
          recordPid: (id, pid) => executions.recordPid(id, pid),
          serverSecrets: new Set(config.alerting.secretEnvNames),
          beforeSpawn: (execution, cron) => scriptVersions.beforeSpawn(execution, cron),
          ...hooks,
        }),
      scheduler: (hooks) => new Scheduler(config.crons, pausedAtStart, hooks.onTick, log, hooks.runsHere),
    },
    events,
    log,
    runnerId,
    runners,
  );
  const { runner, scheduler } = service;
  const skipped = new SkippedTickStore(db);
  const insights = new CronInsights(skipped, executions);
  const unwatchForecasts = insights.watch(events, (name) => service.cron(name), log);
  scheduler.onPausedTick((cron, tickAt) => service.recordSkip(cron, tickAt, 'paused'));
  const alerts = createAlertsRuntime({
    db,
    config: config.alerting,
    crons: config.crons,
    timeoutOf,
    runnerId,
    log,
    running: async () => (await executions.running()) as RetriedExecution[],
    isLocalRun: (id) => runner.isLive(id),
    startRetry: (retry, doneWith) => service.startRetry(retry, doneWith),
    paused: () => schedules.pausedCrons(),
    execution: async (id) => (await executions.get(id)) as RetriedExecution | undefined,
  });
  service.setOutcomes(alerts.outcomes);
  service.setSkippedTicks(skipped, async (crons) => alerts.view.crons(await insights.decorate(crons)));
  // Runs a previous start left running were marked failed above: they get their retry and alert now.
  for (const { execution } of interrupted) void alerts.outcomes.ended(execution as RetriedExecution);
  await runners.heartbeat(runnerId, hostname(), version, true);
  const heartbeat = setInterval(() => runners.heartbeat(runnerId, hostname(), version).catch((error) => log.debug('Heartbeat not stored', { error: errorText(error) })), 10_000);
  heartbeat.unref();
  const sse = new SseHub(events, logs, {
    maxStreamsPerOwner: config.maxStreamsPerToken,
    stillAuthorized: async (authorization) => (await auth.identify(authorization, undefined)).ok,
    log,
  });
  await startChangeFeed({
    db,
    executions,
    logs,
    schedules,
    events,
    log,
    isLocalRun: (id) => runner.isLive(id),
    isFollowed: (id) => sse.isFollowed(id),
    endedElsewhere: (execution) => runner.kill(execution.id),
    started: (execution) => void service.adopt(execution).catch((error) => log.warn(`Could not take over ${execution.id}`, { error: errorText(error) })),
    pausedChanged: (paused) => scheduler.syncPaused(paused),
    statsMayHaveChanged: () => void service.publishStats(),
    withRetry: (execution) => (execution.status === 'running' ? alerts.view.execution(execution) : alerts.view.finished(execution)),
  });
  // Health is honest about writes: a store that answers reads but refuses writes (disk full, read-only)
  // is degraded. The probe is the runner's heartbeat (one row), at most once a second however often
  // /health is asked, and never two at once: a store that does not answer (PostgreSQL stopped by a
  // signal, a network partition) gets no pile of probes, and /health reports it after HEALTH_PROBE_DEADLINE_MS
  // instead of waiting for the statement's 30 s timeout (a load balancer's check gives up long before).
  let probe: { at: number; settled: boolean; result: Promise<HealthProbe> } | undefined;
  const writeProbe = (): Promise<HealthProbe> => {
    if (!probe || (probe.settled && Date.now() - probe.at > 1_000)) {
      const started: { at: number; settled: boolean; result: Promise<HealthProbe> } = { at: Date.now(), settled: false, result: Promise.resolve({ ok: true }) };
      started.result = runners
        .heartbeat(runnerId, hostname(), version)
        .then(
          (): HealthProbe => ({ ok: true }),
          (error): HealthProbe => ({ ok: false, reason: `The store refuses writes: ${errorText(error)}` }),
        )
        .finally(() => (started.settled = true));
      probe = started;
    }
    if (probe.settled) return probe.result;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<HealthProbe>((resolveLate) => {
      timer = setTimeout(
        () =>
          resolveLate({
            ok: false,
            reason: `The store did not answer a write within ${HEALTH_PROBE_DEADLINE_MS / 1000} s (${db.kind === 'postgres' ? 'PostgreSQL stopped, overloaded or unreachable' : 'the disk is stalled or the file is locked'}): runs go on, and their ends are written when it answers. Check the database.`,
          }),
        HEALTH_PROBE_DEADLINE_MS,
      );
    });
    return Promise.race([probe.result, late]).finally(() => clearTimeout(timer));
  };
  const definitions = new DefinitionsReloader({
    config,
    apply: (crons) => {
      service.replaceCrons(crons);
      // The next run may be another cron's now.
      void service.publishStats();
    },
    audit,
    events,
    log,
  });
  let bindHost = config.host;
  const startedAt = Date.now();
  const http = await buildHttp(
    {
      service,
      executions,
      skipped,
      timeline,
      logs,
      scripts,
      audit,
      tokens,
      auth,
      sse,
      log,
      version,
      storeKind: db.kind,
      retentionDays: config.retentionDays,
      auditRetentionDays: config.auditRetentionDays,
      allowedHosts: config.allowedHosts,
      bindHost: () => bindHost,
      health: () => writeProbe(),
      definitions: () => definitions.status(),
      startedAt,
      alerts,
    },
    { maxStreamsPerToken: config.maxStreamsPerToken, maxConnections: config.maxConnections },
  );

  const retention = new Scheduler(
    [{ name: 'retention', description: '', schedule: DAILY_RETENTION, scheduleText: '', timezone: 'UTC', command: [], estimatedDurationMs: 0, timeoutMs: 0, enabled: true, params: {}, runOn: [], env: {}, inheritEnv: false, leftovers: 'end' }],
    new Set(),
    async () => {
      const deleted = await executions.applyRetention(config.retentionDays);
      const auditDeleted = await audit.prune(config.auditRetentionDays);
      log.info(`[Retention] Deleted ${deleted} executions older than ${config.retentionDays} days and ${auditDeleted} audit entries older than ${config.auditRetentionDays} days`);
    },
    log,
    () => true,
  );
  const statsTimer = setInterval(() => void service.publishStats(), 60_000);
  statsTimer.unref();

  return {
    http: http.app,
    service,
    tokens,
    runnerId,
    reloadDefinitions: (trigger) => definitions.reload(trigger),
    async listen(port, host) {
      bindHost = host;
      // Start-up, not a request, pays the first-use work of the read paths (http/warmUp.ts).
      if (options.warmUp) await warmUp(http.app, auth, config.crons[0]?.name, log);
      await http.app.listen({ port, host });
      const address = http.app.server.address();
      const actualPort = typeof address === 'object' && address ? address.port : port;
      serverUrl = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
      // After the alerts looked for ticks missed while down (they read the same claims this records).
      await alerts.start();
      // Starts the scheduler from one instant: the ticks up to it are looked at as missed, the ones after it run.
      await recordDowntime({
        crons: config.crons,
        runsHere: (cron) => service.runsHere(cron),
        isPaused: (name) => scheduler.isPaused(name),
        skipped,
        lastRunAt: async (names) => new Map([...(await executions.latestPerCron(names))].map(([name, execution]) => [name, new Date(execution.startedAt)])),
        lastUpAt,
        startScheduler: () => {
          const startAt = Date.now();
          scheduler.start(startAt);
          return new Date(startAt);
        },
        peersAlive: () => runners.othersAlive(runnerId),
        runnerId,
        log,
        catchUp: (cron, missedTick, downtimeAfter) => service.runCatchUp(cron, missedTick, downtimeAfter),
      });
      retention.start();
      if (options.watchDefinitions) definitions.watch();
      void service.publishStats();
      return serverUrl;
    },
    async close() {
      definitions.close();
      // The last heartbeat, then no tick: a restart knows the server was up until here (downtimeTicks.ts).
      await runners.heartbeat(runnerId, hostname(), version).catch((error) => log.debug('Last heartbeat not stored', { error: errorText(error) }));
      scheduler.stop();
      retention.stop();
      unwatchForecasts();
      clearInterval(statsTimer);
      clearInterval(heartbeat);
      sse.close();
      await http.app.close().catch((error) => log.warn('HTTP close', { error: errorText(error) }));
      await http.close().catch((error) => log.warn('Audit of refusals at stop', { error: errorText(error) }));
      await runner.shutdown({ status: 'failed', errorMessage: 'Interrupted: server stopped while the run was in progress' });
      // After the runs ended: their retries and alerts are in the store for the next start.
      await alerts.stop();
      await timeline.close();
      await db.close();
    },
  };
}
