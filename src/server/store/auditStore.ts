// Queries on audit_log: who did what, to what, from where; refusals included.
import type { AuditEntry, Role } from '../../shared/api';
import type { Db } from './db';

export interface AuditRecord {
  actor: string;
  role: Role | 'machine' | null;
  action: string;
  target?: string | null;
  details?: Record<string, unknown>;
  clientAddress?: string | null;
}

export class AuditStore {
  constructor(private readonly db: Db) {}

  async record(entry: AuditRecord): Promise<void> {
    await this.db.query(
      'INSERT INTO audit_log (actor, role, action, target, details, client_address) VALUES ($1, $2, $3, $4, $5, $6)',
      [entry.actor, entry.role, entry.action, entry.target ?? null, JSON.stringify(entry.details ?? {}), entry.clientAddress ?? null],
    );
  }

  /** Deletes entries older than `days` days (the daily retention); returns how many went. */
  async prune(days: number): Promise<number> {
    const rows = await this.db.query<{ n: number }>(
      `WITH gone AS (DELETE FROM audit_log WHERE at < now() - make_interval(days => $1) RETURNING 1) SELECT count(*)::int AS n FROM gone`,
      [days],
    );
    return rows[0].n;
  }

  async list(limit: number, filter: { action?: string; actor?: string } = {}): Promise<AuditEntry[]> {
    const rows = await this.db.query<{ id: string | number; at: Date | string; actor: string; role: AuditEntry['role']; action: string; target: string | null; details: Record<string, unknown> | string; client_address: string | null }>(
      `SELECT id, at, actor, role, action, target, details, client_address FROM audit_log
       WHERE ($1::text IS NULL OR action = $1) AND ($2::text IS NULL OR actor = $2)
       ORDER BY id DESC LIMIT $3`,
      [filter.action ?? null, filter.actor ?? null, limit],
    );
    return rows.map((row) => ({
      id: Number(row.id),
      at: new Date(row.at).toISOString(),
      actor: row.actor,
      role: row.role,
      action: row.action,
      target: row.target,
      details: typeof row.details === 'string' ? JSON.parse(row.details) : row.details,
      clientAddress: row.client_address,
    }));
  }
}
