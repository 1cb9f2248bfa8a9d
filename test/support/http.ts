// A tiny JSON client for the server tests: every call returns status, headers and the parsed body.
import { readFileSync } from 'node:fs';
import { API_PATHS, type Execution, type ExecutionStatus } from '../../src/shared/api';
import { TEST_ADMIN_TOKEN, TEST_CRON_SECRET, type ServerProcess } from './serverProcess';
import { waitFor } from './waitFor';

export interface ApiReply<T> {
  status: number;
  headers: Headers;
  // any by default: each test reads the reply it expects.
  body: T;
  text: string;
}

export interface RequestOptions {
  method?: string;
  /** A value sent as JSON. */
  body?: unknown;
  /** Sent as is (for broken JSON and huge bodies); content-type stays application/json unless set. */
  rawBody?: string | Buffer;
  /** Bearer token; null sends no Authorization header. Default: the test super-admin token. */
  token?: string | null;
  /** Sends X-Cron-Secret instead of a bearer token (token defaults to none then). */
  secret?: string;
  headers?: Record<string, string>;
}

type Target = ServerProcess | string;

const baseOf = (target: Target) => (typeof target === 'string' ? target : target.url);

// any: the default lets each test read the fields it expects.
export async function api<T = any>(target: Target, path: string, options: RequestOptions = {}): Promise<ApiReply<T>> {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? (options.secret === undefined ? TEST_ADMIN_TOKEN : null) : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (options.secret !== undefined) headers['x-cron-secret'] = options.secret;
  let body: string | Buffer | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  Object.assign(headers, options.headers ?? {});
  const response = await fetch(baseOf(target) + path, { method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

/** POST /api/admin/cron-executions/trigger. */
export function trigger(target: Target, cronName: string, params?: Record<string, unknown>, options: RequestOptions = {}) {
  return api(target, API_PATHS.trigger, { ...options, method: 'POST', body: params === undefined ? { cronName } : { cronName, params } });
}

/** Triggers and insists on the 202, returning the new execution's id. */
export async function triggerOk(target: Target, cronName: string, params?: Record<string, unknown>): Promise<string> {
  const reply = await trigger(target, cronName, params);
  if (reply.status !== 202) throw new Error(`trigger ${cronName}: expected 202, got ${reply.status} ${reply.text}`);
  return reply.body.executionId as string;
}

/**
 * triggerOk for a cron that also runs on its schedule (the demo's every-5-minutes crons): a scheduled run
 * going at that moment answers 409 with its id; like an operator, wait for it to end and trigger again.
 */
export async function triggerOnceFree(target: Target, cronName: string, params?: Record<string, unknown>): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const reply = await trigger(target, cronName, params);
    if (reply.status === 202) return reply.body.executionId as string;
    const running = reply.body.runningExecutionId;
    if (reply.status !== 409 || typeof running !== 'string' || attempt === 3) throw new Error(`trigger ${cronName}: expected 202, got ${reply.status} ${reply.text}`);
    await waitForExecution(target, running, undefined, `the scheduled run ${running} of ${cronName} to end`, 120_000);
  }
}

export async function getExecution(target: Target, id: string): Promise<Execution> {
  const reply = await api<Execution>(target, API_PATHS.execution(id));
  if (reply.status !== 200) throw new Error(`GET execution ${id}: ${reply.status} ${reply.text}`);
  return reply.body;
}

/** Polls one execution until `predicate` holds (default: it has ended). */
export function waitForExecution(target: Target, id: string, predicate: (execution: Execution) => boolean = (e) => e.status !== 'running', what = 'the execution to end', timeoutMs = 30_000): Promise<Execution> {
  return waitFor(async () => {
    const execution = await getExecution(target, id);
    return predicate(execution) ? execution : undefined;
  }, `${what} (${id})`, timeoutMs);
}

export function waitForStatus(target: Target, id: string, status: ExecutionStatus, timeoutMs = 30_000): Promise<Execution> {
  return waitForExecution(target, id, (execution) => execution.status === status, `status ${status}`, timeoutMs);
}

export async function listExecutions(target: Target, query = ''): Promise<Execution[]> {
  const reply = await api(target, `${API_PATHS.executions}${query ? `?${query}` : ''}`);
  if (reply.status !== 200) throw new Error(`GET executions?${query}: ${reply.status} ${reply.text}`);
  return reply.body.executions as Execution[];
}

/** Every log line of an execution, following the `after` cursor. */
export async function allLogs(target: Target, id: string): Promise<{ lines: Array<{ seq: number; at: string; stream: string; line: string }>; done: boolean }> {
  const lines = [];
  let after = 0;
  for (;;) {
    const reply = await api(target, `${API_PATHS.logs(id)}?after=${after}`);
    if (reply.status !== 200) throw new Error(`GET logs of ${id}: ${reply.status} ${reply.text}`);
    lines.push(...reply.body.lines);
    if (reply.body.lines.length === 0 || reply.body.done) return { lines, done: reply.body.done };
    after = reply.body.lines[reply.body.lines.length - 1].seq;
  }
}

/** Whether a process id is alive (and not a zombie). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return true;
  }
}

/** Ends with SIGKILL what a test left behind (processes a failing assertion left running). */
export function killStrays(pids: Iterable<number>): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

export { TEST_ADMIN_TOKEN, TEST_CRON_SECRET };
