// The demo that ships (no --config): the guide's seven crons, their scripts' log lines, and
// cleanup-executions really deleting executions older than the retention.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_PATHS, type Cron } from '../../src/shared/api';
import { allLogs, api, triggerOnceFree, waitForStatus } from '../support/http';
import { REPO_ROOT, startServer, type ServerProcess } from '../support/serverProcess';
import { withStoreSql } from '../support/storeSql';
import { waitFor } from '../support/waitFor';

const GUIDE = [
  { name: 'monitor-openai', description: 'Monitoring Budget OpenAI', schedule: '0 8 * * *', estimatedDurationMs: 5000 },
  { name: 'check-alerts', description: 'Vérification Alertes Système', schedule: '*/30 * * * *', estimatedDurationMs: 2000 },
  { name: 'refresh-mv-metadata', description: 'Rafraîchissement Vues Matérialisées', schedule: '0 */6 * * *', estimatedDurationMs: 8000 },
  { name: 'reanalyze-kb-failures', description: 'Réanalyse Échecs KB', schedule: '0 */4 * * *', estimatedDurationMs: 20000 },
  { name: 'index-kb-progressive', description: 'Indexation KB Progressive', schedule: '*/5 * * * *', estimatedDurationMs: 45000 },
  { name: 'acquisition-weekly', description: 'Acquisition Hebdomadaire', schedule: '0 2 * * 1', estimatedDurationMs: 30000 },
  { name: 'cleanup-executions', description: 'Nettoyage Anciennes Exécutions', schedule: '0 3 * * *', estimatedDurationMs: 1000 },
];
const STAMPED = /^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\] /;

/** The hour and weekday of an instant in Tunis. */
function tunis(iso: string): { hour: number; minute: number; weekday: string } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: 'Africa/Tunis', hour: 'numeric', minute: 'numeric', weekday: 'short', hourCycle: 'h23' })
      .formatToParts(new Date(iso))
      .map((part) => [part.type, part.value]),
  );
  return { hour: Number(parts.hour), minute: Number(parts.minute), weekday: parts.weekday };
}

