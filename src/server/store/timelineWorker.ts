// The timeline's reads off the server's main thread: a worker_threads worker with its own read-only
// connection to the store's SQLite file (WAL lets it read beside the server's one writer connection).
// better-sqlite3 is synchronous: here a long statement blocks only this thread, never the server's event
// loop. Requests are served one at a time, in order.
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../logger';
import { openSqlite } from './db';
import { ExecutionStore } from './executionStore';
import { SkippedTickStore } from './skippedTickStore';
import { timelineBody } from './timelineBody';
import { timelineReply } from './timelineReply';
import type { TimelineReply } from '../../shared/api';
import type { TimelineBody, TimelineRequest, TimelineResponse, TimelineWorkerData } from './timelineProtocol';

async function serve(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('timelineWorker.mjs runs as a worker thread of the server, not on its own');
  const { file } = workerData as TimelineWorkerData;
  // The worker never listens for changes (the only use of the log in openSqlite): warnings go to stderr.
  const log = createLogger({ level: 'warn', write: (line) => process.stderr.write(line + '\n') });
  const db = await openSqlite({ file, log, readonly: true });
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
