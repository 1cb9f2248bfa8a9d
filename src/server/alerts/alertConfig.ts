// Parses the alerting part of the cron config: per-cron `retries` and `alerts`, and the top-level `alerts`
// (destinations, rules, delivery). Standalone so config.ts calls it; every problem names its field.
// Secrets come from environment variables named in the file (`secretEnv`, `urlEnv`, `passwordEnv`), never the file itself.
import { describeValue as describe, FieldChecker, isObject, type Json, type Report } from '../configFields';
import { ALERT_EVENTS, DESTINATION_TYPES, RETRY_ON, type AlertEvent, type DestinationType, type RetryOn } from '../../shared/alerts';

export interface RetryPolicy {
  /** Retries after the first attempt: count 2 means at most 3 runs. */
  count: number;
  delayMs: number;
  /** Each further delay is the previous one times this (1: constant). */
  backoff: number;
  maxDelayMs: number;
  on: RetryOn[];
}

interface DestinationBase {
  name: string;
  type: DestinationType;
}

export interface WebhookDestination extends DestinationBase {
  type: 'webhook';
  url: string;
  /** Signs every delivery (HMAC-SHA256); read from the environment variable `secretEnv`. */
  secret: string;
  secretEnv: string;
}

export interface SlackDestination extends DestinationBase {
  type: 'slack';
  /** A Slack incoming web hook URL holds its own secret: it comes from the environment. */
  url: string;
}

export interface EmailDestination extends DestinationBase {
  type: 'email';
  host: string;
  port: number;
  /** TLS from the start (port 465); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  user: string | null;
  password: string | null;
  from: string;
  to: string[];
}

export type Destination = WebhookDestination | SlackDestination | EmailDestination;

export interface AlertRule {
  on: AlertEvent[];
  /** Destination names. */
  to: string[];
  /** The crons it applies to; null for every cron. */
  crons: string[] | null;
}

/** How deliveries are retried when a destination does not accept them. */
export interface DeliveryPolicy {
  attempts: number;
  delayMs: number;
  backoff: number;
  maxDelayMs: number;
  /** Per attempt: an HTTP request or SMTP session that takes longer fails. */
  timeoutMs: number;
}

export interface AlertSettings {
  destinations: Destination[];
  /** Global rules and per-cron rules together (a per-cron rule has `crons: [its name]`). */
  rules: AlertRule[];
  delivery: DeliveryPolicy;
}

export interface AlertConfig {
  alerts: AlertSettings;
  /** Per cron name; a cron without `retries` is absent. */
  retries: Map<string, RetryPolicy>;
  /** The environment variables the destinations read their secrets from: never passed to a job. */
  secretEnvNames: string[];
}

/** Keys this module reads: config.ts adds them to the keys it accepts. */
export const ALERT_TOP_KEYS = ['alerts'] as const;
export const ALERT_CRON_KEYS = ['retries', 'alerts'] as const;

export const DEFAULT_DELIVERY: DeliveryPolicy = { attempts: 5, delayMs: 10_000, backoff: 2, maxDelayMs: 600_000, timeoutMs: 10_000 };
const RETRY_DEFAULTS = { delayMs: 60_000, backoff: 1, maxDelayMs: 3_600_000 };
const DESTINATION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INLINE_SECRET_KEYS = ['secret', 'password', 'pass', 'token', 'user'];

type Env = Record<string, string | undefined>;

class Fields extends FieldChecker {
  /** Every variable a secret was read from. */
  readonly secretNames = new Set<string>();

