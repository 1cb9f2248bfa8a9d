// The backend's HTTP API, typed. Every failure becomes an ApiError whose message says what to do next.
// No vscode import: the extension passes vscode.l10n.t as `translate`.
import {
  API_PATHS,
  type CronsReply,
  type Cron,
  type ErrorReply,
  type Execution,
  type ExecutionStatus,
  type ExecutionsReply,
  type HealthReply,
  type LastSuccessfulRunReply,
  type LogsReply,
  type ScriptFileReply,
  type ScriptVersionReply,
  type SkippedTicksReply,
  type ParamValue,
  type SessionReply,
  type CreateTokenReply,
  type Role,
  type TokenInfo,
  type TokensReply,
  type Stats,
  type TimelineReply,
  type TriggerReply,
} from '../shared/api';
import { asErrorReply, failureMessage, type ApiAction, type ApiFailure, type FailureKind } from './errorMessages';
import { english, type Translate } from './format';
import { errorText, redactUrl, redactUrls } from './serverOrigin';

export class ApiError extends Error {
  /** HTTP status; undefined when no reply came (server down, timeout). */
  readonly status: number | undefined;
  readonly reply?: ErrorReply;
  readonly kind: FailureKind;
  readonly action: ApiAction;

  constructor(failure: ApiFailure, translate: Translate = english, locale = 'en') {
    // The one place a failure becomes text: a URL in it (fetch quotes the whole URL, credentials included) is redacted.
    super(redactUrls(failureMessage(failure, translate, locale)));
    this.name = 'ApiError';
    this.status = failure.kind === 'http' || failure.kind === 'malformed' ? failure.status : undefined;
    this.reply = failure.reply;
    this.kind = failure.kind;
    this.action = failure.action;
  }

  /** The token is missing, unknown or revoked: signing in again is the way out. */
  get isAuthFailure(): boolean {
    return this.status === 401;
  }

  /** No reply at all: the server is down, unreachable or too slow. */
  get isUnreachable(): boolean {
    return this.kind === 'unreachable' || this.kind === 'timeout';
  }
}

export interface ExecutionsQuery {
  cronName?: string;
  status?: ExecutionStatus;
  since?: string;
  until?: string;
  limit?: number;
  before?: string;
}

interface RequestOptions {
  method?: 'GET' | 'POST' | 'DELETE';
  query?: Record<string, string | number | null | undefined>;
  body?: unknown;
  action?: ApiAction;
  target?: string;
  /** Use this token instead of the stored one (sign-in checks a token before storing it). */
  token?: string | null;
  timeoutMs?: number;
  /** Statuses that are answers rather than failures (e.g. /health's 503 "degraded"). */
  accept?: number[];
  /** A light check of the reply's shape: a proxy's HTML page or another service's JSON is not a Cron Ops reply. */
  expect?: (body: Record<string, unknown>) => boolean;
}

const DEFAULT_TIMEOUT_MS = 10_000;

function networkCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return redactUrls(cause?.code ?? cause?.message ?? (errorText(error)));
}

export class ApiClient {
  timeoutMs = DEFAULT_TIMEOUT_MS;

  constructor(
    private readonly getBaseUrl: () => string,
    private readonly getToken: () => Promise<string | undefined>,
    private readonly translate: Translate = english,
    private readonly fetchImpl: typeof fetch = (input, init) => fetch(input, init),
    private readonly locale: () => string = () => 'en',
  ) {}

  /** Whether a token is stored for the current server (false after Sign Out). */
  async hasToken(): Promise<boolean> {
    return (await this.getToken()) !== undefined;
  }

  get baseUrl(): string {
    return this.getBaseUrl().replace(/\/+$/, '');
  }

  /** The server URL as messages and logs show it: credentials written into it are redacted. */
  get displayUrl(): string {
    return redactUrl(this.baseUrl);
  }

  health(): Promise<HealthReply> {
    return this.request<HealthReply>(API_PATHS.health, { action: 'health', token: null, accept: [503], expect: (body) => typeof body.status === 'string' });
  }

  crons(options: { token?: string } = {}): Promise<CronsReply> {
    return this.request<CronsReply>(API_PATHS.crons, { token: options.token, expect: (body) => Array.isArray(body.crons) });
  }

  executions(query: ExecutionsQuery = {}): Promise<ExecutionsReply> {
    return this.request<ExecutionsReply>(API_PATHS.executions, { query: { ...query }, expect: (body) => Array.isArray(body.executions) });
  }

  /** A cron's ticks that started no run, newest first. */
  skippedTicks(cronName: string, limit: number): Promise<SkippedTicksReply> {
    return this.request<SkippedTicksReply>(API_PATHS.skipped(cronName), { query: { limit }, target: cronName, expect: (body) => Array.isArray(body.skippedTicks) });
  }

  execution(id: string): Promise<Execution> {
    return this.request<Execution>(API_PATHS.execution(id), { target: id });
  }

  logs(id: string, after = 0, limit?: number): Promise<LogsReply> {
    return this.request<LogsReply>(API_PATHS.logs(id), { query: { after, limit }, target: id, expect: (body) => Array.isArray(body.lines) });
  }

  /** Which version of its scripts a run launched: the files, their hashes, the git commit. */
  script(id: string): Promise<ScriptVersionReply> {
    return this.request<ScriptVersionReply>(API_PATHS.script(id), { target: id, expect: (body) => Array.isArray(body.files) });
  }

