// Typed access to the cronOps.* settings and one listener for their changes.
import * as vscode from 'vscode';
import { parseNotifyMode, type NotifyMode } from './notifyPolicy';

export const DEFAULT_SERVER_URL = 'http://127.0.0.1:9998';

export type SettingName = 'serverUrl' | 'servers' | 'confirmBeforeTrigger' | 'refreshIntervalSeconds' | 'historyLimit' | 'pathMappings' | 'notify';

export class Settings implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ReadonlySet<SettingName>>();
  /** Fires with the settings that changed. */
  readonly onDidChange = this.changed.event;
  private readonly listener: vscode.Disposable;

  constructor() {
    this.listener = vscode.workspace.onDidChangeConfiguration((event) => {
      if (!event.affectsConfiguration('cronOps')) return;
      const names = (['serverUrl', 'servers', 'confirmBeforeTrigger', 'refreshIntervalSeconds', 'historyLimit', 'pathMappings', 'notify'] as const).filter((name) =>
        event.affectsConfiguration(`cronOps.${name}`),
      );
      if (names.length) this.changed.fire(new Set(names));
    });
  }

  private get config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration('cronOps');
  }

  /** The server's base URL, without a trailing slash. */
  get serverUrl(): string {
    const value = this.config.get<string>('serverUrl', DEFAULT_SERVER_URL).trim();
    return (value || DEFAULT_SERVER_URL).replace(/\/+$/, '');
  }

  /** The raw `cronOps.servers` list; serverList.ts resolves it (with serverUrl as the default entry). */
  get servers(): unknown {
    return this.config.get<unknown>('servers', []);
  }

  get confirmBeforeTrigger(): boolean {
    return this.config.get<boolean>('confirmBeforeTrigger', true);
  }

  /** Seconds between full reloads (the event stream keeps things live in between); at least 5. */
  get refreshIntervalSeconds(): number {
    const value = this.config.get<number>('refreshIntervalSeconds', 30);
    return Number.isFinite(value) ? Math.max(5, value) : 30;
  }

  /** Executions shown under each cron, 1 to 100. */
  get historyLimit(): number {
    const value = this.config.get<number>('historyLimit', 10);
    return Number.isFinite(value) ? Math.min(100, Math.max(1, Math.round(value))) : 10;
  }

  /** Which finished runs get a notification: mine (default), failures, all or off. */
  get notify(): NotifyMode {
    return parseNotifyMode(this.config.get<unknown>('notify', 'mine'));
  }

  /** Server path prefix -> workspace folder, to find the files a failed run's traces name; only string targets kept. */
  get pathMappings(): Readonly<Record<string, string>> {
    const value = this.config.get<unknown>('pathMappings', {});
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
    return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[0].length > 0));
  }

  dispose(): void {
    this.listener.dispose();
    this.changed.dispose();
  }
}
