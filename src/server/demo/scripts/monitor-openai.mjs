// Demo cron "monitor-openai" (simulated): checks the month's OpenAI usage and alerts above 80 % of the budget.
import { log, randomInt, runJob, work } from './lib/job.mjs';

runJob('monitor-openai', async () => {
  log('Simulated run: no OpenAI API is called, the figures below are made up');
  const month = new Date().toISOString().slice(0, 7);
  log(`Fetching OpenAI usage for ${month} (simulated)`);
  await work(1800);
  const budget = 10;
  const used = randomInt(80, 960) / 100;
  const percent = (used / budget) * 100;
  log(`OpenAI usage: $${used.toFixed(2)} / $${budget.toFixed(2)} (${percent.toFixed(1)}%) (simulated)`);
  await work(1500);
  if (percent > 80) log(`ALERT: budget above 80% (${percent.toFixed(1)}%): alert email sent to admins (simulated)`);
  else log('Budget below the 80% alert threshold: no alert sent');
  await work(1200);
});
