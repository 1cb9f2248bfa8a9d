// Queries on api_tokens: only the SHA-256 of a token is stored; the token itself is shown once.
import { createHash, randomBytes } from 'node:crypto';
import type { Role } from '../../shared/api';
import type { Db } from './db';

export interface TokenInfo {
  name: string;
  role: Role;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export class TokenStore {
  constructor(private readonly db: Db) {}

  /** Creates a token and returns it: the only time it exists in clear. */
  async create(name: string, role: Role): Promise<string> {
    const token = 'cop_' + randomBytes(24).toString('base64url');
    await this.db.query('INSERT INTO api_tokens (name, role, token_sha256) VALUES ($1, $2, $3)', [name, role, sha256(token)]);
    return token;
  }

  /** The token's name and role if it is known and not revoked. */
  async verify(token: string): Promise<{ name: string; role: Role } | undefined> {
    const rows = await this.db.query<{ name: string; role: Role }>(
      'SELECT name, role FROM api_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL',
      [sha256(token)],
    );
    if (!rows[0]) return undefined;
    await this.db.query(
      `UPDATE api_tokens SET last_used_at = now() WHERE name = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
      [rows[0].name],
    );
    return rows[0];
  }

  async list(): Promise<TokenInfo[]> {
    const rows = await this.db.query<{ name: string; role: Role; created_at: Date; last_used_at: Date | null; revoked_at: Date | null }>(
      'SELECT name, role, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY created_at',
    );
    const iso = (value: Date | null) => (value ? new Date(value).toISOString() : null);
    return rows.map((row) => ({ name: row.name, role: row.role, createdAt: iso(row.created_at)!, lastUsedAt: iso(row.last_used_at), revokedAt: iso(row.revoked_at) }));
  }

  async revoke(name: string): Promise<boolean> {
    const rows = await this.db.query('UPDATE api_tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL RETURNING name', [name]);
    return rows.length > 0;
  }

  async exists(name: string): Promise<boolean> {
    return (await this.db.query('SELECT 1 FROM api_tokens WHERE name = $1', [name])).length > 0;
  }

  async count(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_tokens');
    return row.n;
  }
}
