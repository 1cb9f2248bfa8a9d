// Demo cron "reanalyze-kb-failures" (simulated): retries the quality analysis of KB documents scored 50.
import { chance, log, randomInt, runJob, work } from './lib/job.mjs';

runJob('reanalyze-kb-failures', async () => {
  log('Simulated run: no document is analysed, the scores below are made up');
  await work(1000);
  const count = randomInt(5, 9);
  log(`Found ${count} KB documents with score=50 (failed analysis) (simulated)`);
  let improved = 0;
  for (let index = 1; index <= count; index++) {
    await work(18000 / count);
    const id = `kb-doc-${randomInt(1000, 9999)}`;
    if (chance(0.8)) {
      improved += 1;
      log(`Reanalyzed ${id} (${index}/${count}): score 50 -> ${randomInt(55, 97)} (simulated)`);
    } else {
      log(`Reanalyzed ${id} (${index}/${count}): still failing, score 50 (simulated)`);
    }
  }
  await work(800);
  log(`Reanalyzed ${count} documents: ${improved} improved, ${count - improved} still failing (simulated)`);
});
