// The context keys that menus and welcome views read (`when` clauses), set once per change. Keeps the values
// it set, so the extension (and its tests) can tell what the menus currently offer.
import * as vscode from 'vscode';

export class ContextKeys {
  private readonly values = new Map<string, unknown>();

  set(key: string, value: unknown): void {
    if (this.values.has(key) && this.values.get(key) === value) return;
    this.values.set(key, value);
    void vscode.commands.executeCommand('setContext', key, value);
  }

  get(key: string): unknown {
    return this.values.get(key);
  }
}
