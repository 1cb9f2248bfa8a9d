// What a job's process sees of the server: an allow-listed environment (never the server's own secrets),
// the cron's own variables, the run's identity, and optionally another OS user.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Execution } from '../shared/api';
import type { CronDefinition } from './config';

/** Passed from the server's environment to every job. */
const ALLOWED = new Set(['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'TERM']);
const ALLOWED_PREFIX = /^LC_/;
/** Never passed, even with inheritEnv: how the server reaches its store and its own settings. */
const SERVER_SECRET = /^(DATABASE_URL$|PG|CRON_OPS_)/;
/** Set per run; a cron's `env` may not override them. */
export const RESERVED_ENV = /^CRON_(SECRET|TRIGGER_SERVER_URL|EXECUTION_ID|NAME|PARAMS?(_.*)?)$/;

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/** The passwd entry of a user (through NSS with getent, else /etc/passwd). */
export function lookupUser(name: string): OsUser | undefined {
  let line: string | undefined;
  try {
    line = execFileSync('getent', ['passwd', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0];
  } catch (error) {
    // getent exits 2 for an unknown user; without getent, read the file.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
    try {
      line = readFileSync('/etc/passwd', 'utf8')
        .split('\n')
        .find((entry) => entry.split(':')[0] === name);
    } catch {
      return undefined;
    }
  }
  const fields = line?.split(':');
  if (!fields || fields.length < 7 || fields[0] !== name) return undefined;
  return { name, uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5], shell: fields[6] };
}

/** Why a cron cannot run as `user` here, or undefined when it can (`entry`: its passwd entry, if looked up). */
export function userProblem(user: string, serverUid: number | undefined = process.getuid?.(), entry: OsUser | undefined = lookupUser(user)): string | undefined {
  if (!entry) return `"${user}" is not a user on this host (no passwd entry): create it, or remove "user" to run the job as the server's user`;
  if (serverUid === undefined) return '"user" needs a POSIX host: remove it on this platform';
  if (serverUid !== 0 && serverUid !== entry.uid) {
    return `running as "${user}" needs the server to run as root, and it runs as uid ${serverUid}: start the server as root, or remove "user" to run the job as the server's user`;
  }
  return undefined;
}

export interface JobEnvironmentInput {
  serverEnv: NodeJS.ProcessEnv;
  cron: Pick<CronDefinition, 'name' | 'env' | 'inheritEnv'>;
  execution: Pick<Execution, 'id' | 'params'>;
  /** CRON_SECRET and CRON_TRIGGER_SERVER_URL, as the operator guide gives them to jobs. */
  base: Record<string, string>;
  /** Variables the server reads secrets from (alert destinations): never passed, even with inheritEnv. */
  serverSecrets?: ReadonlySet<string>;
  user?: OsUser;
}

export function jobEnvironment({ serverEnv, cron, execution, base, user, serverSecrets }: JobEnvironmentInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(serverEnv)) {
    if (value === undefined || SERVER_SECRET.test(name) || serverSecrets?.has(name)) continue;
    if (cron.inheritEnv || ALLOWED.has(name) || ALLOWED_PREFIX.test(name)) env[name] = value;
  }
  // Inside an Electron host this variable would make a child "node" behave as Node: never for a job.
  delete env.ELECTRON_RUN_AS_NODE;
  if (user) Object.assign(env, { HOME: user.home, USER: user.name, LOGNAME: user.name, SHELL: user.shell });
  Object.assign(env, cron.env, base);
  for (const [name, value] of Object.entries(execution.params)) env[`CRON_PARAM_${name.toUpperCase()}`] = String(value);
  Object.assign(env, { CRON_PARAMS: JSON.stringify(execution.params), CRON_EXECUTION_ID: execution.id, CRON_NAME: cron.name });
  return env;
}
