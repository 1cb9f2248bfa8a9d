// Who is calling: a bearer token (hashed in the store), the bootstrap admin token, or a machine with
// X-Cron-Secret. Secrets are compared in constant time. What each kind of caller may do is `allowed`.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Role } from '../shared/api';

export interface Caller {
  actor: string;
  role: Role | 'machine';
  /** The stored token's name; undefined for the bootstrap token and the machine secret. */
  tokenName?: string;
}

export type AuthResult = { ok: true; caller: Caller } | { ok: false; reason: string };

/**
 * read: any token. act: admin and up (pause, cancel, mark-failed). trigger: admin and up, or the machine
 * secret (the guide's scripts). retention: admin and up, or the machine secret. machine: the secret alone
 * (external start/complete). audit and tokens: super-admin. source (the content of the scripts a run
 * launched, which may hold credentials): admin and up, who may run those scripts anyway.
 */
export type Permission = 'read' | 'act' | 'trigger' | 'retention' | 'audit' | 'tokens' | 'machine' | 'source';

/** What the authenticator needs of the token store. */
export interface TokenVerifier {
  verify(token: string): Promise<{ name: string; role: Role } | undefined>;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export const MACHINE_ACTOR = 'machine:x-cron-secret';

export class Authenticator {
  constructor(
    private readonly tokens: TokenVerifier,
    private readonly adminToken: string | undefined,
    private readonly cronSecret: string,
  ) {}

  async identify(authorization: string | undefined, cronSecret: string | undefined): Promise<AuthResult> {
    if (cronSecret !== undefined) {
      return sameSecret(cronSecret, this.cronSecret)
        ? { ok: true, caller: { actor: MACHINE_ACTOR, role: 'machine' } }
        : { ok: false, reason: 'The X-Cron-Secret header does not match CRON_SECRET: check the secret the script uses.' };
    }
    if (!authorization) {
      return { ok: false, reason: 'Missing Authorization header: send "Authorization: Bearer <token>" (create one with `cron-ops-server token create`; in VS Code run "Cron Ops: Sign In").' };
    }
    const match = /^Bearer\s+(\S{1,512})\s*$/i.exec(authorization);
    if (!match) return { ok: false, reason: 'The Authorization header must be "Bearer <token>".' };
    const token = match[1];
    if (this.adminToken && sameSecret(token, this.adminToken)) return { ok: true, caller: { actor: 'env:CRON_OPS_ADMIN_TOKEN', role: 'super-admin' } };
    const known = await this.tokens.verify(token);
    if (!known) return { ok: false, reason: 'Unknown or revoked token: sign in again with a valid token (`cron-ops-server token list` shows the active ones).' };
    return { ok: true, caller: { actor: `token:${known.name}`, role: known.role, tokenName: known.name } };
  }
}

const MACHINE_LANE = 'X-Cron-Secret is for scripts: it may trigger, start and complete external runs (POST /api/cron/start, /api/cron/complete) and apply retention';

/** Whether a caller may do something; undefined when allowed, else the reason (which role it takes). */
export function allowed(caller: Caller, permission: Permission): string | undefined {
  const role = caller.role;
  const isAdmin = role === 'admin' || role === 'super-admin';
  switch (permission) {
    case 'read':
      return role === 'machine' ? `${MACHINE_LANE}: use a bearer token to read.` : undefined;
    case 'act':
      if (role === 'machine') return `${MACHINE_LANE}: pausing, cancelling and marking runs failed need an admin or super-admin token.`;
      return isAdmin ? undefined : 'Your token has the viewer role: triggering, cancelling and pausing need an admin or super-admin token.';
    case 'trigger':
    case 'retention':
      return role === 'machine' || isAdmin ? undefined : 'Your token has the viewer role: this needs an admin or super-admin token.';
    case 'audit':
      if (role === 'machine') return `${MACHINE_LANE}: only a super-admin token can read the audit trail.`;
      return role === 'super-admin' ? undefined : 'Only a super-admin token can read the audit trail.';
    case 'tokens':
      if (role === 'machine') return `${MACHINE_LANE}: only a super-admin token can manage tokens.`;
      return role === 'super-admin' ? undefined : 'Only a super-admin token can manage tokens.';
    case 'source':
      if (role === 'machine') return `${MACHINE_LANE}: reading a script's content needs an admin or super-admin token.`;
      return isAdmin ? undefined : 'Your token has the viewer role: the content of the scripts a run launched (they may hold credentials) needs an admin or super-admin token; the list of files and their hashes is readable.';
    case 'machine':
      return role === 'machine' ? undefined : 'This endpoint is for scripts: authenticate with the X-Cron-Secret header.';
  }
}
