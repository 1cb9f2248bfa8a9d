// Alerting and retries wired to the store and the running server: what app.ts starts and stops.
import type { CronDefinition } from '../config';
import { errorText, type Logger } from '../logger';
import type { Db, Query } from '../store/db';
import type { AlertConfig } from './alertConfig';
import { Alerting } from './alerting';
import { announceCronsChanged, attemptId, attemptStartedAt, chainAttemptStartedAt, endedRunsBefore, lastClaimedTicks, StoreDeliveryStorage, StoreRetryStorage } from './alertStore';
import { RetryScheduler, type RetryStart, type ScheduledRetry } from './retryScheduler';
import { RetryView } from './retryView';
import { RunOutcomes, type RetriedExecution } from './runOutcomes';
import { missedWhileDown, stuckToAnnounce } from './watches';

export interface AlertsRuntimeDeps {
  db: Db;
  config: AlertConfig;
  /** The crons at start (for the ticks missed while no server ran). */
  crons: CronDefinition[];
  /** A cron's timeout in the definitions in effect (a reload may have changed it since start). */
  timeoutOf(cronName: string): number | undefined;
  runnerId: string;
  log: Logger;
  /** The running executions (for stuck runs). */
  running(): Promise<RetriedExecution[]>;
  /** A run this process owns and will end at its timeout. */
  isLocalRun(id: string): boolean;
  /** Starts a retry's run (CronService.startRetry). */
  startRetry(retry: ScheduledRetry, doneWith: (tx: Query) => Promise<void>): Promise<RetryStart>;
  paused(): Promise<Set<string>>;
  /** An execution as stored (the failed attempt of a retry that was dropped). */
  execution(id: string): Promise<RetriedExecution | undefined>;
  pollMs?: number;
  stuckCheckMs?: number;
}

export interface AlertsRuntime {
  outcomes: RunOutcomes;
  /** Absent when the config declares no destinations. */
  alerting: Alerting | undefined;
  retries: RetryScheduler;
  /** Waiting retries as replies and events show them (an execution's `retry`, a cron's `pendingRetry`). */
  view: RetryView;
  /** Starts sending, retrying and watching; announces the ticks missed while no server ran. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createAlertsRuntime(deps: AlertsRuntimeDeps): AlertsRuntime {
  const { db, config, log } = deps;
  const alerting = config.alerts.destinations.length > 0
    ? new Alerting({ settings: config.alerts, storage: new StoreDeliveryStorage(db), runnerId: deps.runnerId, log, pollMs: deps.pollMs })
    : undefined;
  const retries = new RetryScheduler({
    storage: new StoreRetryStorage(db),
    start: (retry, doneWith) => deps.startRetry(retry, doneWith),
    attemptStartedAt: (retryOf, attempt) => chainAttemptStartedAt(db, retryOf, attempt),
    // `outcomes` is built next; a retry is dropped only once the scheduler runs (start()).
    dropped: (retry, reason) => outcomes.retryDropped(retry, reason),
    announce: (cronNames) => announceCronsChanged(db, cronNames),
    log,
    pollMs: deps.pollMs,
    // One instance per SQLite file; on PostgreSQL other instances add retries too.
    soleWriter: db.kind === 'sqlite',
  });
  const outcomes: RunOutcomes = new RunOutcomes({
    retries: config.retries,
    scheduler: retries,
    alerting,
    history: (cronName, before, limit) => endedRunsBefore(db, cronName, before, limit),
    attempt: async (retryOf, attempt) => {
      const id = await attemptId(db, retryOf, attempt);
      return id === undefined ? undefined : deps.execution(id);
    },
    log,
  });
  const view = new RetryView({ scheduler: retries, policies: config.retries, attemptStartedAt: (retryOf, attempt) => attemptStartedAt(db, retryOf, attempt) });
  let stuckTimer: NodeJS.Timeout | undefined;

  const checkStuck = async () => {
    try {
      for (const execution of stuckToAnnounce(await deps.running(), deps.isLocalRun)) {
        outcomes.stuck(execution, deps.timeoutOf(execution.cronName) ?? 0);
      }
    } catch (error) {
      log.warn('[Alerts] Could not look for stuck runs', { error: errorText(error) });
    }
  };

  return {
    outcomes,
    alerting,
    retries,
    view,
    async start() {
      retries.start();
      if (!alerting) return;
      alerting.start();
      try {
        const missed = missedWhileDown(deps.crons, await lastClaimedTicks(db), await deps.paused(), new Date());
        for (const { cronName, missed: ticks } of missed) outcomes.missed(cronName, ticks.first, 'serverDown', { laterTicks: ticks.later });
      } catch (error) {
        log.warn('[Alerts] Could not look for ticks missed while the server was down', { error: errorText(error) });
      }
      stuckTimer = setInterval(() => void checkStuck(), deps.stuckCheckMs ?? 15_000);
      stuckTimer.unref();
    },
    async stop() {
      if (stuckTimer) clearInterval(stuckTimer);
      await outcomes.idle();
      await Promise.all([retries.stop(), alerting?.stop()]);
    },
  };
}
