// The backend's alerting: turns execution transitions into alerts for the configured destinations, queues
// them without waiting, sends tests, and says how each destination's latest delivery went.
import { randomUUID } from 'node:crypto';
import type { AlertDelivery, AlertMessage, AlertsReply } from '../../shared/alerts';
import { errorText, type Logger } from '../logger';
import { destinationTarget, type AlertSettings, type Destination } from './alertConfig';
import { buildAlert, destinationsFor, testAlert, type Transition } from './alertRules';
import { DeliveryQueue } from './deliveryQueue';
import type { DeliveryStorage } from './deliveryStorage';
import { EmailSender } from './emailSender';
import { SlackSender, WebhookSender } from './httpSenders';
import type { Sender } from './sender';

export interface AlertingOptions {
  settings: AlertSettings;
  storage: DeliveryStorage;
  runnerId: string;
  log: Logger;
  pollMs?: number;
  /** Replaces the real senders (a test that counts deliveries without a network). */
  senders?: Map<string, Sender>;
}

export class UnknownDestinationError extends Error {}

export function senderFor(destination: Destination, timeoutMs: number): Sender {
  switch (destination.type) {
    case 'webhook':
      return new WebhookSender(destination);
    case 'slack':
      return new SlackSender(destination);
    case 'email':
      return new EmailSender(destination, timeoutMs);
  }
}

export class Alerting {
  readonly queue: DeliveryQueue;
  private readonly senders: Map<string, Sender>;
  /** Alerts being written to the queue: stop() waits for them, so none is lost at shutdown. */
  private readonly queuing = new Set<Promise<void>>();

  constructor(private readonly options: AlertingOptions) {
    const { settings } = options;
    this.senders = options.senders ?? new Map(settings.destinations.map((destination) => [destination.name, senderFor(destination, settings.delivery.timeoutMs)]));
    this.queue = new DeliveryQueue({ storage: options.storage, senders: this.senders, policy: settings.delivery, log: options.log, pollMs: options.pollMs });
  }

  start(): void {
    this.queue.start();
  }

  async stop(): Promise<void> {
    while (this.queuing.size > 0) await Promise.all([...this.queuing]);
    await this.queue.stop();
    for (const sender of this.senders.values()) if (sender instanceof EmailSender) sender.close();
  }

  /**
   * Raises the alert a transition calls for, if any rule listens. Never throws and never waits for a
   * delivery: the caller is a run ending, which an alert must not hold up.
   */
  raise(transition: Transition, onceKey?: string): void {
    const work = this.raiseNow(transition, onceKey).then(
      () => undefined,
      (error) => this.options.log.error(`[Alerts] Could not queue an alert`, { transition: transition.kind, error: errorText(error) }),
    );
    this.queuing.add(work);
    void work.finally(() => this.queuing.delete(work));
  }

  /** `raise`, awaited: resolves with the queued deliveries (none when no rule listens or `onceKey` was taken). */
  async raiseNow(transition: Transition, onceKey?: string): Promise<AlertDelivery[]> {
    const now = new Date();
    const message = buildAlert(transition, { id: randomUUID(), runnerId: this.options.runnerId, now });
    if (!message) return [];
    const destinations = destinationsFor(this.options.settings.rules, message.cronName, message.event);
    if (destinations.length === 0) return [];
    if (onceKey !== undefined && !(await this.options.storage.claimAlert(onceKey, now))) return [];
    this.options.log.info(`[Alerts] ${message.summary}`, { event: message.event, destinations });
    return this.queue.enqueue(message, destinations);
  }

  /** Queues a test alert to one destination or all; resolves once queued (the reply lists the deliveries). */
  async sendTest(actor: string, destination?: string): Promise<{ message: AlertMessage; deliveries: AlertDelivery[] }> {
    const names = destination === undefined ? [...this.senders.keys()] : [destination];
    if (destination !== undefined && !this.senders.has(destination)) {
      const known = [...this.senders.keys()];
      throw new UnknownDestinationError(`No alert destination named "${destination}": ${known.length ? `the config declares ${known.join(', ')}` : 'the config declares none (alerts.destinations)'}`);
    }
    const message = testAlert({ id: randomUUID(), runnerId: this.options.runnerId, now: new Date(), actor });
    return { message, deliveries: await this.queue.enqueue(message, names) };
  }

  /** GET /api/admin/alerts: every destination with its latest delivery, and the recent deliveries. */
  async status(limit = 100): Promise<AlertsReply> {
    const latest = await this.options.storage.latestPerDestination();
    const deliveries = await this.options.storage.recent(limit);
    // Read last, the recent list is the fresher: a destination's newest delivery in it is its latest, so the two
    // parts of the reply agree on a delivery sent between the two reads.
    for (const delivery of [...deliveries].reverse()) latest.set(delivery.destination, delivery);
    return {
      destinations: this.options.settings.destinations.map((destination) => {
        const last = latest.get(destination.name);
        return {
          name: destination.name,
          type: destination.type,
          target: destinationTarget(destination),
          lastStatus: last?.status ?? null,
          lastAttemptAt: last?.lastAttemptAt ?? null,
          lastSentAt: last?.sentAt ?? null,
          lastError: last?.lastError ?? null,
        };
      }),
      deliveries,
    };
  }
}
