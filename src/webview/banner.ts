// The connection banner: shown when the extension is signed out, connecting, disconnected or has an error.
import type { DashboardConnection } from '../shared/messages';
import { h, setText } from './dom';
import { t } from './strings';

export class ConnectionBanner {
  readonly element: HTMLElement;
  private readonly text = h('span', { className: 'banner-text' });
  private readonly action: HTMLButtonElement;
  private onAction: () => void = () => undefined;

  constructor() {
    this.action = h('button', { className: 'secondary', on: { click: () => this.onAction() } });
    this.element = h('div', { className: 'banner', attrs: { role: 'status', 'aria-live': 'polite' } }, this.text, this.action);
    this.element.hidden = true;
  }

  render(connection: DashboardConnection, error: string | null, actions: { signIn(): void; retry(): void }): void {
    const detail = error ? ` ${t('bannerError', error)}` : '';
    let message = '';
    let kind = 'info';
    switch (connection) {
      case 'connected':
        message = error ? t('bannerError', error) : '';
        kind = 'warning';
        this.setAction(null);
        break;
      case 'connecting':
        message = t('bannerConnecting');
        this.setAction(null);
        break;
      case 'disconnected':
        message = t('bannerDisconnected') + detail;
        kind = 'error';
        this.setAction(t('retry'), actions.retry);
        break;
      case 'signedOut':
        message = t('bannerSignedOut');
        kind = 'warning';
        this.setAction(t('signIn'), actions.signIn);
        break;
      default:
        return assertNever(connection);
    }
    this.element.hidden = !message;
    this.element.className = `banner ${kind}`;
    setText(this.text, message);
  }

  private setAction(label: string | null, run: () => void = () => undefined): void {
    this.action.hidden = label === null;
    if (label !== null) setText(this.action, label);
    this.onAction = run;
  }
}

export function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${JSON.stringify(value)}`);
}
