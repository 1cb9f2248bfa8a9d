// The API tokens, kept in VS Code's SecretStorage (never in settings, never sent to the webview), one per
// server origin: pointing cronOps.serverUrl elsewhere never sends the previous server's token there.
import * as vscode from 'vscode';
import { originOf } from './serverOrigin';

const KEY_PREFIX = 'cronOps.token:';
/** Where versions before per-origin storage kept the one token. */
const LEGACY_KEY = 'cronOps.token';

export class TokenStore implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires after sign-in or sign-out for the current server, in this window or another. */
  readonly onDidChange = this.changed.event;
  private readonly listener: vscode.Disposable;
  private migrated: Promise<void> | undefined;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly serverUrl: () => string,
    /** Only the cronOps.serverUrl server inherits the token stored before tokens were kept per origin. */
    private readonly inheritsLegacyToken = true,
  ) {
    this.listener = secrets.onDidChange((event) => {
      if (event.key === this.key()) this.changed.fire();
    });
  }

  /** The origin the current server URL names. */
  get origin(): string {
    return originOf(this.serverUrl());
  }

  private key(origin = this.origin): string {
    return KEY_PREFIX + origin;
  }

  /** The token of the current server (or of `origin`). */
  async get(origin = this.origin): Promise<string | undefined> {
    await this.migrate();
    const token = await this.secrets.get(this.key(origin));
    return token ? token : undefined;
  }

  /** Stores a token for `origin` (the server it was checked with), the current one by default. */
  async set(token: string, origin = this.origin): Promise<void> {
    await this.secrets.store(this.key(origin), token);
  }

  async clear(origin = this.origin): Promise<void> {
    await this.secrets.delete(this.key(origin));
  }

  /** A token stored before tokens were kept per origin belongs to the server configured then: the current one. */
  private migrate(): Promise<void> {
    this.migrated ??= (async () => {
      if (!this.inheritsLegacyToken) return;
      const legacy = await this.secrets.get(LEGACY_KEY);
      if (!legacy) return;
      if (!(await this.secrets.get(this.key()))) await this.secrets.store(this.key(), legacy);
      await this.secrets.delete(LEGACY_KEY);
    })();
    return this.migrated;
  }

  dispose(): void {
    this.listener.dispose();
    this.changed.dispose();
  }
}
