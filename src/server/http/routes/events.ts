// GET /api/admin/events: the SSE stream (sseHub.ts does the streaming), at most maxStreamsPerToken per token.
import { Type } from '@sinclair/typebox';
import { callerOf, type Api, type HttpDeps } from '../context';
import { Refusal } from '../errors';
import { ErrorReplySchema, refusals, Uuid } from '../schemas';

export function eventRoutes(app: Api, deps: HttpDeps, maxStreamsPerToken: number): void {
  app.get(
    '/api/admin/events',
    {
      config: { permission: 'read' },
      schema: {
        querystring: Type.Object({
          follow: Type.Optional(Type.Array(Uuid, { maxItems: 20 })),
          lastEventId: Type.Optional(Type.Integer({ minimum: 0 })),
        }),
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ pattern: '^\\d{1,20}$' })) }),
        response: { 429: ErrorReplySchema, ...refusals },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      if (!deps.sse.hasRoomFor(caller.actor)) {
        throw new Refusal(
          429,
          'events',
          caller.actor,
          `This token already holds ${maxStreamsPerToken} open event streams (maxStreamsPerToken): close one (another VS Code window?) or use another token.`,
          { retryAfterS: 5 },
          { 'retry-after': '5' },
        );
      }
      const header = request.headers['last-event-id'];
      const lastEventId = header !== undefined ? Number(header) : request.query.lastEventId;
      reply.hijack();
      await deps.sse.open(reply.raw, { actor: caller.actor, authorization: request.headers.authorization }, lastEventId, request.query.follow ?? []);
    },
  );
}
