// Queries on api_tokens: only the SHA-256 of a token is stored; the token itself is shown once.
import { createHash, randomBytes } from 'node:crypto';
import type { Role, TokenInfo } from '../../shared/api';
import { now, type Db } from './db';
import { ago, isoOf } from './dialect';


export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export class TokenStore {
  constructor(private readonly db: Db) {}

  /** Creates a token and returns it: the only time it exists in clear. */
  async create(name: string, role: Role): Promise<string> {
    const token = 'cop_' + randomBytes(24).toString('base64url');
    await this.db.q.insertInto('api_tokens').values({ name, role, token_sha256: sha256(token), created_at: now(this.db) }).execute();
    return token;
  }

  /** The token's name and role if it is known and not revoked. */
  async verify(token: string): Promise<{ name: string; role: Role } | undefined> {
    const row = await this.db.q
      .selectFrom('api_tokens')
      .select(['name', 'role'])
      .where('token_sha256', '=', sha256(token))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (!row) return undefined;
    // Best effort: a store that refuses writes for now (locked by the sqlite3 shell, read-only, full) must
    // not turn every read into an error; the time is written at the next use after it recovers.
    await this.db.q
      .updateTable('api_tokens')
      .set({ last_used_at: now(this.db) })
      .where('name', '=', row.name)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', ago(this.db, 60))]))
      .execute()
      .catch(() => undefined);
    return row;
  }

  async list(): Promise<TokenInfo[]> {
    const rows = await this.db.q.selectFrom('api_tokens').select(['name', 'role', 'created_at', 'last_used_at', 'revoked_at']).orderBy('created_at').execute();
    return rows.map((row) => ({
      name: row.name,
      role: row.role,
      createdAt: isoOf(row.created_at),
      lastUsedAt: row.last_used_at === null ? null : isoOf(row.last_used_at),
      revokedAt: row.revoked_at === null ? null : isoOf(row.revoked_at),
    }));
  }

  async revoke(name: string): Promise<boolean> {
    const rows = await this.db.q.updateTable('api_tokens').set({ revoked_at: now(this.db) }).where('name', '=', name).where('revoked_at', 'is', null).returning('name').execute();
    return rows.length > 0;
  }

  async exists(name: string): Promise<boolean> {
    return (await this.db.q.selectFrom('api_tokens').select('name').where('name', '=', name).executeTakeFirst()) !== undefined;
  }

  async count(): Promise<number> {
    const row = await this.db.q.selectFrom('api_tokens').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
