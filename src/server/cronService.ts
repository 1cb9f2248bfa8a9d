// What the API and the scheduler ask of the backend: start, end and describe executions, pause schedules.
// Every outcome is announced on the event bus; the routes only translate to HTTP.
import type { Cron, Execution, ParamValue, Stats } from '../shared/api';
import { paramValueProblem, type CronDefinition, type ServerConfig } from './config';
import type { EventBus } from './eventBus';
import { errorText, type Logger } from './logger';
import type { Runner } from './runner';
import type { Scheduler } from './scheduler';
import type { ExecutionStore, Finish, StartOutcome } from './store/executionStore';
import type { ScheduleStore } from './store/scheduleStore';

export class BadRequestError extends Error {}

export type EndOutcome =
  | { kind: 'ended'; execution: Execution }
  | { kind: 'notFound' }
  | { kind: 'notRunning'; execution: Execution };

export class CronService {
  private readonly byName: Map<string, CronDefinition>;
  private lastStats = '';

  constructor(
    private readonly config: ServerConfig,
    private readonly executions: ExecutionStore,
    private readonly schedules: ScheduleStore,
    private readonly runner: Runner,
    private readonly scheduler: Scheduler,
    private readonly events: EventBus,
    private readonly log: Logger,
    readonly runnerId: string,
  ) {
    this.byName = new Map(config.crons.map((cron) => [cron.name, cron]));
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

  async trigger(cron: CronDefinition, params: Record<string, ParamValue>, actor: string): Promise<StartOutcome> {
    const outcome = await this.executions.startManual(
      { cronName: cron.name, triggerType: 'manual', triggeredBy: actor, params, runnerId: this.runnerId },
      this.config.rateLimits,
    );
    if (outcome.kind === 'started') this.launch(outcome.execution, cron);
    return outcome;
  }

  /** A scheduler tick: claimed once across instances, skipped (and logged) while a run is still going. */
  async runScheduled(cron: CronDefinition, tickAt: Date): Promise<void> {
    if (this.scheduler.isPaused(cron.name)) return;
    if (!(await this.schedules.claimTick(cron.name, tickAt, this.runnerId))) return;
    const outcome = await this.executions.startUnguarded({ cronName: cron.name, triggerType: 'scheduled', triggeredBy: 'scheduler', params: this.resolveParams(cron, {}), runnerId: this.runnerId });
    if (outcome.kind === 'running') {
      this.log.warn(`[Scheduler] Skipped ${cron.name} at ${tickAt.toISOString()}: the previous run ${outcome.runningExecutionId} is still running`);
      return;
    }
    if (outcome.kind === 'started') {
      this.log.info(`[Scheduler] Cron ${cron.name} started`, { executionId: outcome.execution.id });
      this.launch(outcome.execution, cron);
    }
  }

  /** An external script reports that it started (it runs elsewhere: the server never ends it). */
  async externalStart(cron: CronDefinition, params: Record<string, ParamValue>, actor: string): Promise<StartOutcome> {
    const outcome = await this.executions.startUnguarded({ cronName: cron.name, triggerType: 'external', triggeredBy: actor, params, runnerId: null });
    return outcome;
  }

  private launch(execution: Execution, cron: CronDefinition): void {
    try {
      this.runner.start(execution, cron);
    } catch (error) {
      void this.finish(execution.id, { status: 'failed', errorMessage: `Cannot start ${cron.command[0]}: ${errorText(error)}` });
    }
  }

  /** Writes a terminal status if the run is still running (the first outcome wins) and announces it. */
  async finish(id: string, finish: Finish, droppedLines = 0): Promise<Execution | undefined> {
    if (droppedLines > 0) await this.executions.recordDroppedLines(id, droppedLines);
    const execution = await this.executions.finish(id, finish);
    if (execution) {
      if (droppedLines > 0) execution.logLinesDropped = droppedLines;
      this.log.info(`Cron ${execution.cronName} ${execution.status}`, { executionId: id, durationMs: execution.durationMs, error: execution.errorMessage ?? undefined });
    }
    return execution;
  }

  /** Cancel (status cancelled) or mark failed: written first, then the process, if ours and alive, is ended. */
  async end(id: string, finish: Finish): Promise<EndOutcome> {
    const current = await this.executions.get(id);
    if (!current) return { kind: 'notFound' };
    if (current.status !== 'running') return { kind: 'notRunning', execution: current };
    const ended = await this.finish(id, finish);
    if (!ended) return { kind: 'notRunning', execution: (await this.executions.get(id))! };
    this.runner.kill(id);
    return { kind: 'ended', execution: ended };
  }

  async externalComplete(id: string, finish: Finish): Promise<EndOutcome> {
    const current = await this.executions.get(id);
    if (!current) return { kind: 'notFound' };
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
    const latest = await this.executions.latestPerCron();
    return this.config.crons.map((cron) => {
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
      };
    });
  }

  async stats(): Promise<Stats> {
    const counts = await this.executions.counts24h();
    const next = this.scheduler.nextExecution();
    return { ...counts, nextExecution: next ? { cronName: next.cronName, at: next.at.toISOString() } : null };
  }

  /** Announces the KPIs when they changed. */
  async publishStats(): Promise<void> {
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
