// GET /health: liveness of the server, the store (can it write?) and the runner, and whether the cron
// definitions file as last read is valid. Public.
import { type Api, type HttpDeps } from '../context';
import { HealthReplySchema } from '../schemas';

export function healthRoutes(app: Api, deps: HttpDeps): void {
  app.get('/health', { config: { permission: 'public' }, schema: { response: { 200: HealthReplySchema, 503: HealthReplySchema } } }, async (_request, reply) => {
    const health = await deps.health();
    reply.code(health.ok ? 200 : 503);
    return {
      status: health.ok ? ('ok' as const) : ('degraded' as const),
      version: deps.version,
      store: deps.storeKind,
      runnerId: deps.service.runnerId,
      uptimeS: Math.round((Date.now() - deps.startedAt) / 1000),
      ...(health.ok ? {} : { reason: health.reason }),
      // An invalid definitions file leaves the status as it is: the last good crons still run (README).
      definitions: deps.definitions(),
    };
  });
}
