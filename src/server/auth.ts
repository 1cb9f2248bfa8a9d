// Who is calling: a bearer token (hashed in the store), the bootstrap admin token, or a machine with
// X-Cron-Secret. Secrets are compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Role } from '../shared/api';
import type { TokenStore } from './store/tokenStore';

export interface Caller {
  actor: string;
  role: Role | 'machine';
}

export type AuthResult = { ok: true; caller: Caller } | { ok: false; reason: string };

export type Permission = 'read' | 'act' | 'audit' | 'machine';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export class Authenticator {
  constructor(
    private readonly tokens: TokenStore,
    private readonly adminToken: string | undefined,
    private readonly cronSecret: string,
  ) {}

  async identify(authorization: string | undefined, cronSecret: string | undefined): Promise<AuthResult> {
    if (cronSecret !== undefined) {
      return sameSecret(cronSecret, this.cronSecret)
        ? { ok: true, caller: { actor: 'machine:x-cron-secret', role: 'machine' } }
        : { ok: false, reason: 'The X-Cron-Secret header does not match CRON_SECRET: check the secret the script uses.' };
    }
    if (!authorization) {
      return { ok: false, reason: 'Missing Authorization header: send "Authorization: Bearer <token>" (create one with `cron-ops-server token create`; in VS Code run "Cron Ops: Sign In").' };
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) return { ok: false, reason: 'The Authorization header must be "Bearer <token>".' };
    const token = match[1];
    if (this.adminToken && sameSecret(token, this.adminToken)) return { ok: true, caller: { actor: 'env:CRON_OPS_ADMIN_TOKEN', role: 'super-admin' } };
    const known = await this.tokens.verify(token);
    if (!known) return { ok: false, reason: 'Unknown or revoked token: sign in again with a valid token (`cron-ops-server token list` shows the active ones).' };
    return { ok: true, caller: { actor: `token:${known.name}`, role: known.role } };
  }
}

/** Whether a caller may do something; the reason says what role it takes. */
export function allowed(caller: Caller, permission: Permission): string | undefined {
  const role = caller.role;
  switch (permission) {
    case 'read':
      return role === 'machine' ? 'X-Cron-Secret authenticates scripts for triggers and start/complete only: use a bearer token to read.' : undefined;
    case 'act':
      return role === 'viewer' ? 'Your token has the viewer role: triggering, cancelling and pausing need an admin or super-admin token.' : undefined;
    case 'audit':
      return role === 'super-admin' ? undefined : 'Only a super-admin token can read the audit trail.';
    case 'machine':
      return role === 'machine' ? undefined : 'This endpoint is for scripts: authenticate with the X-Cron-Secret header.';
  }
}
