// What the crons list adds from the history: each cron's skipped ticks of the last 24 hours and whether its
// runs will overlap its schedule (overlapForecast.ts, from the p95 of its newest finished runs). A forecast
// is kept until the cron's latest run changes or a minute passes (its next ticks move on). When a finished
// run changes what a client was shown (ok becomes overlap, or the message), `crons.changed` tells it.
import type { Cron, OverlapForecast } from '../shared/api';
import type { ExecutionFinishedEvent } from '../shared/events';
import type { CronDefinition } from './config';
import type { EventBus } from './eventBus';
import { errorText, type Logger } from './logger';
import { enoughForForecast, forecastOverlap, TickWindow } from './overlapForecast';
import type { ExecutionStore } from './store/executionStore';
import type { SkippedTickStore } from './store/skippedTickStore';

/** Finished runs the p95 is taken from, at most (the newest; the CodeLens shows the p95 of as many). */
export const FORECAST_SAMPLE_LIMIT = 50;
/** Next ticks a forecast looks at: enough to meet the irregular gaps of a daily or weekly pattern. */
export const FORECAST_TICKS = 30;
const FORECAST_TTL_MS = 60_000;
/** A cron's forecast is read again after its runs end at most this often (a client hears of a change within it). */
const REFRESH_MIN_INTERVAL_MS = 5_000;
/** Crons forecast at once in a crons list: their reads overlap, their CPU is served in slices. */
const FORECAST_CONCURRENCY = 8;
/** CPU a crons list spends at most before it lets requests in (/health, other lists). */
const SLICE_MS = 10;
/** Schedules whose ticks are kept at most (one per distinct schedule and time zone, in practice few). */
const MAX_TICK_WINDOWS = 10_000;

type ScheduleOf = Pick<Cron, 'name' | 'schedule' | 'timezone' | 'enabled'>;

export class CronInsights {
  private readonly forecasts = new Map<string, { key: string; at: number; forecast: Promise<OverlapForecast> }>();
  /** What the last crons list said of each cron's forecast. */
  private readonly shown = new Map<string, string>();
  /** Each (schedule, time zone)'s next ticks, extended as time passes rather than computed again. */
  private readonly ticks = new Map<string, TickWindow>();
  /** The latest instant each window was filled from. */
  private readonly tickOrigins = new Map<string, number>();
  private sliceStart = performance.now();
  /** The turn of the loop the forecasts past their slice wait for. */
  private nextSlice: Promise<void> | undefined;

  constructor(
    private readonly skipped: SkippedTickStore,
    private readonly executions: ExecutionStore,
    private readonly now: () => number = Date.now,
  ) {}

  async decorate(crons: Cron[]): Promise<Cron[]> {
    const now = this.now();
    const [counts, forecasts] = await Promise.all([this.skipped.countsSince(now - 86_400_000), this.forecastAll(crons, now)]);
    return crons.map((cron, index) => {
      this.shown.set(cron.name, shownKey(forecasts[index]));
      return { ...cron, skippedTicks24h: counts.get(cron.name) ?? 0, overlap: forecasts[index] };
    });
  }

  /** Tells clients (crons.changed) when a run that ended moves its cron's forecast from what they were shown. */
  watch(events: EventBus, cronOf: (name: string) => CronDefinition | undefined, log: Logger): () => void {
    // Each refresh reads the cron's newest runs: a cron ending runs back to back (manual triggers in a
    // loop) is looked at again at most once a REFRESH_MIN_INTERVAL_MS, its latest run then.
    const lastRefreshAt = new Map<string, number>();
    const waiting = new Map<string, { lastRun: string; timer: NodeJS.Timeout }>();
    const refresh = (cronName: string, lastRun: string) => {
      const cron = cronOf(cronName);
      if (!cron || this.shown.get(cronName) === undefined) return;
      lastRefreshAt.set(cronName, Date.now());
      this.forecast(cron, lastRun, this.now()).then(
        (forecast) => {
          if (shownKey(forecast) !== this.shown.get(cron.name)) events.publish('crons.changed', { cronNames: [cron.name] });
        },
        (error) => log.debug(`Could not update the overlap forecast of ${cron.name}`, { error: errorText(error) }),
      );
    };
    const unsubscribe = events.subscribe((event) => {
      if (event.name !== 'execution.finished') return;
      const { execution } = event.data as ExecutionFinishedEvent;
      const { cronName } = execution;
      if (!cronOf(cronName) || this.shown.get(cronName) === undefined || execution.status === 'running') return;
      const lastRun = `${execution.id}:${execution.status}`;
      const known = waiting.get(cronName);
      if (known) {
        known.lastRun = lastRun;
        return;
      }
      const waitMs = (lastRefreshAt.get(cronName) ?? -Infinity) + REFRESH_MIN_INTERVAL_MS - Date.now();
      if (waitMs <= 0) return refresh(cronName, lastRun);
      const timer = setTimeout(() => {
        const latest = waiting.get(cronName);
        waiting.delete(cronName);
        if (latest) refresh(cronName, latest.lastRun);
      }, waitMs);
      timer.unref();
      waiting.set(cronName, { lastRun, timer });
    });
    return () => {
      unsubscribe();
      for (const { timer } of waiting.values()) clearTimeout(timer);
      waiting.clear();
    };
  }

