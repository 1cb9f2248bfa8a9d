// The script versions runs launched: each version and each file content kept once (content-addressed), the
// version and git commit named on the execution, and what no kept execution names pruned with the retention.
import { sql } from 'kysely';
import type { ScriptFileInfo } from '../../shared/api';
import type { ScriptVersion } from '../scriptVersion';
import type { Db, Query } from './db';

/** Recording a version and pruning take turns under this advisory lock on PostgreSQL (SQLite has one writer). */
const SCRIPT_VERSIONS_LOCK = 7460203;

export interface StoredScriptFile {
  sha256: string;
  size: number;
  content: Buffer;
}

async function lock(db: Db, tx: Query): Promise<void> {
  if (db.kind === 'postgres') await sql`SELECT pg_advisory_xact_lock(${SCRIPT_VERSIONS_LOCK})`.execute(tx);
}

export class ScriptVersionStore {
  constructor(private readonly db: Db) {}

  /**
   * Names `version` on the execution; its files' contents and the version itself are written only when new,
   * so a script that did not change costs two look-ups and one update.
   */
  async record(executionId: string, version: ScriptVersion): Promise<void> {
    const gitCommit = version.git?.commit ?? null;
    const hash = version.hash;
    await this.db.transaction(async (tx) => {
      await lock(this.db, tx);
      if (hash !== null) {
        const known = await tx.selectFrom('script_versions').select('hash').where('hash', '=', hash).executeTakeFirst();
        if (!known) {
          const read = version.files.filter((file): file is typeof file & { sha256: string; content: Buffer } => file.sha256 !== undefined && file.content !== undefined);
          const shas = [...new Set(read.map((file) => file.sha256))];
          const stored = shas.length === 0 ? [] : await tx.selectFrom('script_files').select('sha256').where('sha256', 'in', shas).execute();
          const have = new Set(stored.map((row) => row.sha256));
          for (const file of read) {
            if (have.has(file.sha256)) continue;
            have.add(file.sha256);
            await tx.insertInto('script_files').values({ sha256: file.sha256, content: file.content, size: file.content.length }).execute();
          }
          await tx.insertInto('script_versions').values({ hash }).execute();
          await tx
            .insertInto('script_version_files')
            .values(version.files.map((file) => ({ version_hash: hash, path: file.path, size: file.size, sha256: file.sha256 ?? null, skipped: file.skipped ?? null })))
            .execute();
        }
      }
      await tx.updateTable('cron_executions').set({ script_version: hash, git_commit: gitCommit }).where('id', '=', executionId).execute();
    });
  }

  /** The files of a version, in path order; empty when the version is unknown (pruned, or never recorded). */
  async files(hash: string): Promise<ScriptFileInfo[]> {
    const rows = await this.db.q.selectFrom('script_version_files').select(['path', 'size', 'sha256', 'skipped']).where('version_hash', '=', hash).orderBy('path').execute();
    return rows.map((row) => ({ path: row.path, size: Number(row.size), sha256: row.sha256, skipped: row.skipped }));
  }

  /**
   * The latest completed run of `cronName` started before execution `beforeId` whose script version was
   * recorded: what a failure is compared with. Walks the (cron_name, started_at) index back from that run.
   */
  async lastSuccessfulId(cronName: string, beforeId: string): Promise<string | undefined> {
    const row = await this.db.q
      .selectFrom('cron_executions')
      .select('id')
      .where('cron_name', '=', cronName)
      .where('status', '=', 'completed')
      .where('script_version', 'is not', null)
      .where(sql<boolean>`(started_at, id) < (SELECT started_at, id FROM cron_executions WHERE id = ${beforeId})`)
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.id;
  }

  /** One file of a version as it was launched; undefined when the version has no such file or it was not read. */
  async file(hash: string, path: string): Promise<StoredScriptFile | undefined> {
    const row = await this.db.q
      .selectFrom('script_version_files as f')
      .innerJoin('script_files as c', 'c.sha256', 'f.sha256')
      .select(['c.sha256', 'c.size', 'c.content'])
      .where('f.version_hash', '=', hash)
      .where('f.path', '=', path)
      .executeTakeFirst();
    return row ? { sha256: row.sha256, size: row.size, content: Buffer.from(row.content) } : undefined;
  }
}

/**
 * Deletes the versions no execution names any more, then the contents no version holds: run by the retention
 * after it deleted old executions. Returns how many versions and contents went.
 */
export async function pruneScriptVersions(db: Db): Promise<{ versions: number; files: number }> {
  return db.transaction(async (tx) => {
    await lock(db, tx);
    const versions = await sql`DELETE FROM script_versions WHERE NOT EXISTS (SELECT 1 FROM cron_executions e WHERE e.script_version = script_versions.hash)`.execute(tx);
    const files = await sql`DELETE FROM script_files WHERE NOT EXISTS (SELECT 1 FROM script_version_files f WHERE f.sha256 = script_files.sha256)`.execute(tx);
    return { versions: Number(versions.numAffectedRows ?? 0), files: Number(files.numAffectedRows ?? 0) };
  });
}
