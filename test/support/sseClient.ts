// A minimal SSE reader over fetch for tests: collects events and lets a test wait for one.
export interface ReceivedEvent {
  id?: string;
  event: string;
  // any: a test reads the payload of whichever event it waits for.
  data: any;
}

export interface EventsConnection {
  events: ReceivedEvent[];
  waitFor(predicate: (event: ReceivedEvent) => boolean, timeoutMs?: number): Promise<ReceivedEvent>;
  close(): void;
}

export async function connectEvents(baseUrl: string, token: string, options: { query?: string; lastEventId?: string } = {}): Promise<EventsConnection> {
  const controller = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
  const response = await fetch(`${baseUrl}/api/admin/events${options.query ? `?${options.query}` : ''}`, { headers, signal: controller.signal });
  if (response.status !== 200 || !response.body) throw new Error(`events: HTTP ${response.status} ${await response.text()}`);
  const events: ReceivedEvent[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: ReceivedEvent = { event: 'message', data: undefined };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) event.id = line.slice(4);
            else if (line.startsWith('event: ')) event.event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length === 0) continue;
          event.data = JSON.parse(data.join('\n'));
          events.push(event);
          for (const wake of waiters) wake();
        }
      }
    } catch {
      // Closed by the test or the server.
    }
  })();
  return {
    events,
    waitFor(predicate, timeoutMs = 15_000) {
      return new Promise((resolveEvent, reject) => {
        const check = () => {
          const found = events.find(predicate);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolveEvent(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching event within ${timeoutMs} ms; got: ${events.map((e) => e.event).join(', ')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => controller.abort(),
  };
}
