// Alerts and retries as the API shows them: shared by the server, the extension and the webview (no runtime dependencies).

export const ALERT_EVENTS = ['failed', 'timeout', 'stuck', 'recovered', 'missed'] as const;
/**
 * What an alert rule listens for: a run that failed (retries exhausted), a run ended by its timeout, a run
 * past its timeout that the server cannot end, the first success after a failure, a tick that did not run.
 */
export type AlertEvent = (typeof ALERT_EVENTS)[number];

export const RETRY_ON = ['failed', 'timeout'] as const;
/** The outcomes a cron's `retries.on` may name. */
export type RetryOn = (typeof RETRY_ON)[number];

export const DESTINATION_TYPES = ['webhook', 'slack', 'email'] as const;
/** Where alerts go: a signed JSON web hook, a Slack-compatible incoming web hook, or e-mail over SMTP. */
export type DestinationType = (typeof DESTINATION_TYPES)[number];

/** pending: waiting for its first or next attempt; sent: accepted by the destination; failed: attempts exhausted. */
export type DeliveryStatus = 'pending' | 'sent' | 'failed';

/** Retry fields of an execution: attempt 1 is the first run; later attempts point at it with `retryOf`. */
export interface ExecutionRetryFields {
  attempt: number;
  /** The id of the first attempt of the chain; null on a first attempt. */
  retryOf: string | null;
}

/** A retry waiting for its time (shown on the cron; a manual trigger during the wait runs now and cancels it). */
export interface PendingRetry {
  cronName: string;
  retryOf: string;
  attempt: number;
  dueAt: string;
}

/** What an alert says: the body of a web hook delivery, and the content of the Slack and e-mail formats. */
export interface AlertMessage {
  /** Unique per alert (several destinations share it); receivers may use it to drop duplicates. */
  id: string;
  event: AlertEvent;
  cronName: string;
  /** One line a person can read, e.g. "backup failed after 3 attempts: Exited with code 1". */
  summary: string;
  at: string;
  executionId: string | null;
  attempt: number | null;
  retryOf: string | null;
  status: string | null;
  errorMessage: string | null;
  startedAt: string | null;
  durationMs: number | null;
  /** For `missed`: the scheduled instant that did not run. */
  tickAt: string | null;
  /** The server instance that raised it. */
  runnerId: string;
  /** Set on a message sent by POST /api/admin/alerts/test. */
  test: boolean;
}

/** One delivery of one alert to one destination. */
export interface AlertDelivery {
  id: string;
  alertId: string;
  destination: string;
  event: AlertEvent;
  cronName: string;
  executionId: string | null;
  status: DeliveryStatus;
  /** Attempts made so far. */
  attempts: number;
  lastError: string | null;
  createdAt: string;
  lastAttemptAt: string | null;
  /** When the next attempt is due (pending only). */
  nextAttemptAt: string | null;
  sentAt: string | null;
}

/** A configured destination and how its latest delivery went. */
export interface DestinationStatus {
  name: string;
  type: DestinationType;
  /** Where it goes, without secrets: host of the URL, or the e-mail recipients. */
  target: string;
  /** Of the latest delivery to it (null when it has had none). */
  lastStatus: DeliveryStatus | null;
  lastAttemptAt: string | null;
  /** When the latest delivery was accepted; null unless it was. */
  lastSentAt: string | null;
  lastError: string | null;
}

/** GET /api/admin/alerts */
export interface AlertsReply {
  destinations: DestinationStatus[];
  /** Newest first. */
  deliveries: AlertDelivery[];
}

/** POST /api/admin/alerts/test: every destination unless one is named. */
export interface AlertTestRequest {
  destination?: string;
}

export interface AlertTestReply {
  success: true;
  alertId: string;
  deliveries: AlertDelivery[];
}

/** Header of a web hook delivery: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = 'X-Cron-Ops-Signature';
export const DELIVERY_HEADER = 'X-Cron-Ops-Delivery';
export const EVENT_HEADER = 'X-Cron-Ops-Event';

export const ALERT_PATHS = {
  alerts: '/api/admin/alerts',
  test: '/api/admin/alerts/test',
} as const;
