// What the API and the scheduler ask of the backend: start, end and describe executions, pause schedules.
// Outcomes reach the event stream through the store's notifications (changeFeed.ts); the routes only translate to HTTP.
import { randomUUID } from 'node:crypto';
import { CATCH_UP_TRIGGERED_BY, type Cron, type Execution, type ParamValue, type SkipReason, type Stats } from '../shared/api';
import { coalesce } from '../shared/coalesce';
import { paramValueProblem } from '../shared/params';
import type { CronDefinition, ServerConfig } from './config';
import type { BusEvent, EventBus } from './eventBus';
import { catchUpExecutionId } from './downtimeTicks';
import { errorText, type Logger } from './logger';
import { withRetry } from './retry';
import type { Runner } from './runner';
import type { DueTick, Scheduler } from './scheduler';
import { markTick, tickTraceOn } from './tickTrace';
import type { Query } from './store/db';
import type { ExecutionStore, Finish, StartOutcome } from './store/executionStore';
import type { RunnerStore } from './store/runnerStore';
import type { ScheduleStore } from './store/scheduleStore';
import type { SkippedTickStore } from './store/skippedTickStore';
import { endCauseOf, retryNoLongerAllowed, retryReason } from './alerts/retryPolicy';
import type { RetryStart, ScheduledRetry } from './alerts/retryScheduler';
import type { RetriedExecution, RunOutcomes } from './alerts/runOutcomes';

export class BadRequestError extends Error {}

/** The KPIs are read again at most this often under a burst of changes. */
const STATS_MIN_INTERVAL_MS = 1_000;

/** Tries at a catch-up run, each after the run in its way ended: past them the schedule has taken over. */
const CATCH_UP_ATTEMPTS = 5;

export type TriggerOutcome = StartOutcome | { kind: 'noRunner'; runOn: string[] };

export type EndOutcome =
  | { kind: 'ended'; execution: Execution }
  | { kind: 'notFound' }
  | { kind: 'notRunning'; execution: Execution }
  /** An external complete for a run the server started: its end is the server's to record. */
  | { kind: 'notExternal'; execution: Execution };

/** Builders of the parts the service drives, given the hooks through which those parts report back. */
export interface ServiceParts {
  runner(hooks: { finish(id: string, finish: Finish): Promise<unknown>; runEnded(id: string, finish: Finish, droppedLines: number): Promise<void> }): Runner;
  scheduler(hooks: { onTick(cron: CronDefinition, tickAt: Date): Promise<void>; runsHere(cron: CronDefinition): boolean }): Scheduler;
}

export class CronService {
  private readonly byName: Map<string, CronDefinition>;
  private lastStats = '';
  /** When the KPIs were last read (publishStats). */
  private lastStatsAt = 0;
  /** Executions this instance inserted to run itself: the store's notification of them is not a hand-over. */
  private readonly ownIds = new Set<string>();
  /** Retries and alerts after each transition (src/server/alerts), once app.ts has built them. */
  private outcomes: RunOutcomes | undefined;
  private skipped: SkippedTickStore | undefined;
  private decorate: (crons: Cron[]) => Promise<Cron[]> = async (crons) => crons;

  /** The runner and the scheduler are built here, with the hooks they report through: calls go one way. */
  readonly runner: Runner;
  readonly scheduler: Scheduler;

  constructor(
    private readonly config: ServerConfig,
    private readonly executions: ExecutionStore,
    private readonly schedules: ScheduleStore,
    parts: ServiceParts,
    private readonly events: EventBus,
    private readonly log: Logger,
    readonly runnerId: string,
    private readonly runners: RunnerStore,
  ) {
    this.byName = new Map(config.crons.map((cron) => [cron.name, cron]));
    this.runner = parts.runner({ finish: (id, finish) => this.finish(id, finish), runEnded: (id, finish, dropped) => this.runEnded(id, finish, dropped) });
    this.scheduler = parts.scheduler({ onTick: (cron, tickAt) => this.runScheduled(cron, tickAt), runsHere: (cron) => this.runsHere(cron) });
    this.scheduler.onDueTicks((ticks) => this.runScheduledTicks(ticks));
  }

