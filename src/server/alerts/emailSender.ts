// E-mail over SMTP through nodemailer: one short message per alert, the summary as its subject.
import nodemailer, { type Transporter } from 'nodemailer';
import type { AlertMessage } from '../../shared/alerts';
import { formatDuration } from '../../shared/format';
import type { EmailDestination } from './alertConfig';
import { PermanentDeliveryError, type DeliveryAttempt, type Sender } from './sender';

/** Subject and plain-text body of an alert e-mail. */
export function emailContent(message: AlertMessage): { subject: string; text: string } {
  const subject = `[Cron Ops]${message.test ? ' [test]' : ''} ${message.summary}`.replace(/\s+/g, ' ');
  const lines = [
    message.summary,
    '',
    `Event: ${message.event}`,
    `Cron: ${message.cronName}`,
    message.executionId ? `Execution: ${message.executionId}` : undefined,
    message.attempt ? `Attempt: ${message.attempt}${message.retryOf ? ` (retry of ${message.retryOf})` : ''}` : undefined,
    message.status ? `Status: ${message.status}` : undefined,
    message.startedAt ? `Started: ${message.startedAt}` : undefined,
    message.durationMs !== null ? `Duration: ${formatDuration(message.durationMs)}` : undefined,
    message.tickAt ? `Scheduled for: ${message.tickAt}` : undefined,
    `Raised by runner ${message.runnerId} at ${message.at}`,
    message.errorMessage ? `\nError:\n${message.errorMessage}` : undefined,
  ];
  return { subject: subject.length > 200 ? subject.slice(0, 199) + '…' : subject, text: lines.filter((line) => line !== undefined).join('\n') + '\n' };
}

export class EmailSender implements Sender {
  private transporter: Transporter | undefined;

  constructor(
    private readonly destination: EmailDestination,
    private readonly timeoutMs: number,
  ) {}

  private transport(): Transporter {
    const { host, port, secure, user, password } = this.destination;
    this.transporter ??= nodemailer.createTransport({
      host,
      port,
      secure,
      ...(user !== null && password !== null ? { auth: { user, pass: password } } : {}),
      connectionTimeout: this.timeoutMs,
      greetingTimeout: this.timeoutMs,
      socketTimeout: this.timeoutMs,
    });
    return this.transporter;
  }

  async send(message: AlertMessage, attempt: DeliveryAttempt): Promise<void> {
    const { subject, text } = emailContent(message);
    const sending = this.transport().sendMail({
      from: this.destination.from,
      to: this.destination.to,
      subject,
      text,
      headers: { 'X-Cron-Ops-Alert': message.id, 'X-Cron-Ops-Delivery': attempt.deliveryId, 'X-Cron-Ops-Event': message.event },
    });
    // A send that loses the race to the timeout still settles later: its error is not an unhandled one.
    sending.catch(() => undefined);
    const aborted = new Promise<never>((_, reject) => {
      if (attempt.signal.aborted) reject(attempt.signal.reason);
      attempt.signal.addEventListener('abort', () => reject(attempt.signal.reason), { once: true });
    });
    try {
      await Promise.race([sending, aborted]);
    } catch (error) {
      // 5xx replies are permanent in SMTP (refused recipient, sender or credentials); 4xx and network errors are not.
      const code = (error as { responseCode?: number }).responseCode;
      if (code !== undefined && code >= 500 && code < 600) {
        throw new PermanentDeliveryError(`${(error as Error).message} (not retried: fix the destination)`);
      }
      throw error;
    }
  }

  close(): void {
    this.transporter?.close();
  }
}
