// The timeline's reads off the server's main thread: a worker_threads worker with its own connection to
// the store. On a SQLite file, read-only (WAL lets it read beside the server's one writer connection):
// better-sqlite3 is synchronous, and here a long statement blocks only this thread, never the server's
// event loop. On PostgreSQL the statements run in the database, but taking in their rows (the driver
// parses every row and date), shaping the buckets and writing and gzipping the reply cost the main thread
// 20-40 ms of CPU a 7-day read (more with an empty bucket cache): here instead. Requests are served one
// at a time, in order.
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../logger';
import { openPostgres, openSqlite } from './db';
import { ExecutionStore } from './executionStore';
import { SkippedTickStore } from './skippedTickStore';
import { timelineBody } from './timelineBody';
import { timelineReply } from './timelineReply';
import type { TimelineReply } from '../../shared/api';
import type { TimelineBody, TimelineRequest, TimelineResponse, TimelineWorkerData } from './timelineProtocol';

async function serve(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('timelineWorker.mjs runs as a worker thread of the server, not on its own');
  const store = workerData as TimelineWorkerData;
  // The worker never listens for changes: its warnings (a lost PostgreSQL connection) go to stderr.
  const log = createLogger({ level: 'warn', write: (line) => process.stderr.write(line + '\n') });
  // One connection: the worker serves one request at a time.
  const db = store.kind === 'sqlite' ? await openSqlite({ file: store.file, log, readonly: true }) : await openPostgres({ url: store.url, log, poolSize: 1 });
  // The timeline shows no "stuck" flag: no timeouts needed here.
  const executions = new ExecutionStore(db, () => undefined);
  const skipped = new SkippedTickStore(db);
  const answer = async (request: TimelineRequest): Promise<TimelineReply | TimelineBody> =>
    request.answer === 'route' ? timelineBody(await timelineReply(executions, skipped, request.query), request.encoding ?? 'identity') : executions.timeline(request.query);
  port.on('message', (request: TimelineRequest) => {
    answer(request).then(
      (reply) => port.postMessage({ id: request.id, ok: true, reply } satisfies TimelineResponse),
      (error: unknown) => {
        const code = (error as { code?: unknown } | null)?.code;
        port.postMessage({ id: request.id, ok: false, message: error instanceof Error ? error.message : String(error), ...(typeof code === 'string' ? { code } : {}) } satisfies TimelineResponse);
      },
    );
  });
}

void serve();
