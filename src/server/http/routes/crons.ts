// The crons: the list (with when a manual trigger is next accepted) and pause/resume of a schedule.
import { auditor, callerOf, cronOr404, type Api, type HttpDeps } from '../context';
import { CronSchema, CronsReplySchema, ErrorReplySchema, NameParams, refusals } from '../schemas';

export function cronRoutes(app: Api, deps: HttpDeps): void {
  const record = auditor(deps);

  app.get('/api/admin/crons', { config: { permission: 'read' }, schema: { response: { 200: CronsReplySchema, ...refusals } } }, async () => ({ crons: await deps.service.crons() }));

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
