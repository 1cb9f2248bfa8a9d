// The machine lane (X-Cron-Secret): external scripts record their own runs, and the retention is applied
// (by a script, or by an admin).
import { Type } from '@sinclair/typebox';
import { auditor, callerOf, cronWithParams, type Api, type HttpDeps } from '../context';
import { endedOrRefusal, startedOrRefusal } from '../outcomes';
import { CronName, ErrorReplySchema, ExecutionSchema, ParamsBody, refusals, RetentionReplySchema, Uuid } from '../schemas';

export function machineRoutes(app: Api, deps: HttpDeps): void {
  const record = auditor(deps);

  app.post(
    '/api/cron/start',
    {
      config: { permission: 'machine' },
      schema: { body: Type.Object({ cronName: CronName, params: ParamsBody }), response: { 201: ExecutionSchema, 404: ErrorReplySchema, 409: ErrorReplySchema, ...refusals } },
    },
    async (request, reply) => {
      const { cron, params } = cronWithParams(deps, 'external-start', request.body.cronName, request.body.params);
      const execution = startedOrRefusal(deps, cron, await deps.service.externalStart(cron, params, callerOf(request).actor), 'external-start');
      await record(request, 'external-start', cron.name, { executionId: execution.id, params: execution.params });
      reply.code(201);
      return execution;
    },
  );

  app.post(
    '/api/cron/complete',
    {
      config: { permission: 'machine' },
      schema: {
        body: Type.Object({
          executionId: Uuid,
          status: Type.Union([Type.Literal('completed'), Type.Literal('failed')]),
          exitCode: Type.Optional(Type.Integer({ minimum: -2147483648, maximum: 2147483647 })),
          errorMessage: Type.Optional(Type.String({ maxLength: 10_000 })),
        }),
        response: { 200: ExecutionSchema, 404: ErrorReplySchema, 409: ErrorReplySchema, ...refusals },
      },
    },
    async (request) => {
      const { executionId, status, exitCode, errorMessage } = request.body;
      const outcome = await deps.service.externalComplete(executionId, { status, exitCode: exitCode ?? null, errorMessage: errorMessage ?? null });
      // A failed external run may be retried: the script's reply says so like every other read.
      return deps.alerts.view.execution(await endedOrRefusal(record, request, executionId, outcome, 'external-complete'));
    },
  );

  app.post(
    '/api/cron/retention',
    {
      config: { permission: 'retention' },
      schema: {
        body: Type.Optional(Type.Union([Type.Object({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })) }), Type.Null()])),
        response: { 200: RetentionReplySchema, ...refusals },
      },
    },
    async (request) => {
      const days = request.body?.days ?? deps.retentionDays;
      const deleted = await deps.executions.applyRetention(days);
      const auditDeleted = await deps.audit.prune(deps.auditRetentionDays);
      await record(request, 'retention', null, { days, deleted, auditDeleted });
      deps.log.info(`[Retention] Deleted ${deleted} executions older than ${days} days and ${auditDeleted} audit entries older than ${deps.auditRetentionDays} days`);
      return { success: true as const, deleted, days, auditDeleted };
    },
  );
}
