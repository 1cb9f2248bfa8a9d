// Serves GET /api/admin/events: numbered events with Last-Event-ID resume, followed execution logs, one
// heartbeat timer for all clients, and the limits that keep one client from stalling the server: streams
// per token, a bounded backlog read only while the client is there, back-pressure, and credentials
// checked again while a stream is open (a revoked token's streams close).
import type { ServerResponse } from 'node:http';
import type { LogLine } from '../../shared/api';
import { HEARTBEAT_INTERVAL_S, type ExecutionLogEvent } from '../../shared/events';
import type { BusEvent, EventBus } from '../eventBus';
import { errorText, type Logger } from '../logger';

/** What the hub reads of the stored log lines. */
export interface LogReader {
  after(executionId: string, afterSeq: number, limit: number): Promise<LogLine[]>;
}

export interface StreamOwner {
  /** Who holds the stream (the token's actor): the unit of maxStreamsPerToken. */
  actor: string;
  /** The credential as sent, to check it again while the stream is open. */
  authorization: string | undefined;
}

export interface SseHubOptions {
  maxStreamsPerOwner: number;
  /** Whether a credential still holds (not revoked). */
  stillAuthorized(authorization: string | undefined): Promise<boolean>;
  log: Logger;
  /** Lines of a followed run's past sent on connect; older ones are paged from the logs endpoint. */
  backlogLines?: number;
  revalidateMs?: number;
  heartbeatMs?: number;
}

interface Client {
  response: ServerResponse;
  owner: StreamOwner;
  follow: Set<string>;
  /** Highest log seq sent per followed execution, so catch-up and live lines never repeat. */
  sentSeq: Map<string, number>;
  /** Live lines that arrived while the backlog was being read. */
  held?: ExecutionLogEvent[];
  heldLines: number;
  gone: boolean;
  /** Events of this turn of the event loop not written yet: they go out in one write at its end. */
  pending: string;
}

/** A client this far behind is not reading: drop it rather than buffer without bound; it will resume. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Live lines held for one client while its backlog is read. */
const MAX_HELD_LINES = 10_000;
export const BACKLOG_LINES = 1000;

export class SseHub {
  private readonly clients = new Set<Client>();
  private readonly perOwner = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[];
  private readonly unsubscribe: Array<() => void>;
  private revalidating = false;
  private readonly backlogLines: number;

  constructor(
    private readonly bus: EventBus,
    private readonly logs: LogReader,
    private readonly options: SseHubOptions,
  ) {
    this.backlogLines = options.backlogLines ?? BACKLOG_LINES;
    this.timers = [
      setInterval(() => this.broadcast(': heartbeat\n\n'), options.heartbeatMs ?? HEARTBEAT_INTERVAL_S * 1000),
      setInterval(() => void this.revalidate(), options.revalidateMs ?? 2_000),
    ];
    for (const timer of this.timers) timer.unref();
    this.unsubscribe = [bus.subscribe((event) => this.broadcast(format(event))), bus.subscribeLogs((event) => this.deliverLog(event))];
  }

  get size(): number {
    return this.clients.size;
  }

  streamsOf(actor: string): number {
    return this.perOwner.get(actor) ?? 0;
  }

  hasRoomFor(actor: string): boolean {
    return this.streamsOf(actor) < this.options.maxStreamsPerOwner;
  }

  isFollowed(executionId: string): boolean {
    for (const client of this.clients) if (client.follow.has(executionId)) return true;
    return false;
  }

  async open(response: ServerResponse, owner: StreamOwner, lastEventId: number | undefined, follow: string[]): Promise<void> {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.write('retry: 2000\n\n');
    const client: Client = { response, owner, follow: new Set(follow), sentSeq: new Map(), held: follow.length ? [] : undefined, heldLines: 0, gone: false, pending: '' };
    if (lastEventId !== undefined) {
      const missed = this.bus.since(lastEventId);
      if (missed) for (const event of missed) response.write(format(event));
      else response.write(format({ id: this.bus.currentId, name: 'resync', data: { reason: 'Some events were missed: reload the crons and the KPIs.' } }));
    }
    this.clients.add(client);
    this.perOwner.set(owner.actor, this.streamsOf(owner.actor) + 1);
    response.on('close', () => this.remove(client));
    if (follow.length) {
      try {
        await this.sendBacklog(client);
      } catch (error) {
        this.options.log.warn('Could not send the log backlog of a followed run', { error: errorText(error) });
        this.drop(client);
      }
    }
  }

  private remove(client: Client): void {
    if (client.gone) return;
    client.gone = true;
    this.clients.delete(client);
    const left = this.streamsOf(client.owner.actor) - 1;
    if (left > 0) this.perOwner.set(client.owner.actor, left);
    else this.perOwner.delete(client.owner.actor);
  }

  private drop(client: Client): void {
    this.remove(client);
    client.response.destroy();
  }

