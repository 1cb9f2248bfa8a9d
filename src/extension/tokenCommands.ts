// Manage Tokens (super-admin): list the server's API tokens, create one (shown once, copied on request) and
// revoke one, through GET/POST /api/admin/tokens and DELETE /api/admin/tokens/:name.
import * as vscode from 'vscode';
import { ROLES, type Role, type TokenInfo } from '../shared/api';
import { formatRelative } from '../shared/format';
import type { ApiClient } from './apiClient';
import type { Servers } from './servers';
import type { Clock } from './clock';
import { showFailure } from './errorNotifications';
import { displayLanguage, t } from './l10n';
import type { Logger } from './logger';

const TOKEN_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

type Item = vscode.QuickPickItem & { token?: TokenInfo; create?: true };

export function registerTokenCommands(context: vscode.ExtensionContext, deps: { servers: Servers; clock: Clock; log: Logger }): void {
  const { servers, clock } = deps;
  const log = deps.log.child('Tokens');

  const describeToken = (token: TokenInfo): string => {
    const now = clock.now();
    const locale = displayLanguage();
    const parts = [token.role, t('created {0}', formatRelative(Date.parse(token.createdAt), now, locale))];
    parts.push(token.lastUsedAt ? t('last used {0}', formatRelative(Date.parse(token.lastUsedAt), now, locale)) : t('never used'));
    if (token.revokedAt) parts.unshift(t('revoked'));
    return parts.join(' · ');
  };

  const create = async (client: ApiClient): Promise<void> => {
    const name = await vscode.window.showInputBox({
      title: t('Create Token: name'),
      prompt: t('Lowercase letters, digits and dashes, e.g. alice-laptop'),
      ignoreFocusOut: true,
      validateInput: (value) => (TOKEN_NAME.test(value.trim()) ? undefined : t('Use lowercase letters, digits and dashes (up to 63), starting with a letter or digit.')),
    });
    if (!name) return;
    const role = await vscode.window.showQuickPick(
      ROLES.map((candidate) => ({ label: candidate, role: candidate as Role })),
      { title: t('Create Token: role of {0}', name.trim()), placeHolder: t('viewer reads; admin and super-admin act; super-admin also manages tokens and reads the audit trail') },
    );
    if (!role) return;
    const reply = await client.createToken(name.trim(), role.role);
    log.info(`Created token ${reply.name} (${reply.role})`);
    const copy = t('Copy Token');
    const picked = await vscode.window.showInformationMessage(t('Token {0} ({1}) created. Copy it now: it is shown only once.', reply.name, reply.role), { modal: true, detail: reply.token }, copy);
    if (picked === copy) await vscode.env.clipboard.writeText(reply.token);
  };

  const revoke = async (client: ApiClient, token: TokenInfo): Promise<void> => {
    const action: vscode.MessageItem = { title: t('Revoke') };
    const keep: vscode.MessageItem = { title: t('Keep Token'), isCloseAffordance: true };
    const picked = await vscode.window.showWarningMessage(
      t('Revoke token {0} ({1})?', token.name, token.role),
      { modal: true, detail: t('Whoever uses it is refused from then on, this window included if it is yours.') },
      action,
      keep,
    );
    if (picked !== action) return;
    await client.revokeToken(token.name);
    log.info(`Revoked token ${token.name}`);
    void vscode.window.showInformationMessage(t('Token {0} revoked.', token.name));
  };

  const manage = async (arg?: unknown): Promise<void> => {
    const server = await servers.ask(arg, t('Manage the tokens of which server?'));
    if (!server) return;
    const { client } = server;
    try {
      const tokens = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: t('Cron Ops: loading tokens…') }, () => client.tokens());
      const items: Item[] = [
        { label: `$(add) ${t('Create Token…')}`, create: true },
        ...tokens.map((token) => ({ label: `$(${token.revokedAt ? 'circle-slash' : 'key'}) ${token.name}`, description: describeToken(token), token })),
      ];
      const picked = await vscode.window.showQuickPick(items, { title: servers.several ? t('Cron Ops: Manage Tokens of {0}', server.name) : t('Cron Ops: Manage Tokens'), placeHolder: t('Create a token, or pick one to revoke it') });
      if (!picked) return;
      if (picked.create) await create(client);
      else if (picked.token && !picked.token.revokedAt) await revoke(client, picked.token);
      else if (picked.token) void vscode.window.showInformationMessage(t('Token {0} is already revoked.', picked.token.name));
    } catch (error) {
      showFailure(error, log, 'Manage Tokens');
    }
  };

  context.subscriptions.push(vscode.commands.registerCommand('cronOps.manageTokens', manage));
}
