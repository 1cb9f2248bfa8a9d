// Demo cron "acquisition-weekly" (simulated): crawls the configured web sources for new content.
import { chance, log, randomInt, runJob, warn, work } from './lib/job.mjs';

const sources = ['https://www.legislation.tn', 'https://www.iort.gov.tn', 'https://www.cassation.tn', 'https://da5ira.com', 'https://www.jurisitetunisie.com'];

runJob('acquisition-weekly', async () => {
  log('Simulated run: no site is contacted, the counts below are made up');
  let documents = 0;
  for (const source of sources) {
    log(`Crawling ${source} (simulated)`);
    await work(5600);
    if (chance(0.1)) {
      warn(`${source}: 2 pages answered 503, will retry next week (simulated)`);
    }
    const found = randomInt(0, 6);
    documents += found;
    log(`${source}: ${randomInt(10, 80)} pages visited, ${found} new document(s) (simulated)`);
  }
  await work(1500);
  log(`Acquired ${documents} new documents from ${sources.length} sources (simulated)`);
});
