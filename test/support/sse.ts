// An SSE client on the raw HTTP stream (node:http): the test sets Last-Event-ID itself and can drop the
// connection abruptly, as a network cut would.
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { TEST_ADMIN_TOKEN } from './serverProcess';

export interface SseEvent {
  /** Numeric id, when the event has one (log events do not). */
  id?: number;
  event: string;
  // any: each test reads the payload of the event it waits for.
  data: any;
}

export interface SseOptions {
  token?: string | null;
  lastEventId?: number | string;
  /** Execution ids whose log lines to receive (`?follow=`). */
  follow?: string[];
  headers?: Record<string, string>;
}

export interface SseStream {
  status: number;
  headers: IncomingMessage['headers'];
  events: SseEvent[];
  /** Comment lines received (heartbeats), without the colon. */
  comments: string[];
  /** Id of the last event received that had one. */
  lastId(): number | undefined;
  /** Resolves with the first event (already received or to come) matching `predicate`. */
  next(predicate: (event: SseEvent) => boolean, what?: string, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves once `predicate` holds over everything received so far. */
  until(predicate: (events: SseEvent[]) => boolean, what?: string, timeoutMs?: number): Promise<SseEvent[]>;
  /** Cuts the TCP connection without a goodbye. */
  drop(): void;
  closed: Promise<void>;
}

export function openSse(baseUrl: string, options: SseOptions = {}): Promise<SseStream> {
  const url = new URL('/api/admin/events', baseUrl);
  for (const id of options.follow ?? []) url.searchParams.append('follow', id);
  const headers: Record<string, string> = { accept: 'text/event-stream', ...options.headers };
  const token = options.token === undefined ? TEST_ADMIN_TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (options.lastEventId !== undefined) headers['last-event-id'] = String(options.lastEventId);

  return new Promise((resolveStream, reject) => {
    const req: ClientRequest = request(url, { headers, agent: false }, (response) => {
      const events: SseEvent[] = [];
      const comments: string[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      let closedResolve!: () => void;
      const closed = new Promise<void>((resolveClosed) => (closedResolve = resolveClosed));
      const wake = () => {
        for (const waiter of [...waiters]) waiter();
      };
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk.replace(/\r\n?/g, '\n');
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { event: 'message', data: undefined };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else {
              const colon = line.indexOf(':');
              const field = colon < 0 ? line : line.slice(0, colon);
              const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
              if (field === 'id') event.id = Number(value);
              else if (field === 'event') event.event = value;
              else if (field === 'data') data.push(value);
            }
          }
          if (data.length === 0) continue;
          const text = data.join('\n');
          try {
            event.data = JSON.parse(text);
          } catch {
            event.data = text;
          }
          events.push(event);
        }
        wake();
      });
      const finish = () => {
        closedResolve();
        wake();
      };
      response.on('end', finish);
      response.on('close', finish);
      response.on('error', finish);
      let isClosed = false;
      void closed.then(() => (isClosed = true));

      const waitUntil = <T>(probe: () => T | undefined, what: string, timeoutMs: number) =>
        new Promise<T>((resolveWait, rejectWait) => {
          const check = () => {
            const found = probe();
            if (found !== undefined) {
              stop();
              resolveWait(found);
            } else if (isClosed) {
              stop();
              rejectWait(new Error(`SSE stream closed before ${what}; received: ${summary(events)}`));
            }
          };
          const timer = setTimeout(() => {
            stop();
            rejectWait(new Error(`No ${what} within ${timeoutMs} ms; received: ${summary(events)}`));
          }, timeoutMs);
          const stop = () => {
            clearTimeout(timer);
            waiters.delete(check);
          };
          waiters.add(check);
          void closed.then(check);
          check();
        });

      resolveStream({
        status: response.statusCode ?? 0,
        headers: response.headers,
        events,
        comments,
        lastId: () => [...events].reverse().find((event) => event.id !== undefined)?.id,
        next: (predicate, what = 'matching event', timeoutMs = 20_000) => waitUntil(() => events.find(predicate), what, timeoutMs),
        until: (predicate, what = 'expected events', timeoutMs = 20_000) => waitUntil(() => (predicate(events) ? events : undefined), what, timeoutMs),
        drop: () => {
          req.destroy();
          response.destroy();
        },
        closed,
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function summary(events: SseEvent[]): string {
  const names = events.map((event) => `${event.event}${event.id !== undefined ? `#${event.id}` : ''}`);
  return names.length > 30 ? `${names.slice(0, 10).join(', ')} … ${names.slice(-15).join(', ')} (${names.length})` : names.join(', ') || '(nothing)';
}
