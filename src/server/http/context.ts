// What the route plugins share: the parts they call, the audit helper, and the one helper for "find the
// cron, check its params, refuse with an audited reply".
import type { FastifyInstance, FastifyRequest, RawServerDefault, FastifyBaseLogger, RawRequestDefaultExpression, RawReplyDefaultExpression } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Execution, HealthReply, ParamValue } from '../../shared/api';
import type { Authenticator, Caller, Permission } from '../auth';
import type { CronDefinition } from '../config';
import { BadRequestError, type CronService } from '../cronService';
import { truncatedJson, type Logger } from '../logger';
import type { AuditStore } from '../store/auditStore';
import type { ExecutionStore } from '../store/executionStore';
import type { LogStore } from '../store/logStore';
import type { SkippedTickStore } from '../store/skippedTickStore';
import type { ScriptVersionStore } from '../store/scriptVersionStore';
import type { TimelineSource } from '../store/timelineReader';
import type { TokenStore } from '../store/tokenStore';
import { HttpError, Refusal } from './errors';
import type { SseHub } from './sseHub';
import type { AlertsRuntime } from '../alerts/alertsRuntime';

export interface HttpDeps {
  service: CronService;
  executions: ExecutionStore;
  /** Ticks that started no run (the cron's skipped history, the timeline's marks). */
  skipped: SkippedTickStore;
  /** The timeline, read off the main thread where the store allows it. */
  timeline: TimelineSource;
  logs: LogStore;
  /** The script versions runs launched (routes/scripts.ts). */
  scripts: ScriptVersionStore;
  audit: AuditStore;
  tokens: TokenStore;
  auth: Authenticator;
  sse: SseHub;
  log: Logger;
  version: string;
  storeKind: HealthReply['store'];
  retentionDays: number;
  /** Audit entries older than this go with the retention. */
  auditRetentionDays: number;
  /** Host names a loopback-bound server also answers. */
  allowedHosts: readonly string[];
  /** The address the server is bound to (known once it listens). */
  bindHost(): string;
  /** Whether the store takes writes, and why not. */
  health(): Promise<{ ok: true } | { ok: false; reason: string }>;
  /** The cron definitions file: valid or not, with its problems, and when the crons in effect were loaded. */
  definitions(): NonNullable<HealthReply['definitions']>;
  startedAt: number;
  /** Retries and alerts (src/server/alerts): their routes are registered with the others. */
  alerts: AlertsRuntime;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: Permission | 'public';
  }
  interface FastifyRequest {
    caller?: Caller;
  }
}

export type Api = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

export type AuditRecorder = (request: FastifyRequest, action: string, target: string | null, details?: Record<string, unknown>) => Promise<void>;

export function auditor(deps: Pick<HttpDeps, 'audit' | 'log'>): AuditRecorder {
  return (request, action, target, details = {}) =>
    deps.audit
      .record({ actor: request.caller?.actor ?? 'anonymous', role: request.caller?.role ?? null, action, target, details, clientAddress: request.ip })
      .catch((error) => deps.log.error('Could not write the audit trail', { action, error: String(error) }));
}

/** The caller of a route that required authentication. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new Error('route without authentication asked for its caller');
  return request.caller;
}

export const unknownCron = (name: string) => `Unknown cron "${name}": GET /api/admin/crons lists the crons this server runs.`;

/**
 * The cron named in a request and its params resolved against its declaration; anything wrong is a
 * Refusal (404 unknown cron, 400 bad params) that the error handler audits as `action.refused`. The
 * params are logged only once they are valid, and cut short.
 */
export function cronWithParams(deps: Pick<HttpDeps, 'service' | 'log'>, action: string, cronName: string, given: Record<string, unknown> | undefined): { cron: CronDefinition; params: Record<string, ParamValue> } {
  const cron = deps.service.cron(cronName);
  if (!cron) throw new Refusal(404, action, cronName, unknownCron(cronName), { cronName });
  try {
    const params = deps.service.resolveParams(cron, given);
    deps.log.info(`[Manual Trigger] Parameters for ${cron.name}: ${truncatedJson(params)}`);
    return { cron, params };
  } catch (error) {
    if (error instanceof BadRequestError) throw new Refusal(400, action, cron.name, error.message.slice(0, 500), { cronName: cron.name });
    throw error;
  }
}

/** The cron named in a path, or a 404 Refusal. */
export function cronOr404(deps: Pick<HttpDeps, 'service'>, action: string, name: string): CronDefinition {
  const cron = deps.service.cron(name);
  if (!cron) throw new Refusal(404, action, name.slice(0, 100), unknownCron(name.slice(0, 100)), { cronName: name.slice(0, 100) });
  return cron;
}

/** The execution named in a path, or a 404 that says where the listing is. */
export async function executionOr404(deps: Pick<HttpDeps, 'executions'>, id: string): Promise<Execution> {
  const execution = await deps.executions.get(id);
  if (!execution) throw new HttpError(404, `No execution with id "${id}": it may have been removed by the retention (GET /api/admin/cron-executions lists them).`);
  return execution;
}
