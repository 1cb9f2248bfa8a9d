// Queries on audit_log: who did what, to what, from where; refusals included.
import type { AuditEntry, Role } from '../../shared/api';
import type { Db } from './db';
import { ago, isoOf } from './dialect';
import { turnCommitOf } from './turnCommit';

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
    // In the turn's commit with the runs it is about (turnCommit.ts): one commit fewer for each trigger.
    await turnCommitOf(this.db).run((q) =>
      q
        .insertInto('audit_log')
        .values({
          actor: entry.actor,
          role: entry.role,
          action: entry.action,
          target: entry.target ?? null,
          details: JSON.stringify(entry.details ?? {}),
          client_address: entry.clientAddress ?? null,
        })
        .execute(),
    );
  }

  /** Deletes entries older than `days` days (the daily retention); returns how many went. */
  async prune(days: number): Promise<number> {
    const result = await this.db.q.deleteFrom('audit_log').where('at', '<', ago(this.db, days * 86_400)).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async list(limit: number, filter: { action?: string; actor?: string } = {}): Promise<AuditEntry[]> {
    let query = this.db.q.selectFrom('audit_log').select(['id', 'at', 'actor', 'role', 'action', 'target', 'details', 'client_address']);
    if (filter.action) query = query.where('action', '=', filter.action);
    if (filter.actor) query = query.where('actor', '=', filter.actor);
    const rows = await query.orderBy('id', 'desc').limit(limit).execute();
    return rows.map((row) => ({
      id: Number(row.id),
      at: isoOf(row.at),
      actor: row.actor,
      role: row.role as AuditEntry['role'],
      action: row.action,
      target: row.target,
      details: (typeof row.details === 'string' ? JSON.parse(row.details) : row.details) as Record<string, unknown>,
      clientAddress: row.client_address,
    }));
  }
}
