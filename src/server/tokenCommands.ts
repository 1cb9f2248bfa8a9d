// `token create | list | revoke`: run on the store directly when no server holds it, or by the running
// server on behalf of the CLI through the data folder's control socket (controlSocket.ts). Either way the
// change is audited and takes effect at once (every request checks its token against the store).
import { ROLES, type Role } from '../shared/api';
import type { AuditStore } from './store/auditStore';
import type { TokenStore } from './store/tokenStore';

export class TokenCommandError extends Error {}

export interface TokenCommand {
  action: string;
  name?: string;
  role?: string;
  /** Who runs it: `cli:user@host`. */
  actor: string;
}

const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Runs the command; resolves with what the CLI prints (the new token alone on the last line). */
export async function runTokenCommand(tokens: TokenStore, audit: AuditStore, command: TokenCommand): Promise<string> {
  const { action, name, role, actor } = command;
  switch (action) {
    case 'create': {
      if (!name) throw new TokenCommandError('token create needs --name NAME');
      if (!TOKEN_NAME.test(name)) throw new TokenCommandError(`Token name "${name}" must be letters, digits, dot, dash or underscore (at most 64).`);
      if (!ROLES.includes(role as Role)) throw new TokenCommandError(`token create needs --role ${ROLES.join('|')}`);
      if (await tokens.exists(name)) throw new TokenCommandError(`A token named "${name}" exists already: choose another name, or revoke it first.`);
      const token = await tokens.create(name, role as Role);
      await audit.record({ actor, role: null, action: 'token.create', target: name, details: { role } });
      return `Created ${role} token "${name}". It is shown once; keep it safe:\n${token}\n`;
    }
    case 'list': {
      const list = await tokens.list();
      if (list.length === 0) return 'No tokens yet: create one with `cron-ops-server token create --name NAME --role admin`.\n';
      return list
        .map((token) => `${token.name}\t${token.role}\tcreated ${token.createdAt}\tlast used ${token.lastUsedAt ?? 'never'}${token.revokedAt ? `\tREVOKED ${token.revokedAt}` : ''}\n`)
        .join('');
    }
    case 'revoke': {
      if (!name) throw new TokenCommandError('token revoke needs the token name');
      if (!(await tokens.revoke(name))) throw new TokenCommandError(`No active token named "${name}" (see \`cron-ops-server token list\`).`);
      await audit.record({ actor, role: null, action: 'token.revoke', target: name });
      return `Revoked token "${name}".\n`;
    }
    default:
      throw new TokenCommandError(`Unknown token command "${action}": use create, list or revoke.`);
  }
}
