// Demo cron "refresh-mv-metadata" (simulated): refreshes the dashboard's materialized views.
import { log, randomInt, runJob, work } from './lib/job.mjs';

const views = ['mv_kb_quality_stats', 'mv_document_metadata', 'mv_cron_daily_stats', 'mv_dashboard_kpis'];

runJob('refresh-mv-metadata', async () => {
  log('Simulated run: no database is touched');
  for (const view of views) {
    const started = Date.now();
    await work(1900);
    log(`REFRESH MATERIALIZED VIEW CONCURRENTLY ${view}: ${randomInt(200, 9000)} rows (${Date.now() - started}ms, simulated)`);
  }
  log(`Refreshed ${views.length} materialized views (simulated)`);
});
