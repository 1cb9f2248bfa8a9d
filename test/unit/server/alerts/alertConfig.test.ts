import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { join } from 'node:path';
import { parseConfig } from '../../../../src/server/config';
import { parseAlertConfig, parseRetries, destinationTarget, type AlertConfig } from '../../../../src/server/alerts/alertConfig';
import { aConfigTop } from './builders';

const ENV = {
  ALERT_HOOK_SECRET: 's3cret',
  SLACK_URL: 'https://hooks.slack.example/services/T000/B000/XXXX',
  SMTP_USER: 'cron',
  SMTP_PASSWORD: 'pw',
};

function parse(top: Record<string, unknown>, env: Record<string, string | undefined> = ENV): { config: AlertConfig; problems: string[] } {
  const problems: string[] = [];
  const config = parseAlertConfig(top, env, (field, message) => problems.push(`${field}: ${message}`));
  return { config, problems };
}

const DESTINATIONS = {
  ops: { type: 'webhook', url: 'https://ops.example/hooks/cron', secretEnv: 'ALERT_HOOK_SECRET' },
  team: { type: 'slack', urlEnv: 'SLACK_URL' },
  oncall: { type: 'email', host: 'smtp.example', port: 587, userEnv: 'SMTP_USER', passwordEnv: 'SMTP_PASSWORD', from: 'cron@example.org', to: ['oncall@example.org'] },
};

describe('alert config', () => {
  it('reads destinations, global and per-cron rules and retries, with secrets from the environment', () => {
    const top = aConfigTop({ alerts: { destinations: DESTINATIONS, rules: [{ on: ['failed', 'timeout'], to: ['ops', 'team'] }] } });
    (top.crons as Record<string, unknown>[])[0].retries = { count: 2, delayMs: 1000, backoff: 2, on: ['failed'] };
    (top.crons as Record<string, unknown>[])[0].alerts = [{ on: 'recovered', to: 'oncall' }];
    const { config, problems } = parse(top);
    assert.deepEqual(problems, []);
    assert.deepEqual(config.alerts.destinations.map((d) => [d.name, d.type]), [['ops', 'webhook'], ['team', 'slack'], ['oncall', 'email']]);
    const hook = config.alerts.destinations[0];
    assert.equal(hook.type === 'webhook' && hook.secret, 's3cret');
    const mail = config.alerts.destinations[2];
    assert.ok(mail.type === 'email');
    assert.deepEqual([mail.user, mail.password, mail.secure, mail.port], ['cron', 'pw', false, 587]);
    assert.deepEqual(config.alerts.rules, [
      { on: ['failed', 'timeout'], to: ['ops', 'team'], crons: null },
      { on: ['recovered'], to: ['oncall'], crons: ['backup'] },
    ]);
    assert.deepEqual(config.retries.get('backup'), { count: 2, delayMs: 1000, backoff: 2, maxDelayMs: 3_600_000, on: ['failed'] });
    assert.equal(config.retries.has('report'), false);
    assert.deepEqual(config.alerts.delivery, { attempts: 5, delayMs: 10_000, backoff: 2, maxDelayMs: 600_000, timeoutMs: 10_000 });
  });

  it('has nothing to do without an alerts section', () => {
    const { config, problems } = parse(aConfigTop());
    assert.deepEqual(problems, []);
    assert.deepEqual(config.alerts.destinations, []);
    assert.deepEqual(config.alerts.rules, []);
  });

  it('names the variable to export when a secret is missing from the environment', () => {
    const { problems } = parse(aConfigTop({ alerts: { destinations: DESTINATIONS } }), { SLACK_URL: ENV.SLACK_URL, SMTP_USER: 'u' });
    assert.deepEqual(problems, [
      'alerts.destinations.ops.secretEnv: the environment variable ALERT_HOOK_SECRET is not set: export it before starting the server',
      'alerts.destinations.oncall.passwordEnv: the environment variable SMTP_PASSWORD is not set: export it before starting the server',
    ]);
  });

  it('refuses secrets written in the file and says where they go instead', () => {
    const { problems } = parse(aConfigTop({
      alerts: {
        destinations: {
          ops: { type: 'webhook', url: 'https://ops.example/h', secret: 'plain', secretEnv: 'ALERT_HOOK_SECRET' },
          team: { type: 'slack', url: 'https://hooks.slack.example/services/T/B/X' },
          mail: { type: 'email', host: 'smtp.example', password: 'pw', from: 'a@b.c', to: 'd@e.f' },
        },
      },
    }));
    assert.deepEqual(problems, [
      'alerts.destinations.ops.secret: secrets are not read from the config file: put it in an environment variable and name that variable with "secretEnv"',
      'alerts.destinations.team.url: an incoming web hook URL is a secret: put it in an environment variable and name it with "urlEnv"',
      'alerts.destinations.mail.password: secrets are not read from the config file: put it in an environment variable and name that variable with "passwordEnv"',
    ]);
  });

  it('names the field of each mistake in rules and retries', () => {
    const top = aConfigTop({
      alerts: {
        destinations: { ops: DESTINATIONS.ops, pager: { type: 'sms' } },
        rules: [{ on: ['failed', 'exploded'], to: ['ops'] }, { on: ['missed'], to: ['nobody'], crons: ['backup', 'ghost'] }, { to: ['ops'] }],
        delivery: { attempts: 0 },
      },
    });
    (top.crons as Record<string, unknown>[])[1].retries = { delayMs: -1, backoff: 0.5, on: ['cancelled'] };
    const { problems } = parse(top);
    assert.deepEqual(problems, [
      'alerts.destinations.pager.type: must be one of "webhook", "slack", "email", got "sms"',
      'alerts.rules[0].on: "exploded" is not one of failed, timeout, stuck, recovered, missed',
      'alerts.rules[1].to: "nobody" is not a destination: declare it under alerts.destinations (declared: ops, pager)',
      'alerts.rules[1].crons: "ghost" is not a cron of this config',
      'alerts.rules[2].on: is required: the events to alert on, among failed, timeout, stuck, recovered, missed',
      'crons[1].retries.count: is required: how many times to retry after the first attempt (e.g. 2)',
      'crons[1].retries.delayMs: must be an integer between 0 and 604800000, got -1',
      'crons[1].retries.backoff: must be a number between 1 and 10, got 0.5',
      'crons[1].retries.on: "cancelled" is not one of failed, timeout',
      'alerts.delivery.attempts: must be an integer between 1 and 100, got 0',
    ]);
  });

  it('checks URLs and addresses', () => {
    const { problems } = parse(aConfigTop({
      alerts: {
        destinations: {
          ops: { type: 'webhook', url: 'ftp://ops.example/h', secretEnv: 'ALERT_HOOK_SECRET' },
          mail: { type: 'email', host: 'smtp.example', userEnv: 'SMTP_USER', from: 'cron', to: ['oncall'] },
        },
      },
    }));
    assert.deepEqual(problems, [
      'alerts.destinations.ops.url: must be an http:// or https:// URL',
      'alerts.destinations.mail: give both userEnv and passwordEnv for SMTP authentication, or neither',
      'alerts.destinations.mail.from: must be an e-mail address, got "cron"',
      'alerts.destinations.mail.to: "oncall" is not an e-mail address',
    ]);
  });

  it('refuses credentials in a URL, and lists the variables secrets were read from', () => {
    const refused = parse(aConfigTop({ alerts: { destinations: { ops: { type: 'webhook', url: 'http://user:pw@127.0.0.1:1/h', secretEnv: 'ALERT_HOOK_SECRET' } } } }));
    assert.deepEqual(refused.problems, ['alerts.destinations.ops.url: must not hold credentials (user:password@): the receiver checks the HMAC signature of "secretEnv" instead']);
    const { config } = parse(aConfigTop({ alerts: { destinations: DESTINATIONS } }));
    assert.deepEqual(config.secretEnvNames.sort(), ['ALERT_HOOK_SECRET', 'SLACK_URL', 'SMTP_PASSWORD', 'SMTP_USER']);
  });

  it('defaults retries to both outcomes, a minute apart, and port 465 to TLS', () => {
    const problems: string[] = [];
    assert.deepEqual(parseRetries({ count: 3 }, 'crons[0].retries', (f, m) => problems.push(`${f}: ${m}`)), {
      count: 3, delayMs: 60_000, backoff: 1, maxDelayMs: 3_600_000, on: ['failed', 'timeout'],
    });
    assert.deepEqual(problems, []);
    const { config } = parse(aConfigTop({ alerts: { destinations: { mail: { type: 'email', host: 'smtp.example', port: 465, from: 'a@b.c', to: 'd@e.f' } } } }));
    const mail = config.alerts.destinations[0];
    assert.ok(mail.type === 'email' && mail.secure && mail.user === null && mail.to[0] === 'd@e.f');
  });

  it('shows where a destination sends without its secrets', () => {
    const { config } = parse(aConfigTop({ alerts: { destinations: DESTINATIONS } }));
    assert.deepEqual(config.alerts.destinations.map(destinationTarget), ['https://ops.example/hooks/cron', 'hooks.slack.example', 'oncall@example.org']);
  });
});