  only(value: Record<string, Json>, field: string, allowed: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (allowed.includes(key)) continue;
      if (INLINE_SECRET_KEYS.includes(key)) {
        this.fail(`${field}.${key}`, `secrets are not read from the config file: put it in an environment variable and name that variable with "${key === 'pass' ? 'password' : key}Env"`);
      } else this.fail(`${field}.${key}`, `is not a known setting (expected one of ${allowed.join(', ')})`);
    }
  }

  /** A string or an array of strings, each one of `allowed` when given. */
  list(value: Json, field: string, allowed?: readonly string[]): string[] | undefined {
    const items = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(items) || items.length === 0 || !items.every((item) => typeof item === 'string' && item !== '')) {
      this.fail(field, `must be a non-empty array of strings${allowed ? ` among ${allowed.join(', ')}` : ''}, got ${describe(value)}`);
      return undefined;
    }
    const wrong = allowed ? items.filter((item) => !allowed.includes(item)) : [];
    if (wrong.length > 0) {
      this.fail(field, `${wrong.map((item) => `"${item}"`).join(', ')} ${wrong.length === 1 ? 'is' : 'are'} not one of ${allowed!.join(', ')}`);
      return undefined;
    }
    return [...new Set(items as string[])];
  }

  /** The value of the environment variable named at `field`; a missing one is a problem saying what to export. */
  fromEnv(value: Json, field: string, env: Env, required: boolean): { name: string; value: string } | undefined {
    const name = this.string(value, field, required);
    if (name === undefined) return undefined;
    if (!ENV_NAME.test(name)) {
      this.fail(field, `must name an environment variable (letters, digits and _), got ${describe(name)}`);
      return undefined;
    }
    const found = env[name];
    if (found === undefined || found === '') {
      this.fail(field, `the environment variable ${name} is not set: export it before starting the server`);
      return undefined;
    }
    this.secretNames.add(name);
    return { name, value: found };
  }

  url(value: string, field: string): string | undefined {
    try {
      const url = new URL(value);
      if (url.username || url.password) {
        // fetch refuses such a URL, and the credentials would show wherever the URL does.
        this.fail(field, 'must not hold credentials (user:password@): the receiver checks the HMAC signature of "secretEnv" instead');
        return undefined;
      }
      if (url.protocol === 'http:' || url.protocol === 'https:') return url.toString();
    } catch {
      // Reported below.
    }
    this.fail(field, 'must be an http:// or https:// URL');
    return undefined;
  }
}

/** `retries` of one cron; undefined when absent. */
export function parseRetries(value: Json, field: string, report: Report): RetryPolicy | undefined {
  const check = new Fields(report);
  const raw = check.object(value, field);
  if (!raw) return undefined;
  check.only(raw, field, ['count', 'delayMs', 'backoff', 'maxDelayMs', 'on']);
  if (raw.count === undefined) check.fail(`${field}.count`, 'is required: how many times to retry after the first attempt (e.g. 2)');
  const count = check.integer(raw.count, `${field}.count`, 0, 0, 100);
  const delayMs = check.integer(raw.delayMs, `${field}.delayMs`, RETRY_DEFAULTS.delayMs, 0, 7 * 86_400_000);
  const maxDelayMs = check.integer(raw.maxDelayMs, `${field}.maxDelayMs`, Math.max(delayMs, RETRY_DEFAULTS.maxDelayMs), 0, 7 * 86_400_000);
  if (maxDelayMs < delayMs) check.fail(`${field}.maxDelayMs`, `must be at least delayMs (${delayMs})`);
  return {
    count,
    delayMs,
    backoff: check.number(raw.backoff, `${field}.backoff`, RETRY_DEFAULTS.backoff, 1, 10),
    maxDelayMs,
    on: raw.on === undefined ? [...RETRY_ON] : ((check.list(raw.on, `${field}.on`, RETRY_ON) as RetryOn[] | undefined) ?? []),
  };
}

function parseRule(value: Json, field: string, check: Fields, destinations: Set<string>, cronNames: Set<string>, ownCron?: string): AlertRule | undefined {
  const raw = check.object(value, field);
  if (!raw) return undefined;
  check.only(raw, field, ownCron === undefined ? ['on', 'to', 'crons'] : ['on', 'to']);
  if (raw.on === undefined) check.fail(`${field}.on`, `is required: the events to alert on, among ${ALERT_EVENTS.join(', ')}`);
  if (raw.to === undefined) check.fail(`${field}.to`, 'is required: the names of destinations declared under alerts.destinations');
  const on = raw.on === undefined ? undefined : (check.list(raw.on, `${field}.on`, ALERT_EVENTS) as AlertEvent[] | undefined);
  const to = raw.to === undefined ? undefined : check.list(raw.to, `${field}.to`);
  for (const name of to ?? []) {
    if (!destinations.has(name)) {
      check.fail(`${field}.to`, `"${name}" is not a destination: declare it under alerts.destinations${destinations.size ? ` (declared: ${[...destinations].join(', ')})` : ''}`);
    }
  }
  let crons: string[] | null = ownCron === undefined ? null : [ownCron];
  if (ownCron === undefined && raw.crons !== undefined) {
    const listed = check.list(raw.crons, `${field}.crons`);
    for (const name of listed ?? []) if (!cronNames.has(name)) check.fail(`${field}.crons`, `"${name}" is not a cron of this config`);
    crons = listed ?? null;
  }
  if (!on || !to) return undefined;
  return { on, to, crons };
}

