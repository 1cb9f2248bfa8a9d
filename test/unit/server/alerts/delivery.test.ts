// Real deliveries on loopback: a web hook receiver that checks the HMAC as a receiver would, a Slack-style
// receiver, and an in-process SMTP server (smtp-server), each driven through the delivery queue.
import { strict as assert } from 'node:assert';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { AlertDelivery } from '../../../../src/shared/alerts';
import type { AlertSettings, DeliveryPolicy } from '../../../../src/server/alerts/alertConfig';
import { Alerting } from '../../../../src/server/alerts/alerting';
import { MemoryDeliveryStorage } from '../../../../src/server/alerts/deliveryStorage';
import { verifySignature } from '../../../../src/server/alerts/signature';
import { waitFor } from '../../../support/waitFor';
import { httpReceiver as receiver } from '../../../support/httpReceiver';
import { aLog, aRun } from './builders';

const SECRET = 'hook-secret-for-tests';
const FAST: DeliveryPolicy = { attempts: 3, delayMs: 50, backoff: 2, maxDelayMs: 1000, timeoutMs: 5000 };

function settings(destinations: AlertSettings['destinations'], delivery: DeliveryPolicy = FAST): AlertSettings {
  return { destinations, rules: [{ on: ['failed', 'timeout', 'recovered'], to: destinations.map((d) => d.name), crons: null }], delivery };
}

/** Resolves with the delivery once it is sent or given up. */
function settled(alerting: Alerting, count: number): Promise<AlertDelivery[]> {
  const done: AlertDelivery[] = [];
  return new Promise((resolve) => {
    const stop = alerting.queue.onSettled((delivery) => {
      done.push(delivery);
      if (done.length === count) {
        stop();
        resolve(done);
      }
    });
  });
}

