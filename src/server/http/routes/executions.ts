// Executions: history, one run, its log lines, the KPIs, the timeline, and the acts on runs (trigger,
// mark-failed, cancel).
import { negotiate } from '@fastify/accept-negotiator';
import { Type, type Static } from '@sinclair/typebox';
import { MANUAL_FAILURE_REASON } from '../../../shared/api';
import { auditor, callerOf, cronWithParams, executionOr404, type Api, type HttpDeps } from '../context';
import type { TimelineEncoding } from '../../store/timelineProtocol';
import { HttpError } from '../errors';
import { answerTrigger, endedOrRefusal } from '../outcomes';
import {
  CronName,
  ErrorReplySchema,
  ExecutionSchema,
  ExecutionsReplySchema,
  IdParams,
  Limit,
  LogsReplySchema,
  ParamsBody,
  refusals,
  StatsSchema,
  Status,
  TimelineReplySchema,
  TriggerReplySchema,
  Uuid,
} from '../schemas';

/**
 * gzip when the request accepts it (its q not 0, or "*"), as @fastify/compress decides; else plain JSON. An
 * explicit `gzip;q=0` wins over a "*" (RFC 9110 §12.5.3), which the negotiator alone does not honour.
 */
function timelineEncoding(headers: { 'accept-encoding'?: string; 'x-no-compression'?: string | string[] }): TimelineEncoding {
  const accepted = headers['accept-encoding']?.toLowerCase().replace(/x-gzip/g, 'gzip');
  if (headers['x-no-compression'] !== undefined || !accepted) return 'identity';
  const refused = accepted.split(',').some((part) => {
    const [name, ...params] = part.split(';').map((piece) => piece.trim());
    return name === 'gzip' && params.some((param) => /^q\s*=\s*0(\.0{0,3})?$/.test(param));
  });
  return !refused && negotiate(accepted, ['gzip']) === 'gzip' ? 'gzip' : 'identity';
}

const ReasonBody = Type.Union([Type.Object({ reason: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, pattern: '\\S' })) }), Type.Null()]);

export function executionRoutes(app: Api, deps: HttpDeps): void {
  const { service, executions } = deps;
  const record = auditor(deps);

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
          before: Type.Optional(Uuid),
        }),
        response: { 200: ExecutionsReplySchema, ...refusals },
      },
    },
    async (request) => {
      const { before } = request.query;
      // A cursor whose row is gone would read as "no older runs": say so instead of ending the history.
      if (before && !(await executions.get(before))) {
        throw new HttpError(400, `The cursor "before" (${before}) names no execution: it was removed (retention) or mistyped. Start again without "before".`);
      }
      const page = await executions.list(request.query);
      return { ...page, executions: await deps.alerts.view.executions(page.executions) };
    },
  );

  app.get('/api/admin/cron-executions/stats', { config: { permission: 'read' }, schema: { response: { 200: StatsSchema, ...refusals } } }, async () => service.stats());

  app.get(
    '/api/admin/cron-executions/timeline',
    {
      config: { permission: 'read' },
      // Compressed where it is written (gzip, in the worker) or not at all: never on the main thread.
      compress: false,
      schema: {
        querystring: Type.Object({
          days: Type.Integer({ minimum: 1, maximum: 31, default: 7 }),
          from: Type.Optional(Type.String({ format: 'date-time' })),
          to: Type.Optional(Type.String({ format: 'date-time' })),
          cronName: Type.Optional(Type.Union([CronName, Type.Literal('')])),
          status: Type.Optional(Type.Union([Status, Type.Literal('')])),
        }),
        response: { 200: TimelineReplySchema, ...refusals },
      },
    },
    async (request, reply) => {
      const { days, from, to, cronName, status } = request.query;
      if (from && to && Date.parse(from) >= Date.parse(to)) throw new HttpError(400, `"from" (${from}) must be before "to" (${to}).`);
      if (from && Date.parse(from) > Date.now()) throw new HttpError(400, `"from" (${from}) is in the future: the timeline shows runs up to now.`);
      if (from && (to ? Date.parse(to) : Date.now()) - Date.parse(from) > 31 * 86_400_000) throw new HttpError(400, `The range from ${from} to ${to ?? 'now'} is longer than 31 days: narrow it (or use "days", up to 31).`);
      const answer = await deps.timeline.routeReply({ days, from, to, cronName: cronName || undefined, status: status || undefined }, timelineEncoding(request.headers));
      // The body is written (and gzipped when the client accepts it) where it was read (timelineBody.ts):
      // sent as is. Fastify does not serialize a string or a Buffer again; a client that does not accept gzip
      // gets plain JSON (the route is left out of @fastify/compress).
      reply.type('application/json; charset=utf-8').header('vary', 'accept-encoding');
      if (answer.encoding === 'gzip') reply.header('content-encoding', 'gzip');
      return reply.send(answer.body as unknown as Static<typeof TimelineReplySchema>);
    },
  );

  app.get(
    '/api/admin/cron-executions/:id',
    { config: { permission: 'read' }, schema: { params: IdParams, response: { 200: ExecutionSchema, 404: ErrorReplySchema, ...refusals } } },
    async (request) => deps.alerts.view.execution(await executionOr404(deps, request.params.id)),
  );

  app.get(
    '/api/admin/cron-executions/:id/logs',
    {
      config: { permission: 'read' },
      schema: {
        params: IdParams,
        querystring: Type.Object({ after: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, default: 0 }), limit: Type.Integer({ minimum: 1, maximum: 5000, default: 1000 }) }),
        response: { 200: LogsReplySchema, 404: ErrorReplySchema, ...refusals },
      },
    },
    async (request) => {
      // Status before lines: "done" is only claimed once no line can still arrive.
      const execution = await executionOr404(deps, request.params.id);
      const lines = await deps.logs.after(execution.id, request.query.after, request.query.limit);
      return { lines, done: execution.status !== 'running' && lines.length < request.query.limit };
    },
  );

  app.post(
    '/api/admin/cron-executions/trigger',
    {
      config: { permission: 'trigger' },
      schema: { body: Type.Object({ cronName: CronName, params: ParamsBody }), response: { 202: TriggerReplySchema, 404: ErrorReplySchema, 409: ErrorReplySchema, 429: ErrorReplySchema, ...refusals } },
    },
    async (request, reply) => {
      const { cron, params } = cronWithParams(deps, 'trigger', request.body.cronName, request.body.params);
      const outcome = await service.trigger(cron, params, callerOf(request).actor);
      return answerTrigger(deps, record, request, reply, cron, outcome);
    },
  );

  const endRoute = (path: string, action: 'mark-failed' | 'cancel') =>
    app.post(
      path,
      {
        config: { permission: 'act' },
        schema: { params: IdParams, body: Type.Optional(ReasonBody), response: { 200: ExecutionSchema, 404: ErrorReplySchema, 409: ErrorReplySchema, ...refusals } },
      },
      async (request) => {
        const { id } = request.params;
        const reason = request.body?.reason;
        const actor = callerOf(request).actor;
        const outcome =
          action === 'mark-failed'
            ? await service.end(id, { status: 'failed', errorMessage: reason ?? MANUAL_FAILURE_REASON })
            : await service.end(id, { status: 'cancelled', errorMessage: `Cancelled by ${actor}${reason ? `: ${reason}` : ''}` });
        return endedOrRefusal(record, request, id, outcome, action);
      },
    );
  endRoute('/api/admin/cron-executions/:id/mark-failed', 'mark-failed');
  endRoute('/api/admin/cron-executions/:id/cancel', 'cancel');
}