  /**
   * Every cron's forecast, a few at a time, letting other requests in every SLICE_MS of CPU: a list of
   * thousands of crons never holds the server (its /health) for longer than a slice.
   */
  private async forecastAll(crons: Cron[], now: number): Promise<OverlapForecast[]> {
    const forecasts: OverlapForecast[] = new Array<OverlapForecast>(crons.length);
    let next = 0;
    const worker = async () => {
      while (next < crons.length) {
        const index = next++;
        const cron = crons[index];
        await this.yieldIfLong();
        forecasts[index] = await this.forecast(cron, `${cron.lastExecution?.id ?? ''}:${cron.lastExecution?.status ?? ''}`, now);
      }
    };
    await Promise.all(Array.from({ length: Math.min(FORECAST_CONCURRENCY, crons.length) }, worker));
    return forecasts;
  }

  /**
   * Waits for a turn of the loop once the slice is spent. The forecasts waiting share one wake-up and
   * check the clock again as each resumes: eight `setImmediate`s would run in the same phase of the loop,
   * each starting a slice of its own, and hold it for eight slices (37 ms of CPU in a first list at 1M runs).
   */
  private async yieldIfLong(): Promise<void> {
    while (performance.now() - this.sliceStart >= SLICE_MS) {
      this.nextSlice ??= new Promise((resolveLater) =>
        setImmediate(() => {
          this.nextSlice = undefined;
          this.sliceStart = performance.now();
          resolveLater();
        }),
      );
      await this.nextSlice;
    }
  }

  private forecast(cron: ScheduleOf, lastRun: string, now: number): Promise<OverlapForecast> {
    // A disabled cron will not run: nothing to forecast, nothing read.
    if (!cron.enabled) return Promise.resolve(UNKNOWN);
    const key = `${cron.schedule}|${cron.timezone}|${lastRun}`;
    const known = this.forecasts.get(cron.name);
    if (known && known.key === key && now - known.at < FORECAST_TTL_MS) return known.forecast;
    const forecast = this.executions.list({ cronName: cron.name, limit: FORECAST_SAMPLE_LIMIT }).then(async ({ executions }) => {
      const durationsMs = executions.filter((execution) => execution.status !== 'running' && execution.durationMs !== null).map((execution) => execution.durationMs as number);
      // Too few runs: no tick is computed (forecastOverlap answers "unknown" without asking).
      const ticks = enoughForForecast(durationsMs) ? await this.nextTicksOf(cron, now) : null;
      return forecastOverlap({ schedule: cron.schedule, timezone: cron.timezone, durationsMs, nextTicks: () => ticks });
    });
    this.forecasts.set(cron.name, { key, at: now, forecast });
    // A failed read is not kept: the next list asks again.
    forecast.catch(() => this.forecasts.get(cron.name)?.forecast === forecast && this.forecasts.delete(cron.name));
    return forecast;
  }

  /**
   * The schedule's next ticks, asked of croner in the crons list's CPU slices: in a time zone a tick costs
   * it 1–2 ms, and the first list after a start needs ~30 per schedule (a 600 ms block at load 9 before).
   */
  private async nextTicksOf(cron: ScheduleOf, now: number): Promise<Date[] | null> {
    const key = `${cron.schedule}|${cron.timezone}`;
    let window = this.ticks.get(key);
    if (!window) {
      if (this.ticks.size >= MAX_TICK_WINDOWS) {
        this.ticks.clear();
        this.tickOrigins.clear();
      }
      window = new TickWindow(cron.schedule, cron.timezone);
      this.ticks.set(key, window);
    }
    // Never behind another list filling the same window (it would start it over, and both would never end).
    const from = new Date(Math.max(now, this.tickOrigins.get(key) ?? 0));
    this.tickOrigins.set(key, from.getTime());
    for (;;) {
      await this.yieldIfLong();
      if (window.fill(from, FORECAST_TICKS, undefined, Math.max(1, SLICE_MS - (performance.now() - this.sliceStart)))) return window.from(from, FORECAST_TICKS);
    }
  }
}

const UNKNOWN: OverlapForecast = { status: 'unknown', p95Ms: null, samples: 0, shortestIntervalMs: null, shortestIntervalAt: null, regular: false, ticksConsidered: 0, ticksSkipped: 0, message: null };

/** What a client shows of a forecast: a change of it is worth telling. */
function shownKey(forecast: OverlapForecast): string {
  return `${forecast.status}|${forecast.message ?? ''}`;
}
