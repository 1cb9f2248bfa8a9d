// Loads and validates the cron definitions file; every problem names the file, the field and what is wrong.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { CATCH_UP_MODES, CRON_NAME_PATTERN, type CatchUp, type Cron, type ParamSpec, type ParamValue } from '../shared/api';
import { paramValueProblem } from '../shared/params';
import { ALERT_CRON_KEYS, ALERT_TOP_KEYS, parseAlertConfig, type AlertConfig } from './alerts/alertConfig';
import type { DefinitionProblem } from '../shared/events';
import { describeValue as describe, FieldChecker, type Json } from './configFields';
import { fieldLocation, syntaxProblems } from './configLocations';
import { RESERVED_ENV, userProblem } from './jobEnvironment';
import { describe as describeInWords, Schedule } from './schedule';

/** A cron as configured; `command` has its relative paths resolved from the config file's folder. */
export type CronDefinition = Pick<
  Cron,
  'name' | 'description' | 'schedule' | 'scheduleText' | 'timezone' | 'command' | 'estimatedDurationMs' | 'timeoutMs' | 'enabled' | 'params'
> & {
  /** Runner ids allowed to run it; empty means any. */
  runOn: string[];
  /** Variables added to the job's allow-listed environment. */
  env: Record<string, string>;
  /** Pass the server's whole environment (still without DATABASE_URL, PG*, CRON_OPS_*). */
  inheritEnv: boolean;
  /** The OS user the job runs as (the server must run as root); undefined: the server's user. */
  user?: string;
  /** What happens to processes still alive when the main process exits: ended (default) or kept. */
  leftovers: 'end' | 'keep';
  /** After downtime: "last" runs once at start when a tick was missed; undefined or "none": nothing. */
  catchUp?: CatchUp;
};

export interface ServerConfig {
  path: string;
  crons: CronDefinition[];
  rateLimits: { perCronSeconds: number; globalPerMinute: number };
  retentionDays: number;
  port: number;
  host: string;
  maxLogLinesPerExecution: number;
  maxLogLineBytes: number;
  maxLogBytesPerExecution: number;
  killGraceMs: number;
  /** Retries per cron and alert rules and destinations (src/server/alerts/alertConfig.ts). */
  alerting: AlertConfig;
  /** Open event streams one token may hold (429 beyond). */
  maxStreamsPerToken: number;
  /** Open connections the server holds at once (new ones closed at once beyond): file descriptors stay bounded. */
  maxConnections: number;
  /** Host names, besides the loopback ones, that a server bound to loopback answers (DNS rebinding guard). */
  allowedHosts: string[];
  auditRetentionDays: number;
}

export class ConfigError extends Error {
  /**
   * `problems`: one line each, "FILE: FIELD: what is wrong" (what the start refusal prints). `details`: the
   * same problems with their field and their place in the file, where known (what a reload reports).
   */
  constructor(
    readonly problems: string[],
    readonly details: DefinitionProblem[] = problems.map((message) => ({ message })),
  ) {
    super(problems.join('\n'));
  }
}

class Checker extends FieldChecker {
  readonly problems: string[] = [];
  readonly details: DefinitionProblem[] = [];
  constructor(private readonly file: string) {
    super((field, message) => {
      this.problems.push(`${this.file}: ${field}: ${message}`);
      this.details.push({ field, message });
    });
  }

  /** The problems found, each placed in `text` where its field can be found. */
  error(text: string): ConfigError {
    return new ConfigError(this.problems, this.details.map((problem) => ({ ...problem, ...fieldLocation(text, problem.field ?? '') })));
  }

  unknownKeys(value: Record<string, Json>, field: string, allowed: string[]): void {
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) this.fail(field ? `${field}.${key}` : key, `is not a known setting (expected one of ${allowed.join(', ')})`);
    }
  }
}


export function isValidTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/** Checks a schedule as the scheduler will parse it; returns the problem or undefined. */
export function scheduleProblem(schedule: string, timezone: string): string | undefined {
  const parsed = Schedule.parse(schedule, timezone);
  return parsed instanceof Schedule ? undefined : parsed.message;
}

export function describeSchedule(schedule: string): string {
  return describeInWords(schedule);
}

