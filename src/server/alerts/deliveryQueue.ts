// Sends queued deliveries in the background with retries and backoff. Enqueuing only writes to storage, so
// an alert never holds up a run; a destination that is down delays nothing but its own deliveries.
import { randomUUID } from 'node:crypto';
import type { AlertDelivery, AlertMessage } from '../../shared/alerts';
import { errorText, type Logger } from '../logger';
import type { DeliveryPolicy } from './alertConfig';
import type { ClaimedDelivery, DeliveryStorage } from './deliveryStorage';
import { DuePump } from './duePump';
import { retryDelayMs } from './retryPolicy';
import { deliveryErrorText, PermanentDeliveryError, type Sender } from './sender';

export interface DeliveryQueueOptions {
  storage: DeliveryStorage;
  /** By destination name. */
  senders: Map<string, Sender>;
  policy: DeliveryPolicy;
  log: Logger;
  /** How often to look for deliveries another instance queued or a dead one left (default 5 s). */
  pollMs?: number;
  /** Deliveries sent at once (default 8). */
  batch?: number;
  now?: () => Date;
}

/** Delay before attempt `attempt + 1` of a delivery. */
export function deliveryDelayMs(policy: DeliveryPolicy, attemptsMade: number): number {
  return retryDelayMs(policy, attemptsMade + 1);
}

export class DeliveryQueue {
  private readonly pump: DuePump;
  private stopped = false;
  private readonly settled = new Set<(delivery: AlertDelivery) => void>();
  private readonly now: () => Date;

  constructor(private readonly options: DeliveryQueueOptions) {
    this.now = options.now ?? (() => new Date());
    this.pump = new DuePump({
      what: '[Alerts] Sending deliveries',
      runDue: () => this.sendDue(),
      nextDueAt: () => options.storage.nextDueAt(),
      log: options.log,
      pollMs: options.pollMs ?? 5_000,
    });
  }

  /** Queues one delivery per destination and returns at once; sending happens in the background. */
  async enqueue(message: AlertMessage, destinations: string[]): Promise<AlertDelivery[]> {
    const known = destinations.filter((name) => {
      if (this.options.senders.has(name)) return true;
      this.options.log.warn(`[Alerts] No destination named ${name}: alert ${message.event} of ${message.cronName} not queued for it`);
      return false;
    });
    if (known.length === 0) return [];
    const createdAt = this.now();
    const added = await this.options.storage.add(known.map((destination) => ({ id: randomUUID(), destination, message, createdAt })));
    this.pump.kick();
    return added;
  }

  /** Starts sending; deliveries left pending by a previous start go out now. */
  start(): void {
    this.pump.start();
  }

  /** Calls `listener` each time a delivery is sent or given up (tests and the test endpoint wait on it). */
  onSettled(listener: (delivery: AlertDelivery) => void): () => void {
    this.settled.add(listener);
    return () => this.settled.delete(listener);
  }

  /** Stops taking deliveries and waits for the attempts in flight to be recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.pump.stop();
  }

  private async sendDue(): Promise<void> {
    const { storage, policy } = this.options;
    for (;;) {
      if (this.stopped) return;
      const now = this.now();
      // The lease outlasts an attempt: a delivery is not taken twice unless this instance died.
      const claimed = await storage.claimDue(now, new Date(now.getTime() + policy.timeoutMs * 2 + 5_000), this.options.batch ?? 8);
      if (claimed.length === 0) return;
      await Promise.all(claimed.map((item) => this.attempt(item)));
    }
  }

  private async attempt({ delivery, message }: ClaimedDelivery): Promise<void> {
    const { storage, policy, log } = this.options;
    const sender = this.options.senders.get(delivery.destination);
    let error: unknown;
    if (!sender) error = new PermanentDeliveryError(`no destination named ${delivery.destination} in this server's config`);
    else {
      try {
        await sender.send(message, { deliveryId: delivery.id, attempt: delivery.attempts, signal: AbortSignal.timeout(policy.timeoutMs) });
      } catch (caught) {
        error = caught ?? new Error('failed');
      }
    }
    const at = this.now();
    const permanent = error instanceof PermanentDeliveryError;
    const result = error === undefined
      ? { status: 'sent' as const, at }
      : permanent || delivery.attempts >= policy.attempts
        ? { status: 'failed' as const, at, error: deliveryErrorText(error) }
        : { status: 'pending' as const, at, error: deliveryErrorText(error), nextAttemptAt: new Date(at.getTime() + deliveryDelayMs(policy, delivery.attempts)) };
    const context = { deliveryId: delivery.id, destination: delivery.destination, event: delivery.event, cronName: delivery.cronName, attempt: delivery.attempts };
    if (result.status === 'sent') log.info(`[Alerts] Sent ${delivery.event} of ${delivery.cronName} to ${delivery.destination}`, context);
    else if (result.status === 'pending') log.warn(`[Alerts] Delivery to ${delivery.destination} failed: retrying at ${result.nextAttemptAt.toISOString()}`, { ...context, error: result.error });
    else log.error(`[Alerts] Gave up delivering ${delivery.event} of ${delivery.cronName} to ${delivery.destination}`, { ...context, error: result.error });
    try {
      await storage.record(delivery.id, result);
    } catch (recordError) {
      // The lease runs out and the delivery is tried again: a duplicate rather than a lost alert.
      log.warn('[Alerts] Could not record a delivery attempt', { ...context, error: errorText(recordError) });
      return;
    }
    if (result.status !== 'pending') {
      const settled = await storage.get(delivery.id).catch(() => undefined);
      if (settled) for (const listener of this.settled) listener(settled);
    }
  }
}
