// Queries on cron_execution_logs: batched appends and reads after a sequence number.
import type { LogLine, LogStream } from '../../shared/api';
import type { Db } from './db';

export class LogStore {
  constructor(private readonly db: Db) {}

  async append(executionId: string, lines: LogLine[]): Promise<void> {
    if (lines.length === 0) return;
    await this.db.query(
      `INSERT INTO cron_execution_logs (execution_id, seq, at, stream, line)
       SELECT $1, * FROM unnest($2::int[], $3::timestamptz[], $4::text[], $5::text[])`,
      [executionId, lines.map((l) => l.seq), lines.map((l) => l.at), lines.map((l) => l.stream), lines.map((l) => l.line)],
    );
    // Other instances' followers fetch the new lines (one embedded store has no other instance).
    if (this.db.kind === 'postgres') await this.db.query('SELECT pg_notify($1, $2)', ['cron_ops_logs', JSON.stringify({ executionId })]);
  }

  async after(executionId: string, afterSeq: number, limit: number): Promise<LogLine[]> {
    const rows = await this.db.query<{ seq: number; at: Date | string; stream: LogStream; line: string }>(
      `SELECT seq, at, stream, line FROM cron_execution_logs WHERE execution_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [executionId, afterSeq, limit],
    );
    return rows.map((row) => ({ seq: row.seq, at: new Date(row.at).toISOString(), stream: row.stream, line: row.line }));
  }
}
