// A cron's history in the Crons view: its recent runs and, between them, the ticks that started no run
// (already running, paused, server down), newest first. Pure, so the order and the window are unit-tested.
import type { Execution, SkippedTick, SkipReason } from '../shared/api';
import { ENGLISH_STRINGS } from '../shared/dashboardStrings';

export type HistoryRow = { kind: 'run'; execution: Execution; at: number } | { kind: 'skip'; tick: SkippedTick; at: number };

/**
 * The runs (newest first, at most `limit`) and the skipped ticks among them. When the runs fill the limit,
 * older skips are left out: they belong to runs the view does not show, so the rows read as one window.
 */
export function historyRows(executions: readonly Execution[], skipped: readonly SkippedTick[], limit: number): HistoryRow[] {
  const runs = executions.slice(0, limit).map((execution): HistoryRow => ({ kind: 'run', execution, at: Date.parse(execution.startedAt) }));
  const oldestShown = runs.length >= limit ? runs[runs.length - 1].at : -Infinity;
  const skips = skipped
    .map((tick): HistoryRow => ({ kind: 'skip', tick, at: Date.parse(tick.tickAt) }))
    .filter((row) => row.at >= oldestShown)
    .sort((a, b) => b.at - a.at)
    .slice(0, limit);
  return [...runs, ...skips].sort((a, b) => b.at - a.at);
}

/** Why a tick started no run, in the words the dashboard's timeline uses (so both are translated once). */
export function skipReasonText(reason: SkipReason): string {
  switch (reason) {
    case 'already-running':
      return ENGLISH_STRINGS.skipReasonAlreadyRunning;
    case 'paused':
      return ENGLISH_STRINGS.skipReasonPaused;
    case 'server-down':
      return ENGLISH_STRINGS.skipReasonServerDown;
  }
}
