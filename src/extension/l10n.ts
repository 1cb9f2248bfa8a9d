// The extension's one translator: vscode.l10n.t (the English text is the key of media/l10n/bundle.l10n.*.json) and the
// display language that Intl formats follow. Modules that stay free of vscode take a Translate instead.
import * as vscode from 'vscode';
import type { Translate } from './format';

export const t: Translate = (message, ...args) => vscode.l10n.t(message, ...args);

/** VS Code's display language ("en", "fr"…), for Intl. */
export function displayLanguage(): string {
  return vscode.env.language || 'en';
}