describe('alert deliveries', function () {
  this.timeout(30_000);
  const servers: Array<{ close(): unknown }> = [];
  const alertings: Alerting[] = [];
  afterEach(async () => {
    await Promise.all(alertings.splice(0).map((alerting) => alerting.stop()));
    for (const server of servers.splice(0)) server.close();
  });

  function start(options: ConstructorParameters<typeof Alerting>[0]): Alerting {
    const alerting = new Alerting(options);
    alertings.push(alerting);
    alerting.start();
    return alerting;
  }

  it('signs a web hook so the receiver can check the HMAC and the timestamp, and retries one it refused', async () => {
    const hook = await receiver([503]);
    servers.push(hook.server);
    const log = aLog();
    const storage = new MemoryDeliveryStorage();
    const alerting = start({ settings: settings([{ name: 'ops', type: 'webhook', url: hook.url, secret: SECRET, secretEnv: 'X' }]), storage, runnerId: 'host-a', log });
    const done = settled(alerting, 1);

    alerting.raise({ kind: 'ended', execution: aRun(), cause: 'failed', retryPending: false, previousChainFailed: false });
    const [delivery] = await done;

    assert.equal(delivery.status, 'sent');
    assert.equal(delivery.attempts, 2, 'refused once with 503, accepted on the retry');
    assert.equal(hook.received.length, 2);
    for (const { headers, body } of hook.received) {
      // What a receiver does, written out without the server's own helper.
      const [t, v1] = String(headers['x-cron-ops-signature']).split(',').map((part) => part.split('=')[1]);
      assert.equal(v1, createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex'));
      assert.ok(Math.abs(Date.now() / 1000 - Number(t)) < 60, 'a fresh timestamp on each attempt');
      assert.equal(headers['x-cron-ops-delivery'], delivery.id);
      assert.equal(headers['x-cron-ops-event'], 'failed');
      assert.equal(headers['content-type'], 'application/json');
    }
    const message = JSON.parse(hook.received[1].body);
    assert.equal(message.summary, 'backup failed: Exited with code 1: disk full');
    assert.equal(message.executionId, aRun().id);
    assert.equal(verifySignature(String(hook.received[1].headers['x-cron-ops-signature']), hook.received[1].body, SECRET, Math.floor(Date.now() / 1000)).ok, true);
    assert.ok(log.lines.some((line) => line.startsWith('warn [Alerts] Delivery to ops failed: retrying at') && line.includes('HTTP 503')));

    const status = await alerting.status();
    assert.deepEqual(status.destinations.map((d) => [d.name, d.type, d.target, d.lastStatus, d.lastError]), [['ops', 'webhook', hook.url, 'sent', null]]);
    assert.equal(status.deliveries[0].id, delivery.id);
  });

  it('gives up after the configured attempts and shows the receiver\'s answer', async () => {
    const hook = await receiver([500, 500, 500]);
    servers.push(hook.server);
    const alerting = start({ settings: settings([{ name: 'ops', type: 'webhook', url: hook.url, secret: SECRET, secretEnv: 'X' }]), storage: new MemoryDeliveryStorage(), runnerId: 'host-a', log: aLog() });
    const done = settled(alerting, 1);
    alerting.raise({ kind: 'ended', execution: aRun(), cause: 'timeout', retryPending: false, previousChainFailed: false });
    const [delivery] = await done;
    assert.deepEqual([delivery.status, delivery.attempts, delivery.lastError], ['failed', 3, 'HTTP 500 Internal Server Error: receiver is down for maintenance']);
    assert.equal((await alerting.status()).destinations[0].lastStatus, 'failed');
  });

  it('does not retry a request the receiver calls wrong (4xx)', async () => {
    const hook = await receiver([404]);
    servers.push(hook.server);
    const alerting = start({ settings: settings([{ name: 'ops', type: 'webhook', url: hook.url, secret: SECRET, secretEnv: 'X' }]), storage: new MemoryDeliveryStorage(), runnerId: 'host-a', log: aLog() });
    const done = settled(alerting, 1);
    alerting.raise({ kind: 'ended', execution: aRun(), cause: 'failed', retryPending: false, previousChainFailed: false });
    const [delivery] = await done;
    assert.equal(delivery.status, 'failed');
    assert.equal(delivery.attempts, 1);
    assert.match(delivery.lastError!, /^HTTP 404 Not Found: .*not retried: fix the destination/);
  });

  it('posts a Slack-compatible message: text plus blocks', async () => {
    const slack = await receiver();
    servers.push(slack.server);
    const alerting = start({ settings: settings([{ name: 'team', type: 'slack', url: slack.url }]), storage: new MemoryDeliveryStorage(), runnerId: 'host-a', log: aLog() });
    const done = settled(alerting, 1);
    alerting.raise({ kind: 'ended', execution: aRun({ status: 'completed', errorMessage: null, attempt: 2, retryOf: 'first' }), cause: 'completed', retryPending: false, previousChainFailed: true });
    assert.equal((await done)[0].status, 'sent');
    const body = JSON.parse(slack.received[0].body);
    assert.equal(body.text, ':large_green_circle: backup recovered: completed in 4.2 sec on attempt 2 after failing before');
    assert.equal(body.blocks[0].type, 'section');
    assert.match(body.blocks.at(-1).elements[0].text, /execution `11111111-1111-4111-8111-111111111111` · attempt 2 · duration 4\.2 sec/);
    assert.equal(slack.received[0].headers['x-cron-ops-signature'], undefined, 'Slack hooks are not signed: the URL is the secret');
  });

  it('sends e-mail over SMTP with authentication', async () => {
    const mails: Array<{ from: string; to: string[]; data: string; user: string | undefined }> = [];
    const smtp = new SMTPServer({
      authOptional: false,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth(auth, _session, callback) {
        if (auth.username === 'cron' && auth.password === 'pw') callback(null, { user: auth.username });
        else callback(new Error('Invalid username or password'));
      },
      onData(stream, session, callback) {
        let data = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => (data += chunk));
        stream.on('end', () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            data,
            user: typeof session.user === 'string' ? session.user : undefined,
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    servers.push({ close: () => smtp.close() });
    const port = (smtp.server.address() as AddressInfo).port;
    const alerting = start({
      settings: settings([{ name: 'oncall', type: 'email', host: '127.0.0.1', port, secure: false, user: 'cron', password: 'pw', from: 'cron-ops@example.org', to: ['oncall@example.org', 'lead@example.org'] }]),
      storage: new MemoryDeliveryStorage(),
      runnerId: 'host-a',
      log: aLog(),
    });
    const done = settled(alerting, 1);
    const test = await alerting.sendTest('alice');
    assert.equal(test.deliveries.length, 1);
    const [delivery] = await done;
    assert.equal(delivery.status, 'sent', delivery.lastError ?? '');
    assert.equal(mails.length, 1);
    assert.equal(mails[0].from, 'cron-ops@example.org');
    assert.deepEqual(mails[0].to, ['oncall@example.org', 'lead@example.org']);
    assert.equal(mails[0].user, 'cron');
    // Unfold the headers and undo quoted-printable soft breaks, as a mail client would.
    const text = mails[0].data.replace(/\r\n[ \t]+/g, ' ').replace(/=\r\n/g, '');
    assert.match(text, /^Subject: \[Cron Ops\] \[test\] Test alert from Cron Ops \(runner host-a\), sent by alice: this destination works\r$/m);
    assert.match(text, /^Cron: cron-ops-test\r$/m);
    assert.match(text, new RegExp(`^X-Cron-Ops-Alert: ${test.message.id}\r$`, 'm'));
  });

  it('retries an e-mail the SMTP server refused for now (4xx), and sends it', async () => {
    let refusals = 1;
    const received: string[] = [];
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo(_address, _session, callback) {
        if (refusals-- > 0) callback(Object.assign(new Error('Mailbox busy, try again later'), { responseCode: 450 }));
        else callback();
      },
      onData(stream, _session, callback) {
        stream.on('data', () => undefined);
        stream.on('end', () => {
          received.push('mail');
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    servers.push({ close: () => smtp.close() });
    const port = (smtp.server.address() as AddressInfo).port;
    const alerting = start({
      settings: settings([{ name: 'oncall', type: 'email', host: '127.0.0.1', port, secure: false, user: null, password: null, from: 'cron-ops@example.org', to: ['oncall@example.org'] }]),
      storage: new MemoryDeliveryStorage(),
      runnerId: 'host-a',
      log: aLog(),
    });
    const done = settled(alerting, 1);
    alerting.raise({ kind: 'ended', execution: aRun(), cause: 'failed', retryPending: false, previousChainFailed: false });
    const [delivery] = await done;
    assert.deepEqual([delivery.status, delivery.attempts, received.length], ['sent', 2, 1]);
  });

  it('queues without waiting for a destination that does not answer', async () => {
    // A receiver that accepts the connection and never replies.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    servers.push({ close: () => { silent.closeAllConnections(); silent.close(); } });
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
    const storage = new MemoryDeliveryStorage();
    const alerting = start({ settings: settings([{ name: 'ops', type: 'webhook', url, secret: SECRET, secretEnv: 'X' }], { ...FAST, attempts: 1, timeoutMs: 300 }), storage, runnerId: 'host-a', log: aLog() });
    const done = settled(alerting, 1);
    const before = Date.now();
    alerting.raise({ kind: 'ended', execution: aRun(), cause: 'failed', retryPending: false, previousChainFailed: false });
    assert.ok(Date.now() - before < 100, 'raise returns at once');
    await waitFor(async () => (await storage.recent(1)).length === 1, 'the delivery to be queued');
    const [delivery] = await done;
    assert.equal(delivery.status, 'failed');
    assert.match(delivery.lastError!, /^no answer in time/);
  });

  it('refuses a test to a destination that does not exist, naming the ones that do', async () => {
    const alerting = start({ settings: settings([{ name: 'team', type: 'slack', url: 'http://127.0.0.1:9/' }]), storage: new MemoryDeliveryStorage(), runnerId: 'host-a', log: aLog() });
    await assert.rejects(alerting.sendTest('alice', 'pager'), /No alert destination named "pager": the config declares team/);
  });
});

describe('web hook signature', () => {
  const body = '{"event":"failed"}';
  const now = 1_800_000_000;
  const header = `t=${now},v1=${createHmac('sha256', SECRET).update(`${now}.${body}`).digest('hex')}`;

  it('accepts a fresh signature of the same body', () => {
    assert.deepEqual(verifySignature(header, body, SECRET, now + 10), { ok: true, timestampS: now });
  });

  it('rejects another body, another secret, an old timestamp and a malformed header', () => {
    assert.deepEqual(verifySignature(header, '{"event":"recovered"}', SECRET, now), { ok: false, reason: 'signature does not match' });
    assert.deepEqual(verifySignature(header, body, 'other', now), { ok: false, reason: 'signature does not match' });
    assert.deepEqual(verifySignature(header, body, SECRET, now + 301), { ok: false, reason: `timestamp ${now} is more than 300 s away: a replay?` });
    assert.deepEqual(verifySignature('v1=abc', body, SECRET, now), { ok: false, reason: 'malformed signature header' });
    assert.deepEqual(verifySignature(undefined, body, SECRET, now), { ok: false, reason: 'no signature header' });
  });
});
