// The two HTTP destinations: a generic JSON web hook signed with an HMAC header, and a Slack-compatible
// incoming web hook (Slack, Mattermost, Rocket.Chat and others accept its `text` and `blocks`).
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, type AlertEvent, type AlertMessage } from '../../shared/alerts';
import { formatDuration } from '../../shared/format';
import type { SlackDestination, WebhookDestination } from './alertConfig';
import { PermanentDeliveryError, type DeliveryAttempt, type Sender } from './sender';
import { signatureHeader } from './signature';

const USER_AGENT = 'cron-ops-alerts';

/** 408, 425 and 429 say "later"; any other 4xx says the request itself is wrong. */
function isPermanent(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 425 && status !== 429;
}

async function post(url: string, body: string, headers: Record<string, string>, attempt: DeliveryAttempt): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...headers },
    body,
    signal: attempt.signal,
    redirect: 'error',
  });
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  const text = (await response.text().catch(() => '')).replace(/\s+/g, ' ').trim().slice(0, 200);
  const message = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${text ? `: ${text}` : ''}`;
  throw isPermanent(response.status) ? new PermanentDeliveryError(`${message} (not retried: fix the destination)`) : new Error(message);
}

export class WebhookSender implements Sender {
  constructor(
    private readonly destination: WebhookDestination,
    private readonly nowS: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  async send(message: AlertMessage, attempt: DeliveryAttempt): Promise<void> {
    const body = JSON.stringify(message);
    // Signed at each attempt: a retry carries a fresh timestamp, so receivers' replay window still holds.
    await post(this.destination.url, body, {
      [SIGNATURE_HEADER]: signatureHeader(this.destination.secret, body, this.nowS()),
      [DELIVERY_HEADER]: attempt.deliveryId,
      [EVENT_HEADER]: message.event,
    }, attempt);
  }
}

const EVENT_EMOJI: Record<AlertEvent, string> = {
  failed: ':red_circle:',
  timeout: ':hourglass:',
  stuck: ':warning:',
  recovered: ':large_green_circle:',
  missed: ':grey_question:',
};

/** Slack's three characters to escape in mrkdwn text. */
function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The Slack body: `text` for notifications and clients without blocks, blocks for the details. */
export function slackPayload(message: AlertMessage): { text: string; blocks: unknown[] } {
  const headline = `${EVENT_EMOJI[message.event]} ${message.test ? '[test] ' : ''}${escapeSlack(message.summary)}`;
  const facts = [
    message.executionId ? `execution \`${message.executionId}\`` : undefined,
    message.attempt && message.attempt > 1 ? `attempt ${message.attempt}` : undefined,
    message.durationMs !== null ? `duration ${formatDuration(message.durationMs)}` : undefined,
    message.startedAt ? `started ${message.startedAt}` : undefined,
    `runner ${escapeSlack(message.runnerId)}`,
  ].filter((fact): fact is string => fact !== undefined);
  const blocks: unknown[] = [{ type: 'section', text: { type: 'mrkdwn', text: `*${headline}*` } }];
  if (message.errorMessage) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: '```' + escapeSlack(message.errorMessage.slice(0, 2500)) + '```' } });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: facts.join(' · ') }] });
  return { text: headline, blocks };
}

export class SlackSender implements Sender {
  constructor(private readonly destination: SlackDestination) {}

  async send(message: AlertMessage, attempt: DeliveryAttempt): Promise<void> {
    await post(this.destination.url, JSON.stringify(slackPayload(message)), {}, attempt);
  }
}
