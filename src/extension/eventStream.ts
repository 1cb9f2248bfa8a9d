// The live feed: GET /api/admin/events through the eventsource package, with the bearer token sent by a
// custom fetch, Last-Event-ID on every reconnect, exponential backoff, and a watchdog on the 15 s heartbeat.
// No vscode import, so it is tested against a plain Node SSE server.
import { EventSource, type FetchLike } from 'eventsource';
import { EVENT_NAMES, HEARTBEAT_INTERVAL_S, type EventName, type EventPayloads } from '../shared/events';
import { Emitter } from './emitter';
import { asErrorReply } from './errorMessages';
import type { LogSink } from './logger';
import { redactUrl, redactUrls } from './serverOrigin';

export type StreamStatus =
  | { state: 'stopped' }
  | { state: 'connecting'; attempt: number }
  | { state: 'open' }
  | { state: 'waiting'; attempt: number; retryInMs: number; error: string; httpStatus?: number };

export type StreamEvent = { [K in EventName]: { name: K; data: EventPayloads[K]; id: string | undefined } }[EventName];

/** Delay before reconnect attempt `attempt` (1-based): 1 s, 2 s, 4 s… capped at 30 s, ±20 % jitter. */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random, maxMs = 30_000): number {
  const base = Math.min(maxMs, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

export interface EventStreamOptions {
  url: () => string;
  token: () => Promise<string | undefined>;
  log: LogSink;
  fetchImpl?: typeof fetch;
  /** No byte for this long (heartbeats included) means the connection is dead. */
  idleTimeoutMs?: number;
  delay?: (attempt: number) => number;
}

export class EventStream {
  private readonly events = new Emitter<StreamEvent>();
  private readonly statuses = new Emitter<StreamStatus>();
  readonly onEvent = this.events.event;
  readonly onStatus = this.statuses.event;

  private source: EventSource | undefined;
  private generation = 0;
  private disposed = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private lastActivity = 0;
  private lastHttpError: string | undefined;
  private current: StreamStatus = { state: 'stopped' };
  private lastId: string | undefined;

  constructor(private readonly options: EventStreamOptions) {}

  get status(): StreamStatus {
    return this.current;
  }

  /** The id of the last event received: sent as Last-Event-ID so a reconnect gets what it missed. */
  get lastEventId(): string | undefined {
    return this.lastId;
  }

  /** Connects now (or reconnects), resetting the backoff. Call after sign-in or a server URL change. */
  start(options: { resetLastEventId?: boolean } = {}): void {
    // A server removed while its state was starting: no stream is opened for it any more.
    if (this.disposed) return;
    if (options.resetLastEventId) this.lastId = undefined;
    this.attempt = 0;
    void this.connect();
  }

  stop(): void {
    this.generation++;
    this.teardown();
    this.setStatus({ state: 'stopped' });
  }

  dispose(): void {
    this.disposed = true;
    this.stop();
    this.events.dispose();
    this.statuses.dispose();
  }

  private setStatus(status: StreamStatus): void {
    this.current = status;
    this.statuses.fire(status);
  }

  private teardown(): void {
    clearTimeout(this.retryTimer);
    clearInterval(this.watchdog);
    this.retryTimer = undefined;
    this.watchdog = undefined;
    this.source?.close();
    this.source = undefined;
  }

  private async connect(): Promise<void> {
    const generation = ++this.generation;
    this.teardown();
    const token = await this.options.token();
    if (generation !== this.generation) return;
    if (!token) {
      this.setStatus({ state: 'stopped' });
      return;
    }
    let url: string;
    try {
      url = new URL(this.options.url()).toString();
    } catch {
      this.scheduleRetry(generation, `invalid server URL ${JSON.stringify(this.options.url())}`);
      return;
    }
    this.setStatus({ state: 'connecting', attempt: this.attempt });
    this.lastHttpError = undefined;
    const source = new EventSource(url, { fetch: this.authorizedFetch(token, generation) });
    this.source = source;
    source.addEventListener('open', () => {
      if (generation !== this.generation) return;
      this.attempt = 0;
      this.lastActivity = Date.now();
      this.options.log.info(`[Events] Connected to ${redactUrl(url)}`);
      this.setStatus({ state: 'open' });
      this.startWatchdog(generation);
    });
    source.addEventListener('error', (event) => {
      if (generation !== this.generation) return;
      const code = event.code;
      const reason = this.lastHttpError ?? event.message ?? 'connection lost';
      this.scheduleRetry(generation, reason, code);
    });
    for (const name of EVENT_NAMES) {
      source.addEventListener(name, (message: MessageEvent) => {
        if (generation !== this.generation) return;
        if (message.lastEventId) this.lastId = message.lastEventId;
        let data: unknown;
        try {
          data = JSON.parse(String(message.data));
        } catch {
          this.options.log.warn(`[Events] Ignored a ${name} event whose data is not JSON`);
          return;
        }
        this.events.fire({ name, data, id: message.lastEventId || undefined } as StreamEvent);
      });
    }
  }

  private scheduleRetry(generation: number, error: string, httpStatus?: number): void {
    this.teardown();
    this.attempt++;
    const delay = this.options.delay ?? reconnectDelayMs;
    // A refused token will not start working by itself: retry slowly until the user signs in again.
    const retryInMs = httpStatus === 401 || httpStatus === 403 ? delay(10) : delay(this.attempt);
    this.options.log.warn(`[Events] ${httpStatus ? `HTTP ${httpStatus}: ` : ''}${redactUrls(error)}; reconnecting in ${Math.round(retryInMs / 100) / 10} s`);
    this.setStatus({ state: 'waiting', attempt: this.attempt, retryInMs, error, httpStatus });
    this.retryTimer = setTimeout(() => {
      if (generation === this.generation) void this.connect();
    }, retryInMs);
  }

  private startWatchdog(generation: number): void {
    const idleTimeoutMs = this.options.idleTimeoutMs ?? HEARTBEAT_INTERVAL_S * 3 * 1000;
    this.watchdog = setInterval(() => {
      if (generation === this.generation && Date.now() - this.lastActivity > idleTimeoutMs) {
        this.scheduleRetry(generation, `no data (not even a heartbeat) for ${Math.round(idleTimeoutMs / 1000)} s`);
      }
    }, Math.min(5000, idleTimeoutMs / 2));
  }

  /** Adds the token and Last-Event-ID; notes every byte for the watchdog; keeps an error reply's text. */
  private authorizedFetch(token: string, generation: number): FetchLike {
    const fetchImpl = this.options.fetchImpl ?? fetch;
    return async (url, init) => {
      const headers: Record<string, string> = { ...init.headers, Authorization: `Bearer ${token}` };
      if (this.lastId && !headers['Last-Event-ID']) headers['Last-Event-ID'] = this.lastId;
      const response = await fetchImpl(url, { ...init, headers });
      if (response.status !== 200) {
        const text = await response.text().catch(() => '');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        this.lastHttpError = asErrorReply(parsed)?.error ?? `HTTP ${response.status}`;
        return { body: null, url: response.url, status: response.status, redirected: response.redirected, headers: response.headers };
      }
      if (!response.body) return response;
      const touch = () => {
        if (generation === this.generation) this.lastActivity = Date.now();
      };
      const body = response.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            touch();
            controller.enqueue(chunk);
          },
        }),
      );
      return { body, url: response.url, status: response.status, redirected: response.redirected, headers: response.headers };
    };
  }
}
