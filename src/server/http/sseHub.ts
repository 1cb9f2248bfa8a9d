// Serves GET /api/admin/events: numbered events with Last-Event-ID resume, followed execution logs, and
// one heartbeat timer for all clients.
import type { ServerResponse } from 'node:http';
import type { LogLine } from '../../shared/api';
import { HEARTBEAT_INTERVAL_S, type ExecutionLogEvent } from '../../shared/events';
import type { BusEvent, EventBus } from '../eventBus';
import type { LogStore } from '../store/logStore';

interface Client {
  response: ServerResponse;
  follow: Set<string>;
  /** Highest log seq sent per followed execution, so catch-up and live lines never repeat. */
  sentSeq: Map<string, number>;
  /** Live lines that arrived while the backlog was being read. */
  held?: ExecutionLogEvent[];
}

// A client this far behind is not reading: drop it rather than buffer without bound; it will resume.
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export class SseHub {
  private readonly clients = new Set<Client>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly unsubscribe: Array<() => void>;

  constructor(
    private readonly bus: EventBus,
    private readonly logs: LogStore,
    heartbeatMs = HEARTBEAT_INTERVAL_S * 1000,
  ) {
    this.heartbeat = setInterval(() => this.broadcast(': heartbeat\n\n'), heartbeatMs);
    this.heartbeat.unref();
    this.unsubscribe = [bus.subscribe((event) => this.broadcast(format(event))), bus.subscribeLogs((event) => this.deliverLog(event))];
  }

  get size(): number {
    return this.clients.size;
  }

  isFollowed(executionId: string): boolean {
    for (const client of this.clients) if (client.follow.has(executionId)) return true;
    return false;
  }

  async open(response: ServerResponse, lastEventId: number | undefined, follow: string[]): Promise<void> {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.write('retry: 2000\n\n');
    const client: Client = { response, follow: new Set(follow), sentSeq: new Map(), held: follow.length ? [] : undefined };
    if (lastEventId !== undefined) {
      const missed = this.bus.since(lastEventId);
      if (missed) for (const event of missed) response.write(format(event));
      else response.write(format({ id: this.bus.currentId, name: 'resync', data: { reason: 'Some events were missed: reload the crons and the KPIs.' } }));
    }
    this.clients.add(client);
    response.on('close', () => this.clients.delete(client));
    if (follow.length) await this.sendBacklog(client);
  }

  private async sendBacklog(client: Client): Promise<void> {
    for (const executionId of client.follow) {
      let after = 0;
      for (;;) {
        const lines = await this.logs.after(executionId, after, 5000);
        if (lines.length === 0) break;
        this.writeLines(client, executionId, lines);
        after = lines[lines.length - 1].seq;
      }
    }
    const held = client.held ?? [];
    client.held = undefined;
    for (const event of held) this.writeLines(client, event.executionId, event.lines);
  }

  private deliverLog(event: ExecutionLogEvent): void {
    for (const client of this.clients) {
      if (!client.follow.has(event.executionId)) continue;
      if (client.held) client.held.push(event);
      else this.writeLines(client, event.executionId, event.lines);
    }
  }

  private writeLines(client: Client, executionId: string, lines: LogLine[]): void {
    const sent = client.sentSeq.get(executionId) ?? 0;
    const fresh = lines.filter((line) => line.seq > sent);
    if (fresh.length === 0) return;
    client.sentSeq.set(executionId, fresh[fresh.length - 1].seq);
    this.write(client, `event: execution.log\ndata: ${JSON.stringify({ executionId, lines: fresh })}\n\n`);
  }

  private broadcast(text: string): void {
    for (const client of this.clients) this.write(client, text);
  }

  private write(client: Client, text: string): void {
    if (client.response.writableLength > MAX_BUFFERED_BYTES) {
      client.response.destroy();
      this.clients.delete(client);
      return;
    }
    client.response.write(text);
    // Node's http layer corks the socket and writes on the next tick: a synchronous fork (the runner's
    // spawn) in the same turn would hold every event back by its duration. Send it now.
    const socket = client.response.socket;
    if (socket?.writableCorked) socket.uncork();
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const stop of this.unsubscribe) stop();
    for (const client of this.clients) client.response.end();
    this.clients.clear();
  }
}

function format(event: BusEvent): string {
  return `id: ${event.id}\nevent: ${event.name}\ndata: ${JSON.stringify(event.data)}\n\n`;
}