  /** The last `backlogLines` lines of each followed run; stops as soon as the client has gone. */
  private async sendBacklog(client: Client): Promise<void> {
    for (const executionId of client.follow) {
      if (client.gone) return;
      const end = await this.lastSeq(client, executionId);
      let after = Math.max(0, end - this.backlogLines);
      while (!client.gone && after < end) {
        const lines = await this.logs.after(executionId, after, Math.min(500, end - after));
        if (lines.length === 0 || client.gone) break;
        if (!this.writeLines(client, executionId, lines, true)) await this.drained(client);
        after = lines[lines.length - 1].seq;
      }
    }
    const held = client.held ?? [];
    client.held = undefined;
    for (const event of held) if (!client.gone) this.writeLines(client, event.executionId, event.lines);
  }

  /**
   * The highest stored seq of a run (0 when none), by probing with one-line reads: seqs are consecutive
   * from 1, so an exponential then binary search finds it in a few tiny queries.
   */
  private async lastSeq(client: Client, executionId: string): Promise<number> {
    const exists = async (after: number) => (await this.logs.after(executionId, after, 1)).length > 0;
    if (!(await exists(0))) return 0;
    let low = 0;
    let high = this.backlogLines;
    while (!client.gone && (await exists(high))) {
      low = high;
      high *= 2;
    }
    while (!client.gone && high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (await exists(middle)) low = middle;
      else high = middle;
    }
    return high;
  }

  private drained(client: Client): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        client.response.off('drain', done);
        client.response.off('close', done);
        resolve();
      };
      client.response.on('drain', done);
      client.response.on('close', done);
    });
  }

  private deliverLog(event: ExecutionLogEvent): void {
    for (const client of this.clients) {
      if (!client.follow.has(event.executionId)) continue;
      if (client.held) {
        client.held.push(event);
        client.heldLines += event.lines.length;
        if (client.heldLines > MAX_HELD_LINES) this.drop(client);
      } else this.writeLines(client, event.executionId, event.lines);
    }
  }

  /** Writes the lines not sent yet; false when the client's buffer is full (wait for 'drain'). */
  private writeLines(client: Client, executionId: string, lines: LogLine[], now = false): boolean {
    const sent = client.sentSeq.get(executionId) ?? 0;
    const fresh = lines.filter((line) => line.seq > sent);
    if (fresh.length === 0) return true;
    client.sentSeq.set(executionId, fresh[fresh.length - 1].seq);
    return this.write(client, `event: execution.log\ndata: ${JSON.stringify({ executionId, lines: fresh })}\n\n`, now);
  }

  private broadcast(text: string): void {
    for (const client of this.clients) this.write(client, text);
  }

  /**
   * Queues `text` for the client: what one turn of the event loop publishes (under a burst of runs, several
   * starts and ends a turn) goes out in one socket write at its end, in order, rather than one write (a
   * system call that also runs the receiving end's TCP work on loopback) per event. False when the client's
   * buffer is full (wait for 'drain').
   */
  private write(client: Client, text: string, now = false): boolean {
    if (client.gone) return true;
    if (client.response.writableLength + client.pending.length > MAX_BUFFERED_BYTES) {
      this.drop(client);
      return true;
    }
    if (now) {
      // The backlog, paced by the socket's room: what was queued before it goes first.
      client.pending += text;
      return this.flush(client);
    }
    if (client.pending === '') this.flushing.add(client);
    client.pending += text;
    this.flushSoon();
    return true;
  }

  /** Clients with queued events, written at the end of this turn (setImmediate: after its I/O callbacks). */
  private readonly flushing = new Set<Client>();
  private flushScheduled = false;

  private flushSoon(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      for (const client of this.flushing) this.flush(client);
      this.flushing.clear();
    });
  }

  /** Writes what is queued for the client; false when its buffer is full (wait for 'drain'). */
  private flush(client: Client): boolean {
    const text = client.pending;
    client.pending = '';
    if (client.gone || text === '') return true;
    const ok = client.response.write(text);
    // Node's http layer corks the socket and writes on the next tick: send it now.
    const socket = client.response.socket;
    if (socket?.writableCorked) socket.uncork();
    return ok;
  }

  /** Closes the streams whose credentials no longer hold (a revoked token); one check per credential. */
  private async revalidate(): Promise<void> {
    if (this.revalidating || this.clients.size === 0) return;
    this.revalidating = true;
    try {
      const byCredential = new Map<string | undefined, Client[]>();
      for (const client of this.clients) {
        const list = byCredential.get(client.owner.authorization) ?? [];
        list.push(client);
        byCredential.set(client.owner.authorization, list);
      }
      for (const [authorization, clients] of byCredential) {
        let valid: boolean;
        try {
          valid = await this.options.stillAuthorized(authorization);
        } catch {
          continue; // the store is unreachable: keep the streams, check again later
        }
        if (valid) continue;
        this.options.log.info(`Closing ${clients.length} event stream(s) of ${clients[0].owner.actor}: its token is no longer valid`);
        for (const client of clients) {
          client.response.end();
          this.remove(client);
        }
      }
    } finally {
      this.revalidating = false;
    }
  }

  close(): void {
    for (const timer of this.timers) clearInterval(timer);
    for (const stop of this.unsubscribe) stop();
    for (const client of this.clients) {
      this.flush(client);
      client.response.end();
    }
    this.clients.clear();
    this.perOwner.clear();
  }
}

function format(event: BusEvent): string {
  return `id: ${event.id}\nevent: ${event.name}\ndata: ${JSON.stringify(event.data)}\n\n`;
}