const CRON_KEYS = ['name', 'description', 'schedule', 'timezone', 'command', 'estimatedDurationMs', 'timeoutMs', 'enabled', 'params', 'runOn', 'env', 'inheritEnv', 'user', 'leftovers', 'catchUp', ...ALERT_CRON_KEYS];
/** Open connections held at once by default (maxConnections). */
export const MAX_CONNECTIONS = 400;

const TOP_KEYS = ['$schema', 'crons', 'rateLimits', 'retentionDays', 'port', 'host', 'maxLogLinesPerExecution', 'maxLogLineBytes', 'maxLogBytesPerExecution', 'killGraceMs', 'maxStreamsPerToken', 'maxConnections', 'allowedHosts', 'auditRetentionDays', ...ALERT_TOP_KEYS];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkEnv(check: Checker, value: Json, field: string): Record<string, string> {
  const env = check.object(value, field);
  const result: Record<string, string> = {};
  if (!env) return result;
  for (const [name, raw] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) check.fail(`${field}.${name}`, 'a variable name holds letters, digits and _ and does not start with a digit');
    else if (RESERVED_ENV.test(name)) check.fail(`${field}.${name}`, 'is set by cron-ops for every run (CRON_SECRET, CRON_TRIGGER_SERVER_URL, CRON_EXECUTION_ID, CRON_NAME, CRON_PARAM_*, CRON_PARAMS): choose another name');
    else if (typeof raw !== 'string') check.fail(`${field}.${name}`, `must be a string, got ${describe(raw)} (write numbers and booleans in quotes)`);
    else if (raw.includes('\0')) check.fail(`${field}.${name}`, 'must not contain a NUL character');
    else result[name] = raw;
  }
  return result;
}
const PARAM_NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

function checkParams(check: Checker, value: Json, field: string): Record<string, ParamSpec> {
  const params = check.object(value, field);
  const result: Record<string, ParamSpec> = {};
  if (!params) return result;
  for (const [name, raw] of Object.entries(params)) {
    const at = `${field}.${name}`;
    if (!PARAM_NAME.test(name)) check.fail(at, 'a param name must start with a letter and hold only letters, digits and _');
    const spec = check.object(raw, at);
    if (!spec) continue;
    check.unknownKeys(spec, at, ['type', 'description', 'min', 'max', 'pattern', 'default']);
    const type = spec.type;
    if (type !== 'integer' && type !== 'string' && type !== 'boolean') {
      check.fail(`${at}.type`, `must be "integer", "string" or "boolean", got ${describe(type)}`);
      continue;
    }
    const parsed: ParamSpec = { type };
    if (spec.description !== undefined) parsed.description = check.string(spec.description, `${at}.description`, false);
    for (const bound of ['min', 'max'] as const) {
      if (spec[bound] === undefined) continue;
      if (typeof spec[bound] !== 'number') check.fail(`${at}.${bound}`, `must be a number, got ${describe(spec[bound])}`);
      else parsed[bound] = spec[bound] as number;
    }
    if (parsed.min !== undefined && parsed.max !== undefined && parsed.min > parsed.max) {
      check.fail(`${at}.min`, `is ${parsed.min}, above max (${parsed.max}): no value could pass; make min at most max`);
    }
    if (spec.pattern !== undefined) {
      const pattern = check.string(spec.pattern, `${at}.pattern`, false);
      try {
        if (pattern) new RegExp(pattern);
        parsed.pattern = pattern;
      } catch (error) {
        check.fail(`${at}.pattern`, `is not a valid regular expression: ${(error as Error).message}`);
      }
    }
    if (spec.default !== undefined) {
      const problem = paramValueProblem(parsed, spec.default as ParamValue);
      if (problem) check.fail(`${at}.default`, problem);
      else parsed.default = spec.default as ParamValue;
    }
    result[name] = parsed;
  }
  return result;
}

/** Editors on Windows may save UTF-8 with a byte order mark: it is not JSON, and not part of the content. */
const BYTE_ORDER_MARK = '\uFEFF';

