// The API token, kept in VS Code's SecretStorage (never in settings, never sent to the webview).
import * as vscode from 'vscode';

const SECRET_KEY = 'cronOps.token';

export class TokenStore implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires after sign-in or sign-out, in this window or another. */
  readonly onDidChange = this.changed.event;
  private readonly listener: vscode.Disposable;

  constructor(private readonly secrets: vscode.SecretStorage) {
    this.listener = secrets.onDidChange((event) => {
      if (event.key === SECRET_KEY) this.changed.fire();
    });
  }

  async get(): Promise<string | undefined> {
    const token = await this.secrets.get(SECRET_KEY);
    return token ? token : undefined;
  }

  async set(token: string): Promise<void> {
    await this.secrets.store(SECRET_KEY, token);
  }

  async clear(): Promise<void> {
    await this.secrets.delete(SECRET_KEY);
  }

  dispose(): void {
    this.listener.dispose();
    this.changed.dispose();
  }
}