  /** One file as the run launched it (admin and up). */
  scriptFile(id: string, path: string): Promise<ScriptFileReply> {
    return this.request<ScriptFileReply>(API_PATHS.scriptFile(id), { query: { path }, target: id, expect: (body) => typeof body.content === 'string' });
  }

  /** The latest successful run of the same cron before this one that has a recorded script version. */
  lastSuccessful(id: string, timeoutMs?: number): Promise<LastSuccessfulRunReply> {
    return this.request<LastSuccessfulRunReply>(API_PATHS.lastSuccessful(id), { target: id, timeoutMs, expect: (body) => 'execution' in body });
  }

  trigger(cronName: string, params?: Record<string, ParamValue>): Promise<TriggerReply> {
    return this.request<TriggerReply>(API_PATHS.trigger, {
      method: 'POST',
      body: params && Object.keys(params).length > 0 ? { cronName, params } : { cronName },
      action: 'trigger',
      target: cronName,
    });
  }

  markFailed(id: string, reason?: string): Promise<Execution> {
    return this.request<Execution>(API_PATHS.markFailed(id), { method: 'POST', body: reason ? { reason } : {}, action: 'markFailed', target: id });
  }

  cancel(id: string): Promise<Execution> {
    return this.request<Execution>(API_PATHS.cancel(id), { method: 'POST', body: {}, action: 'cancel', target: id });
  }

  pause(cronName: string): Promise<Cron> {
    return this.request<Cron>(API_PATHS.pause(cronName), { method: 'POST', body: {}, action: 'pause', target: cronName });
  }

  resume(cronName: string): Promise<Cron> {
    return this.request<Cron>(API_PATHS.resume(cronName), { method: 'POST', body: {}, action: 'resume', target: cronName });
  }

  /** Who the server takes the token for; undefined when the server has no session route (it predates roles in the UI). */
  async session(): Promise<SessionReply | undefined> {
    try {
      return await this.request<SessionReply>(API_PATHS.session, { expect: (body) => typeof body.role === 'string' });
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Every API token (super-admin). */
  async tokens(): Promise<TokenInfo[]> {
    return (await this.request<TokensReply>(API_PATHS.tokens, { action: 'tokens', expect: (body) => Array.isArray(body.tokens) })).tokens;
  }

  /** Creates a token; the reply holds it, shown once (super-admin). */
  createToken(name: string, role: Role): Promise<CreateTokenReply> {
    return this.request<CreateTokenReply>(API_PATHS.tokens, { method: 'POST', body: { name, role }, action: 'tokens', target: name, expect: (body) => typeof body.token === 'string' });
  }

  /** Revokes a token: the server refuses it from then on (super-admin). */
  async revokeToken(name: string): Promise<void> {
    await this.request<unknown>(API_PATHS.token(name), { method: 'DELETE', action: 'tokens', target: name });
  }

  stats(): Promise<Stats> {
    return this.request<Stats>(API_PATHS.stats, { expect: (body) => typeof body.running === 'number' });
  }

  /** Runs for the chart: the last `days`, or the range `from`–`to` (ISO) when zoomed. */
  timeline(query: { days?: number; from?: string; to?: string; cronName?: string | null; status?: ExecutionStatus | null }): Promise<TimelineReply> {
    return this.request<TimelineReply>(API_PATHS.timeline, {
      query: { days: query.days, from: query.from, to: query.to, cronName: query.cronName ?? undefined, status: query.status ?? undefined },
      expect: (body) => Array.isArray(body.executions),
    });
  }

  /** The SSE endpoint's URL (the event stream connects to it). */
  eventsUrl(follow: readonly string[] = []): string {
    const url = new URL(this.baseUrl + API_PATHS.events);
    for (const id of follow) url.searchParams.append('follow', id);
    return url.toString();
  }

  private fail(failure: Omit<ApiFailure, 'baseUrl'>): ApiError {
    return new ApiError({ ...failure, baseUrl: this.displayUrl }, this.translate, this.locale());
  }

  private async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const action = options.action ?? 'read';
    const target = options.target;
    let url: URL;
    try {
      url = new URL(this.baseUrl + path);
    } catch {
      throw this.fail({ kind: 'unreachable', action, target, cause: this.translate('invalid URL') });
    }
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, String(value));
    const token = options.token === null ? undefined : (options.token ?? (await this.getToken()));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;

    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(url, {
        method: options.method ?? 'GET',
        headers,
        body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const name = (error as Error | undefined)?.name;
      if (name === 'TimeoutError' || name === 'AbortError') throw this.fail({ kind: 'timeout', action, target, timeoutMs });
      throw this.fail({ kind: 'unreachable', action, target, cause: networkCause(error) });
    }

    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      if (response.ok) throw this.fail({ kind: 'malformed', action, target, status: response.status, cause: this.translate('not JSON: {0}', text.slice(0, 80)) });
      throw this.fail({ kind: 'http', action, target, status: response.status });
    }
    if (response.status === 204) return undefined as T;
    if (response.ok || options.accept?.includes(response.status)) {
      if (typeof body !== 'object' || body === null) throw this.fail({ kind: 'malformed', action, target, status: response.status, cause: this.translate('empty reply') });
      if (options.expect && !options.expect(body as Record<string, unknown>)) {
        throw this.fail({ kind: 'malformed', action, target, status: response.status, cause: this.translate('unexpected shape: {0}', text.slice(0, 80)) });
      }
      return body as T;
    }
    throw this.fail({ kind: 'http', action, target, status: response.status, reply: asErrorReply(body) });
  }
}
