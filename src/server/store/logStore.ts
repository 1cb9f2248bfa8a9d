// Queries on cron_execution_logs: batched appends and reads after a sequence number.
import { sql } from 'kysely';
import type { LogLine } from '../../shared/api';
import type { Db } from './db';
import { isoOf } from './dialect';

const APPEND_CHUNK = 1000;

export class LogStore {
  constructor(private readonly db: Db) {}

  async append(executionId: string, lines: LogLine[]): Promise<void> {
    if (lines.length === 0) return;
    // Chunks keep each statement under both stores' limits on bound parameters.
    for (let start = 0; start < lines.length; start += APPEND_CHUNK) {
      await this.db.q
        .insertInto('cron_execution_logs')
        .values(lines.slice(start, start + APPEND_CHUNK).map((line) => ({ execution_id: executionId, seq: line.seq, at: isoOf(line.at), stream: line.stream, line: line.line })))
        .execute();
    }
    // Other instances' followers fetch the new lines (one embedded store has no other instance).
    if (this.db.kind === 'postgres') await sql`SELECT pg_notify(${'cron_ops_logs'}, ${JSON.stringify({ executionId })})`.execute(this.db.q);
  }

  async after(executionId: string, afterSeq: number, limit: number): Promise<LogLine[]> {
    const rows = await this.db.q
      .selectFrom('cron_execution_logs')
      .select(['seq', 'at', 'stream', 'line'])
      .where('execution_id', '=', executionId)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ seq: row.seq, at: isoOf(row.at), stream: row.stream, line: row.line }));
  }
}