export function parseConfig(source: string, path: string): ServerConfig {
  const text = source.startsWith(BYTE_ORDER_MARK) ? source.slice(1) : source;
  let raw: Json;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    // JSON.parse stops at the first error; jsonc-parser lists them all, each at its line and column.
    const located = syntaxProblems(text);
    const details = located.length > 0 ? located : [{ message: `not valid JSON: ${(error as Error).message}` }];
    throw new ConfigError(
      located.length > 0 ? located.map((problem) => `${path}:${problem.line}:${problem.column}: ${problem.message}`) : [`${path}: not valid JSON: ${(error as Error).message}`],
      details,
    );
  }
  const check = new Checker(path);
  const top = check.object(raw, '(top level)');
  if (!top) throw check.error(text);
  check.unknownKeys(top, '', TOP_KEYS);
  const folder = dirname(path);

  const crons: CronDefinition[] = [];
  if (!Array.isArray(top.crons)) check.fail('crons', 'is required: an array of cron definitions');
  else {
    const seen = new Set<string>();
    top.crons.forEach((entry: Json, index: number) => {
      const at = `crons[${index}]`;
      const cron = check.object(entry, at);
      if (!cron) return;
      check.unknownKeys(cron, at, CRON_KEYS);
      const name = check.string(cron.name, `${at}.name`, true);
      if (name !== undefined) {
        if (!new RegExp(CRON_NAME_PATTERN).test(name)) check.fail(`${at}.name`, `"${name}" must be lower-case letters, digits and dashes (${CRON_NAME_PATTERN})`);
        if (seen.has(name)) check.fail(`${at}.name`, `"${name}" is defined twice`);
        seen.add(name);
      }
      const timezone = check.string(cron.timezone, `${at}.timezone`, false) ?? 'UTC';
      if (!isValidTimezone(timezone)) check.fail(`${at}.timezone`, `"${timezone}" is not an IANA time zone (e.g. "Africa/Tunis", "UTC")`);
      const schedule = check.string(cron.schedule, `${at}.schedule`, true);
      if (schedule !== undefined && isValidTimezone(timezone)) {
        const problem = scheduleProblem(schedule, timezone);
        if (problem) check.fail(`${at}.schedule`, `"${schedule}" ${problem}`);
      }
      let command: string[] = [];
      if (!Array.isArray(cron.command) || cron.command.length === 0 || !cron.command.every((part: Json) => typeof part === 'string')) {
        check.fail(`${at}.command`, 'must be a non-empty array of strings (argv, run without a shell), e.g. ["node", "scripts/job.mjs"]');
      } else if ((cron.command[0] as string).trim() === '') {
        check.fail(`${at}.command[0]`, 'the program must be a non-empty string (arguments after it may be empty), e.g. ["grep", "-v", ""]');
      } else if (cron.command.some((part: Json) => (part as string).includes('\0'))) {
        check.fail(`${at}.command`, 'an argument must not contain a NUL character');
      } else {
        command = resolveCommand(cron.command as string[], folder);
      }
      const estimatedDurationMs = check.integer(cron.estimatedDurationMs, `${at}.estimatedDurationMs`, 60_000, 0);
      const timeoutMs = check.integer(cron.timeoutMs, `${at}.timeoutMs`, Math.max(estimatedDurationMs * 4, 60_000), 100);
      let runOn: string[] = [];
      if (cron.runOn !== undefined) {
        if (!Array.isArray(cron.runOn) || !cron.runOn.every((host: Json) => typeof host === 'string')) check.fail(`${at}.runOn`, 'must be an array of runner ids');
        else runOn = cron.runOn as string[];
      }
      const user = check.string(cron.user, `${at}.user`, false);
      if (user !== undefined) {
        const problem = userProblem(user);
        if (problem) check.fail(`${at}.user`, problem);
      }
      const leftovers = cron.leftovers ?? 'end';
      if (leftovers !== 'end' && leftovers !== 'keep') check.fail(`${at}.leftovers`, `must be "end" (default: processes left when the main process exits get SIGTERM, then SIGKILL) or "keep", got ${describe(leftovers)}`);
      const catchUp = cron.catchUp ?? 'none';
      if (!CATCH_UP_MODES.includes(catchUp as CatchUp)) check.fail(`${at}.catchUp`, `must be "none" (default: ticks missed while the server was down are recorded, not run) or "last" (run once at start when a tick was missed), got ${describe(catchUp)}`);
      crons.push({
        name: name ?? '',
        description: check.string(cron.description, `${at}.description`, false) ?? '',
        schedule: schedule ?? '',
        scheduleText: schedule ? describeSchedule(schedule) : '',
        timezone,
        command,
        estimatedDurationMs,
        timeoutMs,
        enabled: check.boolean(cron.enabled, `${at}.enabled`, true),
        params: checkParams(check, cron.params, `${at}.params`),
        runOn,
        env: checkEnv(check, cron.env, `${at}.env`),
        inheritEnv: check.boolean(cron.inheritEnv, `${at}.inheritEnv`, false),
        ...(user !== undefined ? { user } : {}),
        leftovers: leftovers === 'keep' ? 'keep' : 'end',
        catchUp: catchUp === 'last' ? 'last' : 'none',
      });
    });
  }
  const limits = check.object(top.rateLimits, 'rateLimits') ?? {};
  if (top.rateLimits !== undefined) check.unknownKeys(limits, 'rateLimits', ['perCronSeconds', 'globalPerMinute']);
  const config: ServerConfig = {
    path,
    crons,
    rateLimits: {
      perCronSeconds: check.integer(limits.perCronSeconds, 'rateLimits.perCronSeconds', 30, 0),
      globalPerMinute: check.integer(limits.globalPerMinute, 'rateLimits.globalPerMinute', 10, 0),
    },
    retentionDays: check.integer(top.retentionDays, 'retentionDays', 7, 1),
    port: check.integer(top.port, 'port', 9998, 0, 65535),
    host: check.string(top.host, 'host', false) ?? '127.0.0.1',
    maxLogLinesPerExecution: check.integer(top.maxLogLinesPerExecution, 'maxLogLinesPerExecution', 10_000, 2),
    maxLogLineBytes: check.integer(top.maxLogLineBytes, 'maxLogLineBytes', 16_384, 256, 1024 * 1024),
    maxLogBytesPerExecution: check.integer(top.maxLogBytesPerExecution, 'maxLogBytesPerExecution', 10 * 1024 * 1024, 4096),
    killGraceMs: check.integer(top.killGraceMs, 'killGraceMs', 5_000, 0),
    alerting: parseAlertConfig(top, process.env, (field, message) => check.fail(field, message)),
    maxStreamsPerToken: check.integer(top.maxStreamsPerToken, 'maxStreamsPerToken', 10, 1, 1000),
    maxConnections: check.integer(top.maxConnections, 'maxConnections', MAX_CONNECTIONS, 10, 1_000_000),
    allowedHosts: [],
    auditRetentionDays: check.integer(top.auditRetentionDays, 'auditRetentionDays', 90, 1),
  };
  if (config.maxStreamsPerToken >= config.maxConnections) {
    check.fail('maxStreamsPerToken', `must be below maxConnections (${config.maxConnections}): one token's event streams would hold every connection, /health included`);
  }
  if (top.allowedHosts !== undefined) {
    if (!Array.isArray(top.allowedHosts) || !top.allowedHosts.every((host: Json) => typeof host === 'string' && /^[A-Za-z0-9.:\[\]-]{1,253}$/.test(host))) {
      check.fail('allowedHosts', 'must be an array of host names (e.g. ["ops.example.internal"])');
    } else config.allowedHosts = (top.allowedHosts as string[]).map((host) => host.toLowerCase());
  }
  if (config.maxLogBytesPerExecution < 2 * config.maxLogLineBytes) {
    check.fail('maxLogBytesPerExecution', `must hold at least two lines of maxLogLineBytes (${2 * config.maxLogLineBytes} bytes), got ${config.maxLogBytesPerExecution}`);
  }
  if (check.problems.length > 0) throw check.error(text);
  return config;
}

/** "node" means the server's own Node; a relative path (./x, dir/x) resolves from the config's folder. */
function resolveCommand(command: string[], folder: string): string[] {
  const [program, ...args] = command;
  const resolvedProgram = program === 'node' ? process.execPath : program.includes('/') && !isAbsolute(program) ? resolve(folder, program) : program;
  const resolvedArgs = args.map((arg, index) =>
    index === 0 && program === 'node' && !arg.startsWith('-') && !isAbsolute(arg) ? resolve(folder, arg) : arg,
  );
  return [resolvedProgram, ...resolvedArgs];
}

export function loadConfig(path: string): ServerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError([`${path}: cannot read the config file (${code === 'ENOENT' ? 'no such file' : (error as Error).message})`]);
  }
  return parseConfig(text, path);
}
