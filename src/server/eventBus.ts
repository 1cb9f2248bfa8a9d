// In-process event bus for the SSE stream: numbered events kept in a ring so a client can resume.
import type { EventName, EventPayloads, ExecutionLogEvent } from '../shared/events';

export interface BusEvent<N extends EventName = EventName> {
  id: number;
  name: N;
  data: EventPayloads[N];
}

type ReplayableName = Exclude<EventName, 'execution.log'>;

export class EventBus {
  // Ids start from the boot time in microseconds, so they keep increasing across restarts and an id from a
  // previous run is recognisably older than anything kept here.
  private lastId = Date.now() * 1000;
  private readonly ring: BusEvent[] = [];
  private readonly listeners = new Set<(event: BusEvent) => void>();
  private readonly logListeners = new Set<(event: ExecutionLogEvent) => void>();

  constructor(private readonly capacity = 5000) {}

  publish<N extends ReplayableName>(name: N, data: EventPayloads[N]): BusEvent<N> {
    const event: BusEvent<N> = { id: ++this.lastId, name, data };
    this.ring.push(event);
    if (this.ring.length > this.capacity) this.ring.shift();
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /** Log lines are not numbered or kept: a follower catches up from the store. */
  publishLog(event: ExecutionLogEvent): void {
    for (const listener of this.logListeners) listener(event);
  }

  subscribe(listener: (event: BusEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  subscribeLogs(listener: (event: ExecutionLogEvent) => void): () => void {
    this.logListeners.add(listener);
    return () => this.logListeners.delete(listener);
  }

  /** The events after `lastEventId`, or undefined when they are no longer all here (the client must resync). */
  since(lastEventId: number): BusEvent[] | undefined {
    if (lastEventId === this.lastId) return [];
    if (lastEventId > this.lastId) return undefined;
    const oldest = this.ring[0];
    if (!oldest || lastEventId < oldest.id - 1) return undefined;
    return this.ring.filter((event) => event.id > lastEventId);
  }

  get currentId(): number {
    return this.lastId;
  }

  get clientCount(): number {
    return this.listeners.size;
  }
}
