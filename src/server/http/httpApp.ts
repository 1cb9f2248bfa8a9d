// The HTTP API of DESIGN.md on Fastify: routes declare their schemas (validation and types from one
// TypeBox definition) and the permission they need; one hook authenticates and audits refusals.
import compress from '@fastify/compress';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import Ajv, { type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import {
  ALREADY_RUNNING_ERROR,
  CRON_NAME_PATTERN,
  EXECUTION_STATUSES,
  MANUAL_FAILURE_REASON,
  MANUAL_TRIGGER_MESSAGE,
  MANUAL_TRIGGER_NOTE,
  type HealthReply,
  type TriggerReply,
} from '../../shared/api';
import { allowed, type Authenticator, type Caller, type Permission } from '../auth';
import { BadRequestError, type CronService, type EndOutcome, type TriggerOutcome } from '../cronService';
import type { CronDefinition } from '../config';
import type { Logger } from '../logger';
import type { AuditStore } from '../store/auditStore';
import type { ExecutionStore } from '../store/executionStore';
import type { LogStore } from '../store/logStore';
import { errorReply, HttpError, installErrorHandling } from './errors';
import type { SseHub } from './sseHub';
import { registerAlertRoutes } from '../alerts/alertRoutes';
import type { AlertsRuntime } from '../alerts/alertsRuntime';

export interface HttpDeps {
  service: CronService;
  executions: ExecutionStore;
  logs: LogStore;
  audit: AuditStore;
  auth: Authenticator;
  sse: SseHub;
  log: Logger;
  version: string;
  storeKind: HealthReply['store'];
  retentionDays: number;
  startedAt: number;
  /** Retries and alerts (src/server/alerts): its routes are registered with the others. */
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

const BODY_LIMIT = 1024 * 1024;
const Status = Type.Union(EXECUTION_STATUSES.map((status) => Type.Literal(status)));
const CronName = Type.String({ pattern: CRON_NAME_PATTERN, maxLength: 63 });
const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });
// Values stay untyped here: a typed union would let the validator coerce 3 into "3". resolveParams checks them.
const ParamsBody = Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 50 }));
const Limit = Type.Integer({ minimum: 1, maximum: 1000, default: 100 });

// JSON bodies are validated as sent ({"cronName": 42} is a bad body, not the cron "42"); query strings,
// path params and headers are text, so they are converted to the declared types first.
// Ajv converts "1e309" to Infinity and then skips the integer's bounds: the url validator refuses it itself.
const validators = {
  body: addFormats(new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: true, allErrors: false })),
  url: addFormats(new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: true, allErrors: false })),
};

