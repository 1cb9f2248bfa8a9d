// Demo cron "index-kb-progressive" (simulated): indexes CRON_PARAM_BATCHSIZE KB documents (embeddings + chunks).
import { log, randomInt, runJob, work } from './lib/job.mjs';

function batchSize() {
  const raw = process.env.CRON_PARAM_BATCHSIZE;
  if (raw === undefined || raw === '') return 2;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 50) {
    throw new Error(`CRON_PARAM_BATCHSIZE must be an integer between 1 and 50, got "${raw}"`);
  }
  return value;
}

runJob('index-kb-progressive', async () => {
  const size = batchSize();
  log(`Simulated run: no embedding API is called. Batch size: ${size} (CRON_PARAM_BATCHSIZE)`);
  await work(1500);
  const pending = randomInt(size + 20, size + 180);
  log(`Pending KB documents: ${pending} (simulated)`);
  // About 45 s whatever the batch size: the work is spread over the documents.
  for (let index = 1; index <= size; index++) {
    await work(41000 / size);
    const chunks = randomInt(4, 24);
    log(`Indexed kb-doc-${randomInt(1000, 9999)} (${index}/${size}): ${chunks} chunks, ${chunks} embeddings (simulated)`);
  }
  await work(1500);
  log(`Indexed ${size} documents, ${pending - size} remaining (simulated)`);
});