function parseDestination(name: string, value: Json, field: string, check: Fields, env: Env): Destination | undefined {
  if (!DESTINATION_NAME.test(name)) check.fail(field, 'a destination name must start with a letter or digit and hold only letters, digits, _ and -');
  const raw = check.object(value, field);
  if (!raw) return undefined;
  const type = raw.type;
  if (typeof type !== 'string' || !(DESTINATION_TYPES as readonly string[]).includes(type)) {
    check.fail(`${field}.type`, `must be one of ${DESTINATION_TYPES.map((kind) => `"${kind}"`).join(', ')}, got ${describe(type)}`);
    return undefined;
  }
  switch (type as DestinationType) {
    case 'webhook': {
      check.only(raw, field, ['type', 'url', 'urlEnv', 'secretEnv']);
      const url = httpUrl(raw, field, check, env, false);
      if (raw.secretEnv === undefined) {
        check.fail(`${field}.secretEnv`, 'is required: the environment variable holding the HMAC secret that signs each delivery (e.g. "ALERT_HOOK_SECRET")');
      }
      const secret = check.fromEnv(raw.secretEnv, `${field}.secretEnv`, env, false);
      return url && secret ? { name, type: 'webhook', url, secret: secret.value, secretEnv: secret.name } : undefined;
    }
    case 'slack': {
      check.only(raw, field, ['type', 'url', 'urlEnv']);
      const url = httpUrl(raw, field, check, env, true);
      return url ? { name, type: 'slack', url } : undefined;
    }
    case 'email': {
      check.only(raw, field, ['type', 'host', 'port', 'secure', 'userEnv', 'passwordEnv', 'from', 'to']);
      const host = check.string(raw.host, `${field}.host`, true);
      const port = check.integer(raw.port, `${field}.port`, 587, 1, 65535);
      let secure = port === 465;
      if (raw.secure !== undefined) {
        if (typeof raw.secure !== 'boolean') check.fail(`${field}.secure`, `must be true or false, got ${describe(raw.secure)}`);
        else secure = raw.secure;
      }
      const user = check.fromEnv(raw.userEnv, `${field}.userEnv`, env, false);
      const password = check.fromEnv(raw.passwordEnv, `${field}.passwordEnv`, env, false);
      if ((raw.userEnv === undefined) !== (raw.passwordEnv === undefined)) check.fail(field, 'give both userEnv and passwordEnv for SMTP authentication, or neither');
      const from = check.string(raw.from, `${field}.from`, true);
      if (from !== undefined && !from.includes('@')) check.fail(`${field}.from`, `must be an e-mail address, got ${describe(from)}`);
      const to = check.list(raw.to, `${field}.to`);
      for (const address of to ?? []) if (!address.includes('@')) check.fail(`${field}.to`, `"${address}" is not an e-mail address`);
      if (!host || !from || !to) return undefined;
      return { name, type: 'email', host, port, secure, user: user?.value ?? null, password: password?.value ?? null, from, to };
    }
  }
}

/** `url` in the file or `urlEnv`; `secretUrl` demands the environment (the URL is the credential). */
function httpUrl(raw: Record<string, Json>, field: string, check: Fields, env: Env, secretUrl: boolean): string | undefined {
  if (raw.url !== undefined && raw.urlEnv !== undefined) {
    check.fail(field, 'give url or urlEnv, not both');
    return undefined;
  }
  if (raw.url !== undefined) {
    if (secretUrl) {
      check.fail(`${field}.url`, 'an incoming web hook URL is a secret: put it in an environment variable and name it with "urlEnv"');
      return undefined;
    }
    const url = check.string(raw.url, `${field}.url`, true);
    return url === undefined ? undefined : check.url(url, `${field}.url`);
  }
  if (raw.urlEnv === undefined) {
    check.fail(`${field}.urlEnv`, `is required: the environment variable holding the URL${secretUrl ? '' : ' (or give "url")'}`);
    return undefined;
  }
  const fromEnv = check.fromEnv(raw.urlEnv, `${field}.urlEnv`, env, true);
  return fromEnv ? check.url(fromEnv.value, `${field}.urlEnv (${fromEnv.name})`) : undefined;
}

