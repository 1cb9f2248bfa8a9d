// GET /api/admin/audit: the audit trail, for a super-admin.
import { Type } from '@sinclair/typebox';
import type { Api, HttpDeps } from '../context';
import { AuditReplySchema, Limit, refusals } from '../schemas';

export function auditRoutes(app: Api, deps: HttpDeps, flushRefusals: () => Promise<void>): void {
  app.get(
    '/api/admin/audit',
    {
      config: { permission: 'audit' },
      schema: {
        querystring: Type.Object({ limit: Limit, action: Type.Optional(Type.String({ maxLength: 100 })), actor: Type.Optional(Type.String({ maxLength: 200 })) }),
        response: { 200: AuditReplySchema, ...refusals },
      },
    },
    async (request) => {
      // The refusals counted so far this minute are written first, so the reader sees them.
      await flushRefusals();
      return { entries: await deps.audit.list(request.query.limit, request.query) };
    },
  );
}