  /**
   * New definitions from a reload of the file: looked up by name and listed from now on, and scheduled.
   * A run in progress keeps the definition it started with (its command, timeout and environment).
   */
  replaceCrons(crons: CronDefinition[]): void {
    this.config.crons = crons;
    this.byName.clear();
    for (const cron of crons) this.byName.set(cron.name, cron);
    this.scheduler.replace(crons);
  }

  setOutcomes(outcomes: RunOutcomes): void {
    this.outcomes = outcomes;
  }

  /** Where ticks that start no run are recorded, and how the crons list is completed (app.ts). */
  setSkippedTicks(skipped: SkippedTickStore, decorate: (crons: Cron[]) => Promise<Cron[]>): void {
    this.skipped = skipped;
    this.decorate = decorate;
  }

  /** Records a tick that started no run; a store failure is logged, never thrown at the scheduler. */
  /** Writes the skipped tick (in `q`, a caller's transaction, when given). */
  private skippedTick(cron: CronDefinition, tickAt: Date, reason: SkipReason, runningExecutionId: string | undefined, q?: Query): Promise<unknown> {
    if (!this.skipped) return Promise.resolve();
    return this.skipped.record({ cronName: cron.name, tickAt, reason, runnerId: this.runnerId, runningExecutionId: runningExecutionId === 'unknown' ? null : runningExecutionId }, q);
  }

  async recordSkip(cron: CronDefinition, tickAt: Date, reason: SkipReason, runningExecutionId?: string): Promise<void> {
    if (!this.skipped) return;
    try {
      await withRetry(() => this.skippedTick(cron, tickAt, reason, runningExecutionId), { what: `Recording the skipped tick of ${cron.name} at ${tickAt.toISOString()}`, log: this.log, maxTotalMs: 30_000 });
    } catch (error) {
      this.log.warn(`The skipped tick of ${cron.name} at ${tickAt.toISOString()} was not recorded`, { error: errorText(error) });
    }
  }

  /**
   * catchUp "last": the one run of a downtime, under the id every instance computes for it
   * (catchUpExecutionId). Found in the store: another instance, or an earlier start, inserted it. A run
   * going (the schedule started one since the start): the catch-up starts once it ends, in the background
   * (the start does not wait on a long run), given up if the server stops first.
   */
  async runCatchUp(cron: CronDefinition, missedTick: Date, downtimeAfter: Date): Promise<void> {
    const id = catchUpExecutionId(cron.name, downtimeAfter);
    const going = await this.tryCatchUp(cron, missedTick, id);
    if (going !== undefined) void this.catchUpAfter(cron, missedTick, id, going);
  }

  /** Inserts the catch-up run; resolves with the run in its way if one is going, else undefined. */
  private async tryCatchUp(cron: CronDefinition, missedTick: Date, id: string): Promise<string | undefined> {
    this.ownIds.add(id);
    const outcome = await this.unconfirmedIfFails(id, () => this.executions.startUnguarded({ id, cronName: cron.name, triggerType: 'scheduled', triggeredBy: CATCH_UP_TRIGGERED_BY, params: this.resolveParams(cron, {}), runnerId: this.runnerId }));
    this.settle(id, outcome, cron);
    if (outcome.kind === 'started') {
      this.log.info(`[Scheduler] Cron ${cron.name} started to catch up the tick of ${missedTick.toISOString()} missed while the server was down`, { executionId: id });
      return undefined;
    }
    const existing = await this.executions.get(id);
    if (existing) {
      this.log.info(`[Scheduler] ${cron.name}: the downtime is already caught up by the run ${id} (runner ${existing.runnerId ?? 'none'})`);
      return undefined;
    }
    this.log.info(`[Scheduler] ${cron.name}: the run ${outcome.kind === 'running' ? outcome.runningExecutionId : outcome.kind} is going; the catch-up starts when it ends`);
    return outcome.kind === 'running' ? outcome.runningExecutionId : 'unknown';
  }