describe('the README example of alerts and retries', () => {
  it('is a config the server accepts, once the variables it names are set', () => {
    const readme = readFileSync(join(__dirname, '../../../../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Alerts and retries'));
    const example = /```json\n([\s\S]*?)```/.exec(section);
    assert.ok(example, 'README has a JSON example under "Alerts and retries"');
    const env = { ALERT_HOOK_SECRET: 'x', SLACK_WEBHOOK_URL: 'https://hooks.slack.example/services/T/B/X', SMTP_USER: 'u', SMTP_PASSWORD: 'p' };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const config = parseConfig(example[1], '/srv/cron-ops/crons.json');
      assert.deepEqual(config.alerting.alerts.destinations.map((destination) => destination.name), ['ops-hook', 'team-chat', 'oncall']);
      assert.equal(config.alerting.retries.get('nightly-backup')?.count, 2);
      // Editors check the same file against media/crons.schema.json.
      const schema = JSON.parse(readFileSync(join(__dirname, '../../../../../media/crons.schema.json'), 'utf8'));
      const ajv = new Ajv({ allErrors: true, strict: true, strictTuples: false, allowUnionTypes: true });
      addFormats(ajv);
      ajv.addVocabulary(['markdownDescription', 'patternErrorMessage', 'errorMessage', 'defaultSnippets', 'enumDescriptions', 'markdownEnumDescriptions']);
      const validate = ajv.compile(schema);
      assert.ok(validate(JSON.parse(example[1])), JSON.stringify(validate.errors));
      assert.equal(validate({ crons: [], alerts: { destinations: { ops: { type: 'webhook', url: 'https://x.example', secret: 'inline' } } } }), false, 'an inline secret is refused');
    } finally {
      for (const name of Object.keys(env)) if (!(name in saved)) delete process.env[name];
    }
  });
});