export async function buildHttp(deps: HttpDeps): Promise<FastifyInstance> {
  const { service, executions, audit, log } = deps;
  const app = Fastify({ bodyLimit: BODY_LIMIT, logger: false, forceCloseConnections: true, return503OnClosing: true }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(({ schema, httpPart }) => {
    if (httpPart === 'body') return validators.body.compile(schema);
    const validate = validators.url.compile(schema);
    const check = (data: Record<string, unknown>): boolean => {
      const infinite = validate(data) ? Object.keys(data ?? {}).find((key) => typeof data[key] === 'number' && !Number.isFinite(data[key])) : undefined;
      check.errors = infinite ? [{ instancePath: `/${infinite}`, schemaPath: '', keyword: 'finite', params: {}, message: 'must be a finite number' }] : validate.errors;
      return !check.errors;
    };
    check.errors = null as ErrorObject[] | null | undefined;
    return check;
  });
  installErrorHandling(app, log);
  // JSON replies (the timeline, the crons list) compressed when the client accepts it; the event stream is not.
  await app.register(compress, { threshold: 1024 });

  const record = (request: FastifyRequest, action: string, target: string | null, details: Record<string, unknown> = {}) =>
    audit
      .record({ actor: request.caller?.actor ?? 'anonymous', role: request.caller?.role ?? null, action, target, details, clientAddress: request.ip })
      .catch((error) => log.error('Could not write the audit trail', { action, error: String(error) }));

  /** Refuses and audits in one step. */
  const refuse = async (request: FastifyRequest, reply: FastifyReply, status: number, action: string, target: string | null, message: string, extra: Record<string, unknown> = {}) => {
    await record(request, `${action}.refused`, target, { status, reason: message, ...extra });
    return reply.code(status).send(errorReply(message, extra));
  };

  app.addHook('onRequest', async (request, reply) => {
    const permission = request.routeOptions.config.permission;
    if (permission === undefined || permission === 'public') return;
    const secret = request.headers['x-cron-secret'];
    const result = await deps.auth.identify(request.headers.authorization, Array.isArray(secret) ? secret[0] : secret);
    const target = request.url.split('?')[0];
    if (!result.ok) return refuse(request, reply, 401, 'auth', target, result.reason, { method: request.method });
    request.caller = result.caller;
    const denied = allowed(result.caller, permission);
    if (denied) return refuse(request, reply, 403, 'auth', target, denied, { method: request.method });
  });

  app.addHook('onResponse', async (request, reply) => {
    if (request.method !== 'GET' || reply.statusCode >= 400) {
      log.info(`${request.method} ${request.url} ${reply.statusCode} ${Math.round(reply.elapsedTime)}ms`, { caller: request.caller?.actor });
    }
  });

  const cronOr404 = (name: string): CronDefinition => {
    const cron = service.cron(name);
    if (!cron) throw new HttpError(404, `Unknown cron "${name}": GET /api/admin/crons lists the crons this server runs.`, { cronName: name });
    return cron;
  };

  app.get('/health', { config: { permission: 'public' } }, async (_request, reply): Promise<HealthReply> => {
    const storeOk = await executions.counts24h().then(
      () => true,
      () => false,
    );
    reply.code(storeOk ? 200 : 503);
    return { status: storeOk ? 'ok' : 'degraded', version: deps.version, store: deps.storeKind, runnerId: service.runnerId, uptimeS: Math.round((Date.now() - deps.startedAt) / 1000) };
  });

  app.get('/api/admin/crons', { config: { permission: 'read' } }, async () => ({ crons: await service.crons() }));
  registerAlertRoutes(app, { alerts: deps.alerts, audit: record });

  app.get(
    '/api/admin/cron-executions',
    {
      config: { permission: 'read' },
      schema: {
        querystring: Type.Object({
          cronName: Type.Optional(CronName),
          status: Type.Optional(Status),
          since: Type.Optional(Type.String({ format: 'date-time' })),
          until: Type.Optional(Type.String({ format: 'date-time' })),
          limit: Limit,
          before: Type.Optional(Type.String({ format: 'uuid' })),
        }),
      },
    },
    async (request) => executions.list(request.query),
  );

  app.get('/api/admin/cron-executions/stats', { config: { permission: 'read' } }, async () => service.stats());

  app.get(
    '/api/admin/cron-executions/timeline',
    {
      config: { permission: 'read' },
      schema: {
        querystring: Type.Object({
          days: Type.Integer({ minimum: 1, maximum: 31, default: 7 }),
          from: Type.Optional(Type.String({ format: 'date-time' })),
          to: Type.Optional(Type.String({ format: 'date-time' })),
          cronName: Type.Optional(Type.Union([CronName, Type.Literal('')])),
          status: Type.Optional(Type.Union([Status, Type.Literal('')])),
        }),
      },
    },
    async (request) => {
      const { days, from, to, cronName, status } = request.query;
      if (from && to && Date.parse(from) >= Date.parse(to)) throw new HttpError(400, `"from" (${from}) must be before "to" (${to}).`);
      if (from && (to ? Date.parse(to) : Date.now()) - Date.parse(from) > 31 * 86_400_000) throw new HttpError(400, `"from" (${from}) to "to" may cover at most 31 days: narrow the range.`);
      return executions.timeline({ days, from, to, cronName: cronName || undefined, status: status || undefined });
    },
  );

  const executionOr404 = async (id: string) => {
    const execution = await executions.get(id);
    if (!execution) throw new HttpError(404, `No execution with id "${id}": it may have been removed by the retention (GET /api/admin/cron-executions lists them).`);
    return execution;
  };

  app.get('/api/admin/cron-executions/:id', { config: { permission: 'read' }, schema: { params: IdParams } }, async (request) => executionOr404(request.params.id));

  app.get(
    '/api/admin/cron-executions/:id/logs',
    {
      config: { permission: 'read' },
      schema: {
        params: IdParams,
        querystring: Type.Object({ after: Type.Integer({ minimum: 0, default: 0 }), limit: Type.Integer({ minimum: 1, maximum: 5000, default: 1000 }) }),
      },
    },
    async (request) => {
      // Status before lines: "done" is only claimed once no line can still arrive.
      const execution = await executionOr404(request.params.id);
      const lines = await deps.logs.after(execution.id, request.query.after, request.query.limit);
      return { lines, done: execution.status !== 'running' && lines.length < request.query.limit };
    },
  );

  app.post(
    '/api/admin/cron-executions/trigger',
    { config: { permission: 'act' }, schema: { body: Type.Object({ cronName: CronName, params: ParamsBody }) } },
    async (request, reply) => {
      const { cronName } = request.body;
      const cron = service.cron(cronName);
      log.info(`[Manual Trigger] Parameters for ${cronName}: ${JSON.stringify(request.body.params ?? {})}`, { caller: request.caller!.actor });
      if (!cron) return refuse(request, reply, 404, 'trigger', cronName, `Unknown cron "${cronName}": GET /api/admin/crons lists the crons this server runs.`, { cronName });
      let params;
      try {
        params = service.resolveParams(cron, request.body.params);
      } catch (error) {
        if (error instanceof BadRequestError) return refuse(request, reply, 400, 'trigger', cronName, error.message, { cronName });
        throw error;
      }
      const outcome = await service.trigger(cron, params, request.caller!.actor);
      return answerStart(request, reply, cron, outcome, 'trigger');
    },
  );

  const answerStart = async (request: FastifyRequest, reply: FastifyReply, cron: CronDefinition, outcome: TriggerOutcome, action: string) => {
    switch (outcome.kind) {
      case 'noRunner':
        return refuse(request, reply, 503, action, cron.name, `No runner that ${cron.name} is pinned to (runOn: ${outcome.runOn.join(', ')}) is alive: start one of them, or change runOn.`, { cronName: cron.name });
      case 'running':
        log.warn(`[Manual Trigger] Cron ${cron.name} is already running (${outcome.runningExecutionId})`);
        return refuse(request, reply, 409, action, cron.name, ALREADY_RUNNING_ERROR, {
          runningExecutionId: outcome.runningExecutionId,
          cronName: cron.name,
          message: `Wait for execution ${outcome.runningExecutionId} to end (estimated ${Math.round(cron.estimatedDurationMs / 1000)} s), or cancel it.`,
        });
      case 'rateLimited': {
        const limits = `${cron.name}: at most 1 manual run per cron every ${deps.service.rateLimits.perCronSeconds} s and ${deps.service.rateLimits.globalPerMinute} a minute overall`;
        reply.header('Retry-After', String(outcome.retryAfterS));
        log.warn(`[Manual Trigger] Rate limit for ${cron.name}: retry in ${outcome.retryAfterS} s`);
        return refuse(request, reply, 429, action, cron.name, `Rate limit reached (${limits}): retry in ${outcome.retryAfterS} s.`, {
          retryAfterS: outcome.retryAfterS,
          cronName: cron.name,
        });
      }
      case 'started': {
        const { execution } = outcome;
        await record(request, action, cron.name, { executionId: execution.id, params: execution.params });
        if (action === 'trigger') {
          const env = Object.fromEntries(Object.entries(execution.params).map(([name, value]) => [`CRON_PARAM_${name.toUpperCase()}`, String(value)]));
          log.info(`[Manual Trigger] Env vars: ${JSON.stringify(env)}`);
          log.info(`[Manual Trigger] ✅ Cron ${cron.name} triggered successfully`, { executionId: execution.id });
          const body: TriggerReply = {
            success: true,
            cronName: cron.name,
            description: cron.description,
            estimatedDuration: cron.estimatedDurationMs,
            executionId: execution.id,
            message: MANUAL_TRIGGER_MESSAGE,
            note: MANUAL_TRIGGER_NOTE,
          };
          return reply.code(202).send(body);
        }
        return reply.code(201).send(execution);
      }
    }
  };

  const answerEnd = async (request: FastifyRequest, reply: FastifyReply, id: string, outcome: EndOutcome, action: string) => {
    switch (outcome.kind) {
      case 'notFound':
        return refuse(request, reply, 404, action, id, `No execution with id "${id}".`);
      case 'notRunning':
        return refuse(request, reply, 409, action, id, `Execution ${id} is no longer running (status ${outcome.execution.status}): nothing to do.`, {
          status: outcome.execution.status,
          cronName: outcome.execution.cronName,
        });
      case 'ended':
        await record(request, action, id, { cronName: outcome.execution.cronName, status: outcome.execution.status, error: outcome.execution.errorMessage });
        return reply.code(200).send(outcome.execution);
    }
  };

  const optionalReason = (body: unknown): string | undefined => {
    if (body === undefined || body === null) return undefined;
    if (typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'Body must be a JSON object such as {"reason": "..."} (or empty).');
    const reason = (body as { reason?: unknown }).reason;
    if (reason === undefined) return undefined;
    if (typeof reason !== 'string' || reason.trim() === '' || reason.length > 1000) throw new HttpError(400, '"reason" must be a non-empty string of at most 1000 characters.');
    return reason;
  };

  app.post('/api/admin/cron-executions/:id/mark-failed', { config: { permission: 'act' }, schema: { params: IdParams } }, async (request, reply) => {
    const reason = optionalReason(request.body) ?? MANUAL_FAILURE_REASON;
    const outcome = await service.end(request.params.id, { status: 'failed', errorMessage: reason });
    return answerEnd(request, reply, request.params.id, outcome, 'mark-failed');
  });

  app.post('/api/admin/cron-executions/:id/cancel', { config: { permission: 'act' }, schema: { params: IdParams } }, async (request, reply) => {
    const reason = optionalReason(request.body);
    const outcome = await service.end(request.params.id, { status: 'cancelled', errorMessage: `Cancelled by ${request.caller!.actor}${reason ? `: ${reason}` : ''}` });
    return answerEnd(request, reply, request.params.id, outcome, 'cancel');
  });

  for (const paused of [true, false]) {
    app.post(
      `/api/admin/crons/:name/${paused ? 'pause' : 'resume'}`,
      { config: { permission: 'act' }, schema: { params: Type.Object({ name: Type.String({ maxLength: 100 }) }) } },
      async (request) => {
        const cron = cronOr404(request.params.name);
        const result = await service.setPaused(cron, paused, request.caller!.actor);
        await record(request, paused ? 'pause' : 'resume', cron.name);
        log.info(`[Scheduler] ${cron.name} ${paused ? 'paused' : 'resumed'} by ${request.caller!.actor}`);
        return result;
      },
    );
  }

  app.get(
    '/api/admin/audit',
    {
      config: { permission: 'audit' },
      schema: { querystring: Type.Object({ limit: Limit, action: Type.Optional(Type.String({ maxLength: 100 })), actor: Type.Optional(Type.String({ maxLength: 200 })) }) },
    },
    async (request) => ({ entries: await audit.list(request.query.limit, request.query) }),
  );

  app.get(
    '/api/admin/events',
    {
      config: { permission: 'read' },
      schema: {
        querystring: Type.Object({
          follow: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 20 })),
          lastEventId: Type.Optional(Type.Integer({ minimum: 0 })),
        }),
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ pattern: '^\\d{1,20}$' })) }),
      },
    },
    async (request, reply) => {
      const header = request.headers['last-event-id'];
      const lastEventId = header !== undefined ? Number(header) : request.query.lastEventId;
      reply.hijack();
      await deps.sse.open(reply.raw, lastEventId, request.query.follow ?? []);
    },
  );

  app.post(
    '/api/cron/start',
    { config: { permission: 'machine' }, schema: { body: Type.Object({ cronName: CronName, params: ParamsBody }) } },
    async (request, reply) => {
      const cron = service.cron(request.body.cronName);
      if (!cron) return refuse(request, reply, 404, 'external-start', request.body.cronName, `Unknown cron "${request.body.cronName}": declare it in the server's config first.`);
      let params;
      try {
        params = service.resolveParams(cron, request.body.params);
      } catch (error) {
        if (error instanceof BadRequestError) return refuse(request, reply, 400, 'external-start', cron.name, error.message);
        throw error;
      }
      return answerStart(request, reply, cron, await service.externalStart(cron, params, request.caller!.actor), 'external-start');
    },
  );

  app.post(
    '/api/cron/complete',
    {
      config: { permission: 'machine' },
      schema: {
        body: Type.Object({
          executionId: Type.String({ format: 'uuid' }),
          status: Type.Union([Type.Literal('completed'), Type.Literal('failed')]),
          exitCode: Type.Optional(Type.Integer()),
          errorMessage: Type.Optional(Type.String({ maxLength: 10_000 })),
        }),
      },
    },
    async (request, reply) => {
      const { executionId, status, exitCode, errorMessage } = request.body;
      const outcome = await service.externalComplete(executionId, { status, exitCode: exitCode ?? null, errorMessage: errorMessage ?? null });
      return answerEnd(request, reply, executionId, outcome, 'external-complete');
    },
  );

  app.post(
    '/api/cron/retention',
    { config: { permission: 'act' }, schema: { body: Type.Optional(Type.Object({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })) })) } },
    async (request) => {
      const days = request.body?.days ?? deps.retentionDays;
      const deleted = await executions.applyRetention(days);
      await record(request, 'retention', null, { days, deleted });
      log.info(`[Retention] Deleted ${deleted} executions older than ${days} days`);
      return { success: true, deleted, days };
    },
  );

  return app;
}
