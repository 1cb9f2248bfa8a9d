// What every destination type does with an alert: deliver it once, or throw saying why.
import type { AlertMessage } from '../../shared/alerts';

export interface DeliveryAttempt {
  /** The delivery's id, the same on each attempt: receivers may drop duplicates by it. */
  deliveryId: string;
  attempt: number;
  /** Aborts the attempt when it takes longer than the delivery timeout. */
  signal: AbortSignal;
}

export interface Sender {
  send(message: AlertMessage, attempt: DeliveryAttempt): Promise<void>;
}

/** A refusal that another attempt would not change (a 4xx from the receiver, a rejected recipient). */
export class PermanentDeliveryError extends Error {}

/** Text of a failed attempt: what the receiver said, short enough to show. */
export function deliveryErrorText(error: unknown): string {
  const text = error instanceof Error ? (error.name === 'TimeoutError' || error.name === 'AbortError' ? `no answer in time (${error.message})` : error.message) : String(error);
  return text.length > 500 ? text.slice(0, 499) + '…' : text;
}
