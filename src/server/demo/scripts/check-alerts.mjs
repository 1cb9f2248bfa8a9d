// Demo cron "check-alerts" (simulated): looks for critical alerts (budget, KB failures, stopped batch).
import { chance, log, randomInt, runJob, warn, work } from './lib/job.mjs';

runJob('check-alerts', async () => {
  log('Simulated run: the checks below read no real system');
  let alerts = 0;
  await work(500);
  log(`Budget check: OpenAI at ${randomInt(20, 79)}% of the monthly budget (simulated)`);
  await work(500);
  const failures = randomInt(0, 4);
  log(`KB failures check: ${failures} document(s) with score=50 in the last 24h (simulated)`);
  await work(500);
  if (chance(0.25)) {
    const minutes = randomInt(31, 90);
    warn(`indexing batch has not progressed for ${minutes} min (simulated)`);
    alerts += 1;
  } else {
    log('Batch check: indexing batch progressing normally (simulated)');
  }
  await work(300);
  log(alerts > 0 ? `${alerts} critical alert(s): email sent to admins (simulated)` : 'No critical alert');
});