describe('the demo crons (no --config)', function () {
  this.timeout(120_000);
  let server: ServerProcess | undefined;
  let dataDir: string;
  // The demo scripts' simulated waits, 20 times shorter.
  const start = async () => (server = await startServer({ args: ['--data', dataDir], env: { CRON_DEMO_SPEED: '20' } }));

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cron-ops-demo-'));
    await start();
  });

  after(async () => {
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("loads the guide's seven crons with their descriptions, schedules in Africa/Tunis and durations", async () => {
    const crons = (await api<{ crons: Cron[] }>(server!, API_PATHS.crons)).body.crons;
    assert.deepEqual(
      crons.map(({ name, description, schedule, estimatedDurationMs }) => ({ name, description, schedule, estimatedDurationMs })),
      GUIDE,
    );
    for (const cron of crons) {
      assert.equal(cron.timezone, 'Africa/Tunis');
      assert.ok(cron.timeoutMs > cron.estimatedDurationMs, `${cron.name}: a timeout above the estimate`);
      assert.equal(cron.enabled, true);
      assert.match(cron.command[cron.command.length - 1], new RegExp(`demo[\\\\/]scripts[\\\\/]${cron.name}\\.mjs$`));
      assert.ok(cron.nextRunAt, `${cron.name} has a next run`);
    }
    const byName = new Map(crons.map((cron) => [cron.name, cron]));
    const monitor = tunis(byName.get('monitor-openai')!.nextRunAt!);
    assert.deepEqual([monitor.hour, monitor.minute], [8, 0], 'monitor-openai at 08:00 in Tunis');
    assert.equal(tunis(byName.get('acquisition-weekly')!.nextRunAt!).weekday, 'Mon');
    assert.equal(tunis(byName.get('acquisition-weekly')!.nextRunAt!).hour, 2);
    assert.equal(tunis(byName.get('cleanup-executions')!.nextRunAt!).hour, 3);
    const batchSize = byName.get('index-kb-progressive')!.params.batchSize;
    assert.equal(batchSize.type, 'integer');
    assert.equal(batchSize.default, 2);
    assert.equal(batchSize.min, 1);
    assert.equal(batchSize.max, 50);
    assert.ok(batchSize.description);
  });

  it('monitor-openai prints the guide-like lines, labelled simulated', async () => {
    const id = await triggerOnceFree(server!, 'monitor-openai');
    const done = await waitForStatus(server!, id, 'completed');
    assert.equal(done.exitCode, 0);
    const lines = (await allLogs(server!, id)).lines.map((line) => line.line);
    assert.ok(lines.every((line) => STAMPED.test(line)), lines.join('\n'));
    assert.match(lines[0], /\] Starting monitor-openai$/);
    assert.ok(lines.some((line) => /OpenAI usage: \$\d+\.\d\d \/ \$10\.00 \(\d+\.\d%\)/.test(line)), lines.join('\n'));
    assert.ok(lines.some((line) => /simulated/i.test(line)));
    assert.match(lines[lines.length - 1], /\] Completed successfully \(\d+ms\)$/);
  });

  it('index-kb-progressive indexes CRON_PARAM_BATCHSIZE documents', async () => {
    const id = await triggerOnceFree(server!, 'index-kb-progressive', { batchSize: 3 });
    await waitForStatus(server!, id, 'completed');
    const lines = (await allLogs(server!, id)).lines.map((line) => line.line);
    assert.ok(lines.some((line) => /Batch size: 3\b/.test(line)), lines.join('\n'));
    assert.equal(lines.filter((line) => /Indexed kb-doc-\d+ \(\d\/3\)/.test(line)).length, 3, lines.join('\n'));
  });

  it('cleanup-executions deletes the executions older than 7 days (and their logs), keeps the others', async () => {
    const old = [await triggerOnceFree(server!, 'check-alerts')];
    await waitForStatus(server!, old[0], 'completed');
    old.push(await triggerOnceFree(server!, 'refresh-mv-metadata'));
    await waitForStatus(server!, old[1], 'completed');
    const recent = await triggerOnceFree(server!, 'acquisition-weekly');
    await waitForStatus(server!, recent, 'completed');
    await server!.stop();
    server = undefined;

    await withStoreSql(dataDir, async (query, dialect) => {
      // The guide's own query runs unchanged on PostgreSQL; on SQLite, the same question in its dialect.
      const guide = await query(
        dialect === 'postgres'
          ? `SELECT id, cron_name, status, duration_ms,
       TO_CHAR(started_at, 'HH24:MI:SS') as started
FROM cron_executions
WHERE cron_name = 'monitor-openai'
ORDER BY started_at DESC
LIMIT 1;`
          : `SELECT id, cron_name, status, duration_ms,
       strftime('%H:%M:%S', started_at) as started
FROM cron_executions
WHERE cron_name = 'monitor-openai'
ORDER BY started_at DESC
LIMIT 1;`,
      );
      assert.equal(guide.length, 1);
      assert.equal(guide[0].status, 'completed');
      assert.match(guide[0].started, /^\d\d:\d\d:\d\d$/);
      if (dialect === 'postgres') {
        await query(`UPDATE cron_executions SET started_at = now() - interval '10 days', completed_at = now() - interval '10 days' + interval '2 seconds' WHERE id = ANY($1::uuid[])`, [old]);
        await query(`UPDATE cron_executions SET started_at = now() - interval '3 days', completed_at = now() - interval '3 days' + interval '2 seconds' WHERE id = $1`, [recent]);
      } else {
        await query(`UPDATE cron_executions SET started_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-10 days'), completed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-10 days', '+2 seconds') WHERE id IN (SELECT value FROM json_each(?))`, [old]);
        await query(`UPDATE cron_executions SET started_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-3 days'), completed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-3 days', '+2 seconds') WHERE id = ?`, [recent]);
      }
      const logs = await query(dialect === 'postgres' ? `SELECT count(*)::int AS n FROM cron_execution_logs WHERE execution_id = ANY($1::uuid[])` : `SELECT count(*) AS n FROM cron_execution_logs WHERE execution_id IN (SELECT value FROM json_each(?))`, [old]);
      assert.ok(logs[0].n > 0, 'the old runs have log lines to delete');
    });

    await start();
    const id = await triggerOnceFree(server!, 'cleanup-executions');
    const done = await waitForStatus(server!, id, 'completed');
    assert.equal(done.exitCode, 0);
    const lines = (await allLogs(server!, id)).lines.map((line) => line.line);
    assert.ok(lines.some((line) => /Deleted 2 executions older than 7 days/.test(line)), lines.join('\n'));
    for (const gone of old) assert.equal((await api(server!, API_PATHS.execution(gone))).status, 404, `${gone} deleted`);
    assert.equal((await api(server!, API_PATHS.execution(recent))).status, 200, 'the 3-day-old run is kept');
    assert.equal((await api(server!, API_PATHS.execution(id))).status, 200);
    await server!.stop();
    server = undefined;
    await withStoreSql(dataDir, async (query, dialect) => {
      const logs = await query(dialect === 'postgres' ? `SELECT count(*)::int AS n FROM cron_execution_logs WHERE execution_id = ANY($1::uuid[])` : `SELECT count(*) AS n FROM cron_execution_logs WHERE execution_id IN (SELECT value FROM json_each(?))`, [old]);
      assert.equal(logs[0].n, 0, 'their log lines went with them');
    });
    await start();
  });

  it('cleanup-executions exits 1 with a clear message when the server is unreachable or refuses', async () => {
    const script = join(REPO_ROOT, 'dist', 'demo', 'scripts', 'cleanup-executions.mjs');
    const run = (env: Record<string, string>) => spawnSync(process.execPath, [script], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 30_000 });
    const refused = run({ CRON_TRIGGER_SERVER_URL: server!.url, CRON_SECRET: 'not-the-secret' });
    assert.equal(refused.status, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /refused[^\n]*401/);
    const unreachable = run({ CRON_TRIGGER_SERVER_URL: 'http://127.0.0.1:1', CRON_SECRET: 'x' });
    assert.equal(unreachable.status, 1);
    assert.match(unreachable.stderr, /Cannot reach the trigger server at http:\/\/127\.0\.0\.1:1/);
    const unset = run({});
    assert.equal(unset.status, 1);
    assert.match(unset.stderr, /CRON_TRIGGER_SERVER_URL/);
  });

  it('a demo script stops on SIGTERM with a line and exit code 143', async () => {
    const script = join(REPO_ROOT, 'dist', 'demo', 'scripts', 'acquisition-weekly.mjs');
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
    await waitFor(() => output.includes('Starting acquisition-weekly'), 'the first line');
    child.kill('SIGTERM');
    assert.equal(await exited, 143);
    assert.match(output, /SIGTERM/);
  });
});