  private async catchUpAfter(cron: CronDefinition, missedTick: Date, id: string, going: string): Promise<void> {
    try {
      for (let attempt = 2; attempt <= CATCH_UP_ATTEMPTS; attempt++) {
        if (!(await this.untilEnded(cron, going)) || !this.scheduler.active) break;
        const next = await this.tryCatchUp(cron, missedTick, id);
        if (next === undefined) return;
        going = next;
      }
      this.log.warn(`[Scheduler] No catch-up run of ${cron.name}: ${this.scheduler.active ? `the run ${going} is still going (runs kept going, or one outlived the cron's timeout)` : 'the server stopped before the run going ended'}`);
    } catch (error) {
      this.log.warn(`[Scheduler] No catch-up run of ${cron.name}`, { error: errorText(error) });
    }
  }

  /**
   * Resolves true once the run `id` of the cron is no longer running (its end event, or a look every 2 s);
   * false when the scheduler stopped first, or past the cron's timeout and kill grace and a minute (a run
   * the server does not own may never end).
   */
  private async untilEnded(cron: CronDefinition, id: string): Promise<boolean> {
    const cronName = cron.name;
    const deadline = Date.now() + cron.timeoutMs + this.config.killGraceMs + 60_000;
    let wake: () => void = () => {};
    const unsubscribe = this.events.subscribe((event) => {
      if (event.name === 'execution.finished' && (event as BusEvent<'execution.finished'>).data.execution.cronName === cronName) wake();
    });
    try {
      while (this.scheduler.active && Date.now() < deadline) {
        if (id === 'unknown') return true;
        const run = await this.executions.get(id);
        if (!run || run.status !== 'running') return true;
        await new Promise<void>((resolveLater) => {
          const timer = setTimeout(resolveLater, 2_000);
          timer.unref();
          wake = () => {
            clearTimeout(timer);
            resolveLater();
          };
        });
      }
      return false;
    } finally {
      unsubscribe();
    }
  }

  get rateLimits(): ServerConfig['rateLimits'] {
    return this.config.rateLimits;
  }

  cron(name: string): CronDefinition | undefined {
    return this.byName.get(name);
  }

  /** Applies defaults and checks values as declared; throws BadRequestError saying which param is wrong. */
  resolveParams(cron: CronDefinition, given: Record<string, unknown> | undefined): Record<string, ParamValue> {
    const params: Record<string, ParamValue> = {};
    for (const name of Object.keys(given ?? {})) {
      if (!(name in cron.params)) {
        const known = Object.keys(cron.params);
        throw new BadRequestError(`Unknown param "${name}" for ${cron.name}: ${known.length ? `it takes ${known.join(', ')}` : 'it takes no params'}`);
      }
    }
    for (const [name, spec] of Object.entries(cron.params)) {
      const value = given?.[name] ?? spec.default;
      if (value === undefined) continue;
      const problem = paramValueProblem(spec, value);
      if (problem) throw new BadRequestError(`Param "${name}" ${problem}`);
      params[name] = value as ParamValue;
    }
    return params;
  }

  runsHere(cron: CronDefinition): boolean {
    return cron.runOn.length === 0 || cron.runOn.includes(this.runnerId);
  }

  /** A manual run: here, or handed to a live runner the cron is pinned to (runOn). */
  async trigger(cron: CronDefinition, params: Record<string, ParamValue>, actor: string): Promise<TriggerOutcome> {
    let runnerId = this.runnerId;
    if (!this.runsHere(cron)) {
      const alive = await this.runners.alive(cron.runOn);
      if (alive.length === 0) return { kind: 'noRunner', runOn: cron.runOn };
      runnerId = alive[Math.floor(Math.random() * alive.length)];
    }
    const id = this.claimId(runnerId);
    const outcome = await this.unconfirmedIfFails(id, () => this.executions.startManual({ id, cronName: cron.name, triggerType: 'manual', triggeredBy: actor, params, runnerId }, this.config.rateLimits));
    this.settle(id, outcome, cron);
    // The manual run is the new attempt: a retry waiting for its time is not needed any more.
    if (outcome.kind === 'started') await this.outcomes?.manualRunStarted(cron.name, id);
    return outcome;
  }

  /**
   * A start whose insert failed without an answer (PostgreSQL stopped past the statement timeout) may still
   * have been committed once the database answered: its id is no longer this process's own, so when the
   * store announces it (the change feed), adopt() runs it like a run handed over, rather than leaving a
   * row "running" that nothing runs (the cron refused as already running until its timeout). Its caller
   * was answered 503; a retry of theirs gets 409 naming this run.
   */
  private async unconfirmedIfFails(id: string, start: () => Promise<StartOutcome>): Promise<StartOutcome> {
    try {
      return await start();
    } catch (error) {
      this.ownIds.delete(id);
      throw error;
    }
  }

  private claimId(runnerId: string): string {
    const id = randomUUID();
    if (runnerId === this.runnerId) this.ownIds.add(id);
    return id;
  }

  /** Launches what was inserted to run here; forgets the id otherwise. */
  private settle(id: string, outcome: StartOutcome, cron: CronDefinition): void {
    if (outcome.kind === 'started' && this.ownIds.has(id)) this.launch(outcome.execution, cron);
    else this.ownIds.delete(id);
  }

  /** The store announced a run assigned to this runner by another instance: run it. */
  async adopt(announced: Execution): Promise<void> {
    if (announced.status !== 'running' || announced.runnerId !== this.runnerId || this.ownIds.has(announced.id)) return;
    // The notification is a snapshot: a quick run of our own may have ended since. Only a live row is adopted.
    const execution = await this.executions.get(announced.id);
    if (!execution || execution.status !== 'running' || this.ownIds.has(execution.id) || this.runner.isLive(execution.id)) return;
    const cron = this.cron(execution.cronName);
    if (!cron) {
      await this.finish(execution.id, { status: 'failed', errorMessage: `Runner ${this.runnerId} has no cron named ${execution.cronName} in its config` });
      return;
    }
    this.ownIds.add(execution.id);
    this.log.info(`Running ${cron.name} handed over by another instance`, { executionId: execution.id });
    this.launch(execution, cron);
  }

  /**
   * The ticks of one instant, as the scheduler hands them over: all recorded in one transaction (each claim,
   * then its run's row), then launched. One commit instead of two per tick, and no launch's work
   * (environment, log capture, the spawn request, log lines) before a later tick's record: with 17 due in the
   * same second, each tick's whole start used to delay every tick after it. Claimed in the order of the
   * crons' names, so that two instances claiming the same instant on PostgreSQL wait for each other rather
   * than deadlock. If the transaction fails, each tick is started on its own, with its retries.
   */
  runScheduledTicks(ticks: DueTick[]): Array<Promise<void>> {
    const batch = ticks.filter((tick) => !this.scheduler.isPaused(tick.cron.name)).sort((a, b) => (a.cron.name < b.cron.name ? -1 : a.cron.name > b.cron.name ? 1 : 0));
    const ids = new Map(batch.map((tick) => [tick, this.claimId(this.runnerId)]));
    let recorded: Promise<Map<DueTick, StartOutcome | 'notClaimed'> | undefined>;
    try {
      const starts = batch.map((tick) => ({
        input: { id: ids.get(tick)!, cronName: tick.cron.name, triggerType: 'scheduled' as const, triggeredBy: 'scheduler', params: this.resolveParams(tick.cron, {}), runnerId: this.runnerId },
        claim: (tx: Query) => this.schedules.claimTick(tick.cron.name, tick.tickAt, this.runnerId, tx),
        skipped: (tx: Query, runningExecutionId: string) => this.skippedTick(tick.cron, tick.tickAt, 'already-running', runningExecutionId, tx),
      }));
      recorded = batch.length === 0 ? Promise.resolve(undefined) : this.executions.startClaimed(starts).then((outcomes) => new Map(batch.map((tick, index) => [tick, outcomes[index]])));
    } catch (error) {
      recorded = Promise.reject(error);
    }
    const settled = recorded.catch((error: unknown) => {
      this.log.warn(`[Scheduler] The ${batch.length} ticks of ${ticks[0].tickAt.toISOString()} could not be recorded together: each is started on its own`, { error: errorText(error) });
      return undefined;
    });
    return ticks.map((tick) => {
      const id = ids.get(tick);
      if (id === undefined) return this.runScheduled(tick.cron, tick.tickAt);
      return settled.then((outcomes) => {
        const outcome = outcomes?.get(tick);
        if (outcome === undefined || outcome === 'notClaimed') {
          this.ownIds.delete(id);
          // Not recorded (the transaction failed): on its own, as a single tick.
          return outcome === undefined ? this.runScheduled(tick.cron, tick.tickAt) : undefined;
        }
        if (tickTraceOn) {
          // Claimed and inserted at the same commit.
          markTick(tick.cron.name, tick.tickAt.getTime(), 'claimed');
          markTick(tick.cron.name, tick.tickAt.getTime(), 'inserted');
        }
        return this.scheduledStarted(tick.cron, tick.tickAt, id, outcome, true);
      });
    });
  }

  /** A scheduler tick on its own: claimed once across instances, skipped (and logged) while a run is still going. */
  async runScheduled(cron: CronDefinition, tickAt: Date): Promise<void> {
    if (this.scheduler.isPaused(cron.name)) return this.recordSkip(cron, tickAt, 'paused');
    const retry = { what: `Scheduled run of ${cron.name} at ${tickAt.toISOString()}`, log: this.log, maxTotalMs: 30_000 };
    if (!(await withRetry(() => this.schedules.claimTick(cron.name, tickAt, this.runnerId), retry))) return;
    if (tickTraceOn) markTick(cron.name, tickAt.getTime(), 'claimed');
    const id = this.claimId(this.runnerId);
    const outcome = await withRetry(
      () => this.executions.startUnguarded({ id, cronName: cron.name, triggerType: 'scheduled', triggeredBy: 'scheduler', params: this.resolveParams(cron, {}), runnerId: this.runnerId }),
      retry,
    );
    if (tickTraceOn) markTick(cron.name, tickAt.getTime(), 'inserted');
    return this.scheduledStarted(cron, tickAt, id, outcome);
  }

  /** A scheduled tick recorded: its run launched, or the skip recorded when the cron was still running. */
  private async scheduledStarted(cron: CronDefinition, tickAt: Date, id: string, outcome: StartOutcome, skipRecorded = false): Promise<void> {
    this.settle(id, outcome, cron);
    if (tickTraceOn) markTick(cron.name, tickAt.getTime(), 'launched');
    if (outcome.kind === 'running') {
      this.log.warn(`[Scheduler] Skipped ${cron.name} at ${tickAt.toISOString()}: the previous run ${outcome.runningExecutionId} is still running`);
      this.outcomes?.missed(cron.name, tickAt, 'stillRunning', { runningExecutionId: outcome.runningExecutionId });
      if (!skipRecorded) return this.recordSkip(cron, tickAt, 'already-running', outcome.runningExecutionId);
    }
    if (outcome.kind === 'started') this.log.info(`[Scheduler] Cron ${cron.name} started`, { executionId: outcome.execution.id });
    if (tickTraceOn) markTick(cron.name, tickAt.getTime(), 'done');
  }

  /**
   * A retry came due (claimed once across instances): run it here, or on a live runner the cron is pinned to.
   * `doneWith` removes the waiting retry in the transaction that inserts its run.
   */
  async startRetry(retry: ScheduledRetry, doneWith?: (tx: Query) => Promise<void>): Promise<RetryStart> {
    const cron = this.cron(retry.cronName);
    if (!cron) return { started: false, reason: 'the cron is no longer in the config' };
    if (this.scheduler.isPaused(cron.name)) return { started: false, reason: 'its schedule is paused' };
    // Disabled by a reload of the definitions: as paused, nothing of the cron runs on its own.
    if (!cron.enabled) return { started: false, reason: 'the cron is disabled ("enabled": false)' };
    // A reload may have removed or lowered the cron's retries while this one waited.
    const outOfPolicy = retryNoLongerAllowed(this.config.alerting.retries.get(cron.name), retry.attempt);
    if (outOfPolicy) return { started: false, reason: outOfPolicy };
    let runnerId = this.runnerId;
    if (!this.runsHere(cron)) {
      const alive = await this.runners.alive(cron.runOn);
      if (alive.length === 0) return { started: false, reason: `no live runner among ${cron.runOn.join(', ')}` };
      runnerId = alive[Math.floor(Math.random() * alive.length)];
    }
    const id = this.claimId(runnerId);
    const outcome = await this.unconfirmedIfFails(id, () => this.executions.startUnguarded({
      id,
      cronName: cron.name,
      triggerType: 'scheduled',
      triggeredBy: 'retry',
      params: retry.params,
      runnerId,
      retry: { attempt: retry.attempt, retryOf: retry.retryOf },
    }, doneWith));
    this.settle(id, outcome, cron);
    if (outcome.kind === 'started') return { started: true, executionId: id };
    return { started: false, reason: outcome.kind === 'running' ? `the cron is running (${outcome.runningExecutionId}): that run takes the retry's place` : outcome.kind };
  }

  /** An external script reports that it started (it runs elsewhere: the server never ends it). */
  async externalStart(cron: CronDefinition, params: Record<string, ParamValue>, actor: string): Promise<StartOutcome> {
    const outcome = await this.executions.startUnguarded({ id: randomUUID(), cronName: cron.name, triggerType: 'external', triggeredBy: actor, params, runnerId: null });
    return outcome;
  }

  private launch(execution: Execution, cron: CronDefinition): void {
    try {
      this.runner.start(execution, cron);
    } catch (error) {
      void this.runEnded(execution.id, { status: 'failed', errorMessage: `Cannot start ${cron.command[0]}: ${errorText(error)}` }, 0);
    }
  }

  /** Writes a terminal status if the run is still running (the first outcome wins) and announces it. */
  async finish(id: string, finish: Finish, droppedLines = 0, byOperator = false): Promise<Execution | undefined> {
    if (droppedLines > 0) await this.executions.recordDroppedLines(id, droppedLines);
    // This instance writes the terminal status, so it alone plans the retry (in the same transaction: the
    // end is never read without it) and the alert.
    const outcomes = this.outcomes;
    let retryStored = false;
    // An end no policy retries (a success, a cancel) is one UPDATE on its own, not a transaction around it:
    // under 50 runs a second the BEGIN and COMMIT were two of the run's seven statements.
    const cause = endCauseOf({ status: finish.status, errorMessage: finish.errorMessage ?? null, byOperator });
    const mayRetry = cause !== undefined && retryReason(cause) !== undefined;
    const execution = await this.executions.finish(id, finish, outcomes && mayRetry ? async (tx, ended) => {
      retryStored = await outcomes.retryOnEnd(tx, ended as RetriedExecution, byOperator);
    } : undefined);
    if (execution) {
      if (droppedLines > 0) execution.logLinesDropped = droppedLines;
      this.log.info(`Cron ${execution.cronName} ${execution.status}`, { executionId: id, durationMs: execution.durationMs, error: execution.errorMessage ?? undefined });
      void outcomes?.ended(execution as RetriedExecution, byOperator, retryStored);
    }
    return execution;
  }

  /** The runner's report that a process ended: recorded even if the store is down for a while. */
  async runEnded(id: string, finish: Finish, droppedLines: number): Promise<void> {
    try {
      await withRetry(() => this.finish(id, finish, droppedLines), { what: `Recording the end of ${id}`, log: this.log });
    } finally {
      this.ownIds.delete(id);
    }
  }

  /** Cancel (status cancelled) or mark failed: written first, then the process, if ours and alive, is ended. */
  async end(id: string, finish: Finish): Promise<EndOutcome> {
    const current = await this.executions.get(id);
    if (!current) return { kind: 'notFound' };
    if (current.status !== 'running') return { kind: 'notRunning', execution: current };
    const ended = await this.finish(id, finish, 0, true);
    if (!ended) return { kind: 'notRunning', execution: (await this.executions.get(id))! };
    this.runner.kill(id);
    return { kind: 'ended', execution: ended };
  }

  async externalComplete(id: string, finish: Finish): Promise<EndOutcome> {
    const current = await this.executions.get(id);
    if (!current) return { kind: 'notFound' };
    if (current.status === 'running' && current.triggerType !== 'external') return { kind: 'notExternal', execution: current };
    const ended = current.status === 'running' ? await this.finish(id, finish) : undefined;
    return ended ? { kind: 'ended', execution: ended } : { kind: 'notRunning', execution: (await this.executions.get(id))! };
  }

  async setPaused(cron: CronDefinition, paused: boolean, actor: string): Promise<Cron> {
    await this.schedules.setPaused(cron.name, paused, actor);
    // The change feed tells every instance, this one included; this one also applies it right away.
    this.scheduler.setPaused(cron.name, paused);
    return (await this.crons()).find((candidate) => candidate.name === cron.name)!;
  }

  async crons(): Promise<Cron[]> {
    const [latest, availableAt] = await Promise.all([this.executions.latestPerCron(), this.manualTriggerAvailability()]);
    return this.decorate(this.config.crons.map((cron) => {
      const last = latest.get(cron.name) ?? null;
      const next = this.scheduler.nextRun(cron);
      return {
        name: cron.name,
        description: cron.description,
        schedule: cron.schedule,
        scheduleText: cron.scheduleText,
        timezone: cron.timezone,
        command: cron.command,
        estimatedDurationMs: cron.estimatedDurationMs,
        timeoutMs: cron.timeoutMs,
        enabled: cron.enabled,
        paused: this.scheduler.isPaused(cron.name),
        params: cron.params,
        nextRunAt: next ? next.toISOString() : null,
        lastExecution: last,
        runningExecution: last?.status === 'running' ? last : null,
        manualTriggerAvailableAt: availableAt(cron.name),
        catchUp: cron.catchUp ?? 'none',
      };
    }));
  }

  /**
   * When the manual rate limits (per cron, and global per minute) will next accept a trigger of each
   * cron, from the manual runs started recently: null when one would be accepted now. The store's
   * transaction still decides; this lets a client say so before asking for a confirmation.
   */
  private async manualTriggerAvailability(): Promise<(cronName: string) => string | null> {
    const { perCronSeconds, globalPerMinute } = this.config.rateLimits;
    const windowS = Math.max(perCronSeconds, globalPerMinute > 0 ? 60 : 0);
    if (windowS === 0) return () => null;
    const now = Date.now();
    const { executions } = await this.executions.list({ since: new Date(now - windowS * 1000).toISOString(), limit: 1000 });
    const manual = executions.filter((execution) => execution.triggerType === 'manual').map((execution) => ({ cronName: execution.cronName, at: Date.parse(execution.startedAt) }));
    // Newest first: the globalPerMinute-th newest start in the last minute frees a slot 60 s after it.
    const lastMinute = manual.filter((start) => start.at > now - 60_000);
    const globalAt = globalPerMinute > 0 && lastMinute.length >= globalPerMinute ? lastMinute[globalPerMinute - 1].at + 60_000 : 0;
    return (cronName) => {
      const last = manual.find((start) => start.cronName === cronName);
      const cronAt = perCronSeconds > 0 && last ? last.at + perCronSeconds * 1000 : 0;
      const at = Math.max(cronAt, globalAt);
      return at > now ? new Date(at).toISOString() : null;
    };
  }

  async stats(): Promise<Stats> {
    const counts = await this.executions.counts24h();
    const next = this.scheduler.nextExecution();
    return { ...counts, nextExecution: next ? { cronName: next.cronName, at: next.at.toISOString() } : null };
  }

  /**
   * Announces the KPIs when they changed; a burst of changes makes one computation and one more after it,
   * at most one a second (each is a roll-up read: under 50 runs a second, reading them after every change
   * was the store's largest cost).
   */
  readonly publishStats: () => Promise<void> = coalesce(async () => {
    const waitMs = this.lastStatsAt + STATS_MIN_INTERVAL_MS - Date.now();
    if (waitMs > 0) {
      await new Promise<void>((resolveLater) => setTimeout(resolveLater, waitMs).unref());
      // Stopped meanwhile (the store may be closed by now). Before the start nothing is lost: the start
      // announces the KPIs once the scheduler runs.
      if (!this.scheduler.active) return;
    }
    this.lastStatsAt = Date.now();
    await this.computeAndPublishStats();
  });

  private async computeAndPublishStats(): Promise<void> {
    try {
      const stats = await this.stats();
      const key = JSON.stringify(stats);
      if (key === this.lastStats) return;
      this.lastStats = key;
      this.events.publish('stats', stats);
    } catch (error) {
      this.log.warn('Could not compute the KPIs', { error: errorText(error) });
    }
  }
}
