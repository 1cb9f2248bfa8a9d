// Turns the store's notifications into events: starts and status changes made by any instance, or by
// hand in SQL, reach every instance's event stream, and a run ended elsewhere is stopped here. The store
// delivers them (db.listen): PostgreSQL by LISTEN/NOTIFY across instances; SQLite from the change table
// its triggers fill, read after this process's writes and when another process (the sqlite3 shell)
// changed the file.
import type { Execution } from '../shared/api';
import type { EventBus } from './eventBus';
import { errorText, type Logger } from './logger';
import type { Db } from './store/db';
import type { ExecutionStore } from './store/executionStore';
import type { LogStore } from './store/logStore';
import type { ScheduleStore } from './store/scheduleStore';

export const CHANNELS = { executions: 'cron_ops_executions', crons: 'cron_ops_crons', logs: 'cron_ops_logs' } as const;

export interface ChangeFeedDeps {
  db: Db;
  executions: ExecutionStore;
  logs: LogStore;
  schedules: ScheduleStore;
  events: EventBus;
  log: Logger;
  /** Our own runs publish their log lines directly. */
  isLocalRun(executionId: string): boolean;
  isFollowed(executionId: string): boolean;
  endedElsewhere(execution: Execution): void;
  /** A run started (here, elsewhere, or handed to this runner). */
  started(execution: Execution): void;
  pausedChanged(paused: Set<string>): void;
  statsMayHaveChanged(): void;
  /** Sets an ended run's `retry` (the attempt waiting to follow it), read after the end and its retry were written. */
  withRetry(execution: Execution): Promise<Execution>;
}

export async function startChangeFeed(deps: ChangeFeedDeps): Promise<void> {
  const { events, log } = deps;
  const logSeqs = new Map<string, number>();
  // Notifications are handled one after another so events keep the store's order.
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (work: () => Promise<void>) => {
    queue = queue.then(work).catch((error) => log.warn('Could not turn a store notification into an event', { error: errorText(error) }));
  };

  const onExecution = async (payload: string) => {
    const message = JSON.parse(payload) as { op: 'INSERT' | 'UPDATE'; row?: Parameters<ExecutionStore['toExecution']>[0]; id?: string };
    const read = message.row ? deps.executions.toExecution(message.row) : await deps.executions.get(message.id!);
    if (!read) return;
    // Without it the event still goes out: a missing `retry` is better than a missing end.
    const execution = await deps.withRetry(read).catch((error: unknown) => {
      log.warn(`Could not read the retry waiting after ${read.id}`, { error: errorText(error) });
      return read;
    });
    if (message.op === 'INSERT') {
      events.publish('execution.started', { execution });
      deps.started(execution);
    } else if (execution.status !== 'running') {
      events.publish('execution.finished', { execution });
      deps.endedElsewhere(execution);
      logSeqs.delete(execution.id);
    }
    deps.statsMayHaveChanged();
  };

  const onLogs = async (payload: string) => {
    const { executionId } = JSON.parse(payload) as { executionId: string };
    if (deps.isLocalRun(executionId) || !deps.isFollowed(executionId)) return;
    const lines = await deps.logs.after(executionId, logSeqs.get(executionId) ?? 0, 5000);
    if (lines.length === 0) return;
    logSeqs.set(executionId, lines[lines.length - 1].seq);
    events.publishLog({ executionId, lines });
  };

  const onCrons = async (payload: string) => {
    const { cronNames } = JSON.parse(payload) as { cronNames: string[] };
    deps.pausedChanged(await deps.schedules.pausedCrons());
    events.publish('crons.changed', { cronNames });
    deps.statsMayHaveChanged();
  };

  await deps.db.listen(
    Object.values(CHANNELS),
    (channel, payload) =>
      enqueue(() => (channel === CHANNELS.executions ? onExecution(payload) : channel === CHANNELS.logs ? onLogs(payload) : onCrons(payload))),
    () =>
      enqueue(async () => {
        deps.pausedChanged(await deps.schedules.pausedCrons());
        events.publish('resync', { reason: 'The server lost its store connection for a while: reload the crons and the KPIs.' });
        deps.statsMayHaveChanged();
      }),
  );
}
