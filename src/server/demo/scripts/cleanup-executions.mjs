// Demo cron "cleanup-executions" (real): asks the trigger server to apply the retention, i.e. delete the
// executions (and their logs) that ended more than retentionDays ago (7 by default).
import { log, runJob } from './lib/job.mjs';

runJob('cleanup-executions', async () => {
  const server = process.env.CRON_TRIGGER_SERVER_URL;
  const secret = process.env.CRON_SECRET;
  if (!server) throw new Error('CRON_TRIGGER_SERVER_URL is not set: run this script from the Cron Ops server, or set it to the server URL (e.g. http://127.0.0.1:9998).');
  if (!secret) throw new Error('CRON_SECRET is not set: the retention endpoint needs the X-Cron-Secret header (start the server with CRON_SECRET).');
  const body = {};
  const days = process.env.CRON_PARAM_DAYS;
  if (days !== undefined && days !== '') body.days = Number(days);
  const url = `${server.replace(/\/+$/, '')}/api/cron/retention`;
  log(`Applying the retention: POST ${url}`);
  let response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-cron-secret': secret },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
  } catch (failure) {
    const cause = failure?.cause?.code ?? failure?.cause?.message ?? failure?.message ?? String(failure);
    throw new Error(`Cannot reach the trigger server at ${server} (${cause}): is it running?`);
  }
  const text = await response.text();
  let reply;
  try {
    reply = JSON.parse(text);
  } catch {
    reply = undefined;
  }
  if (!response.ok || !reply || reply.success !== true) {
    const reason = reply && typeof reply.error === 'string' ? reply.error : text.slice(0, 300);
    throw new Error(`The trigger server refused the retention (HTTP ${response.status}): ${reason}`);
  }
  log(`Deleted ${reply.deleted} executions older than ${reply.days} days (with their logs)`);
});
