// What the crons list adds from the history: each cron's skipped ticks of the last 24 hours and whether its
// runs will overlap its schedule (overlapForecast.ts, from the p95 of its newest finished runs). A forecast
// is kept until the cron's latest run changes or a minute passes (its next ticks move on).
import type { Cron, OverlapForecast } from '../shared/api';
import { forecastOverlap } from './overlapForecast';
import type { ExecutionStore } from './store/executionStore';
import type { SkippedTickStore } from './store/skippedTickStore';

/** Finished runs the p95 is taken from, at most (the newest; the CodeLens shows the p95 of as many). */
export const FORECAST_SAMPLE_LIMIT = 50;
const FORECAST_TTL_MS = 60_000;

export class CronInsights {
  private readonly forecasts = new Map<string, { key: string; at: number; forecast: Promise<OverlapForecast> }>();

  constructor(
    private readonly skipped: SkippedTickStore,
    private readonly executions: ExecutionStore,
    private readonly now: () => number = Date.now,
  ) {}

  async decorate(crons: Cron[]): Promise<Cron[]> {
    const now = this.now();
    const [counts, forecasts] = await Promise.all([this.skipped.countsSince(now - 86_400_000), Promise.all(crons.map((cron) => this.forecast(cron, now)))]);
    return crons.map((cron, index) => ({ ...cron, skippedTicks24h: counts.get(cron.name) ?? 0, overlap: forecasts[index] }));
  }

  private forecast(cron: Cron, now: number): Promise<OverlapForecast> {
    const last = cron.lastExecution;
    const key = `${cron.schedule}|${cron.timezone}|${last ? `${last.id}:${last.status}` : ''}`;
    const known = this.forecasts.get(cron.name);
    if (known && known.key === key && now - known.at < FORECAST_TTL_MS) return known.forecast;
    const forecast = this.executions.list({ cronName: cron.name, limit: FORECAST_SAMPLE_LIMIT }).then(({ executions }) =>
      forecastOverlap({
        schedule: cron.schedule,
        timezone: cron.timezone,
        durationsMs: executions.filter((execution) => execution.status !== 'running' && execution.durationMs !== null).map((execution) => execution.durationMs as number),
        from: new Date(now),
      }),
    );
    this.forecasts.set(cron.name, { key, at: now, forecast });
    // A failed read is not kept: the next list asks again.
    forecast.catch(() => this.forecasts.get(cron.name)?.forecast === forecast && this.forecasts.delete(cron.name));
    return forecast;
  }
}
