// Records what the dashboard and its page say to each other, through the extension's own events, and waits on
// them: the tests read the page's `rendered` reports instead of polling.
import type * as vscode from 'vscode';
import type { Dashboard } from '../../src/extension/dashboard/dashboardPanel';
import type { FromWebview, RenderedView, ToWebview } from '../../src/shared/messages';

export class DashboardRecorder implements vscode.Disposable {
  readonly received: FromWebview[] = [];
  readonly posted: ToWebview[] = [];
  private readonly subscriptions: vscode.Disposable[];

  constructor(readonly dashboard: Dashboard) {
    this.subscriptions = [dashboard.onDidReceive((message) => this.received.push(message)), dashboard.onDidPost((message) => this.posted.push(message))];
  }

  /** The last `rendered` report of the page. */
  lastRendered(): RenderedView | undefined {
    for (let i = this.received.length - 1; i >= 0; i--) {
      const message = this.received[i];
      if (message.type === 'rendered') return message.view;
    }
    return undefined;
  }

  /**
   * Resolves with the first message of `type` matching `predicate` among those received from index `after` on
   * (already received or still to come); rejects after `timeoutMs`.
   */
  waitForMessage<T extends FromWebview['type']>(
    type: T,
    predicate: (message: Extract<FromWebview, { type: T }>) => boolean = () => true,
    options: { timeoutMs?: number; after?: number } = {},
  ): Promise<Extract<FromWebview, { type: T }>> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const matches = (message: FromWebview): message is Extract<FromWebview, { type: T }> => message.type === type && predicate(message as Extract<FromWebview, { type: T }>);
    const earlier = this.received.slice(options.after ?? 0).find(matches);
    if (earlier) return Promise.resolve(earlier);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        subscription.dispose();
        const seen = this.received.filter((message) => message.type === type).slice(-2);
        reject(new Error(`No "${type}" message matching within ${timeoutMs} ms; last ones: ${JSON.stringify(seen).slice(0, 2000)}`));
      }, timeoutMs);
      const subscription = this.dashboard.onDidReceive((message) => {
        if (!matches(message)) return;
        clearTimeout(timer);
        subscription.dispose();
        resolve(message);
      });
    });
  }

  /** The first `rendered` view (from index `after`) for which `check` holds. */
  async rendered(check: (view: RenderedView) => boolean, after = 0, timeoutMs = 30_000): Promise<RenderedView> {
    return (await this.waitForMessage('rendered', (message) => check(message.view), { after, timeoutMs })).view;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}
