// The fan-out baseline, run as its own process: a bare node:http server that holds SSE responses and
// writes one event to all of them on POST /fire — no auth, no store, no framework.
import { createServer, type ServerResponse } from 'node:http';

const clients = new Set<ServerResponse>();
let id = 0;
// About the size of the server's execution.started payload.
const execution = {
  id: '00000000-0000-4000-8000-000000000000',
  cronName: 'fanout',
  status: 'running',
  triggerType: 'manual',
  triggeredBy: 'env:CRON_OPS_ADMIN_TOKEN',
  params: {},
  startedAt: new Date().toISOString(),
  completedAt: null,
  durationMs: null,
  exitCode: null,
  errorMessage: null,
  runnerId: 'bench',
  stuck: false,
  logLinesDropped: 0,
};

const server = createServer((request, response) => {
  if (request.url === '/events') {
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    response.write('retry: 2000\n\n');
    clients.add(response);
    response.on('close', () => clients.delete(response));
    return;
  }
  if (request.method === 'POST' && request.url === '/fire') {
    id++;
    const text = `id: ${id}\nevent: execution.started\ndata: ${JSON.stringify({ execution: { ...execution, startedAt: new Date().toISOString() } })}\n\n`;
    for (const client of clients) client.write(text);
    response.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id, clients: clients.size }));
    return;
  }
  response.writeHead(404).end();
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));