/**
 * Reads `alerts` at the top level and `retries` and `alerts` of each cron from the parsed config file.
 * `top` is the file's top-level object; problems go to `report` and the result holds what was valid.
 */
export function parseAlertConfig(top: Record<string, Json>, env: Env, report: Report): AlertConfig {
  const check = new Fields(report);
  const section = check.object(top.alerts, 'alerts') ?? {};
  check.only(section, 'alerts', ['destinations', 'rules', 'delivery']);

  const destinations: Destination[] = [];
  const declared = check.object(section.destinations, 'alerts.destinations') ?? {};
  for (const [name, value] of Object.entries(declared)) {
    const destination = parseDestination(name, value, `alerts.destinations.${name}`, check, env);
    if (destination) destinations.push(destination);
  }
  // Rules are checked against every declared name, so one bad destination is reported once, not at each rule.
  const names = new Set(Object.keys(declared));
  const crons = Array.isArray(top.crons) ? top.crons : [];
  const cronNames = new Set(crons.flatMap((cron: Json) => (isObject(cron) && typeof cron.name === 'string' ? [cron.name] : [])));

  const rules: AlertRule[] = [];
  if (section.rules !== undefined) {
    if (!Array.isArray(section.rules)) check.fail('alerts.rules', `must be an array of rules like {"on": ["failed"], "to": ["ops"]}, got ${describe(section.rules)}`);
    else section.rules.forEach((rule: Json, index: number) => {
      const parsed = parseRule(rule, `alerts.rules[${index}]`, check, names, cronNames);
      if (parsed) rules.push(parsed);
    });
  }

  const retries = new Map<string, RetryPolicy>();
  crons.forEach((cron: Json, index: number) => {
    if (!isObject(cron)) return;
    const at = `crons[${index}]`;
    const name = typeof cron.name === 'string' ? cron.name : `#${index}`;
    const policy = parseRetries(cron.retries, `${at}.retries`, report);
    if (policy && policy.count > 0 && policy.on.length > 0) retries.set(name, policy);
    if (cron.alerts === undefined) return;
    if (!Array.isArray(cron.alerts)) {
      check.fail(`${at}.alerts`, `must be an array of rules like {"on": ["failed"], "to": ["ops"]}, got ${describe(cron.alerts)}`);
      return;
    }
    cron.alerts.forEach((rule: Json, ruleIndex: number) => {
      const parsed = parseRule(rule, `${at}.alerts[${ruleIndex}]`, check, names, cronNames, name);
      if (parsed) rules.push(parsed);
    });
  });

  const deliveryRaw = check.object(section.delivery, 'alerts.delivery') ?? {};
  check.only(deliveryRaw, 'alerts.delivery', ['attempts', 'delayMs', 'backoff', 'maxDelayMs', 'timeoutMs']);
  const delayMs = check.integer(deliveryRaw.delayMs, 'alerts.delivery.delayMs', DEFAULT_DELIVERY.delayMs, 0, 86_400_000);
  const delivery: DeliveryPolicy = {
    attempts: check.integer(deliveryRaw.attempts, 'alerts.delivery.attempts', DEFAULT_DELIVERY.attempts, 1, 100),
    delayMs,
    backoff: check.number(deliveryRaw.backoff, 'alerts.delivery.backoff', DEFAULT_DELIVERY.backoff, 1, 10),
    maxDelayMs: check.integer(deliveryRaw.maxDelayMs, 'alerts.delivery.maxDelayMs', Math.max(delayMs, DEFAULT_DELIVERY.maxDelayMs), delayMs, 7 * 86_400_000),
    timeoutMs: check.integer(deliveryRaw.timeoutMs, 'alerts.delivery.timeoutMs', DEFAULT_DELIVERY.timeoutMs, 100, 600_000),
  };
  return { alerts: { destinations, rules, delivery }, retries, secretEnvNames: [...check.secretNames] };
}

/** Where a destination sends, without its secrets: for GET /api/admin/alerts and the log. */
export function destinationTarget(destination: Destination): string {
  switch (destination.type) {
    case 'webhook':
      return new URL(destination.url).origin + new URL(destination.url).pathname;
    case 'slack':
      // The path of a Slack URL is its credential.
      return new URL(destination.url).host;
    case 'email':
      return destination.to.join(', ');
  }
}
