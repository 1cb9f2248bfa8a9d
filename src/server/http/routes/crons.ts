// The crons: the list (with when a manual trigger is next accepted), pause/resume of a schedule, and the
// ticks a cron skipped.
import { Type } from '@sinclair/typebox';
import { auditor, callerOf, cronOr404, unknownCron, type Api, type HttpDeps } from '../context';
import { HttpError } from '../errors';
import { CronSchema, CronsReplySchema, ErrorReplySchema, Limit, NameParams, refusals, SkippedTicksReplySchema } from '../schemas';

export function cronRoutes(app: Api, deps: HttpDeps): void {
  const record = auditor(deps);

  app.get('/api/admin/crons', { config: { permission: 'read' }, schema: { response: { 200: CronsReplySchema, ...refusals } } }, async () => ({ crons: await deps.service.crons() }));

  app.get(
    '/api/admin/crons/:name/skipped',
    {
      config: { permission: 'read' },
      schema: {
        params: NameParams,
        querystring: Type.Object({ limit: Limit, before: Type.Optional(Type.String({ format: 'date-time' })) }),
        response: { 200: SkippedTicksReplySchema, 404: ErrorReplySchema, ...refusals },
      },
    },
    async (request) => {
      const cron = deps.service.cron(request.params.name);
      if (!cron) throw new HttpError(404, unknownCron(request.params.name.slice(0, 100)));
      return deps.skipped.list(cron.name, request.query.limit, request.query.before);
    },
  );

  for (const paused of [true, false]) {
    const action = paused ? 'pause' : 'resume';
    app.post(
      `/api/admin/crons/:name/${action}`,
      { config: { permission: 'act' }, schema: { params: NameParams, response: { 200: CronSchema, 404: ErrorReplySchema, ...refusals } } },
      async (request) => {
        const cron = cronOr404(deps, action, request.params.name);
        const caller = callerOf(request);
        const result = await deps.service.setPaused(cron, paused, caller.actor);
        await record(request, action, cron.name);
        deps.log.info(`[Scheduler] ${cron.name} ${paused ? 'paused' : 'resumed'} by ${caller.actor}`);
        return result;
      },
    );
  }
}
