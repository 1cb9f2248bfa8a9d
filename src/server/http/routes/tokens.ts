// Who am I (every role), and token management for a super-admin: list, create (shown once), revoke.
// A revoked token is refused from its next request on; its open event streams close within seconds.
import { Type } from '@sinclair/typebox';
import { auditor, callerOf, type Api, type HttpDeps } from '../context';
import { HttpError, Refusal } from '../errors';
import { CreateTokenReplySchema, ErrorReplySchema, refusals, RoleSchema, SessionReplySchema, TokenInfoSchema, TokenName, TokensReplySchema } from '../schemas';

export function tokenRoutes(app: Api, deps: HttpDeps): void {
  const record = auditor(deps);

  app.get('/api/admin/session', { config: { permission: 'read' }, schema: { response: { 200: SessionReplySchema, ...refusals } } }, async (request) => {
    const caller = callerOf(request);
    if (caller.role === 'machine') throw new HttpError(403, 'X-Cron-Secret is not a session: use a bearer token.');
    return { name: caller.tokenName ?? null, role: caller.role };
  });

  app.get('/api/admin/tokens', { config: { permission: 'tokens' }, schema: { response: { 200: TokensReplySchema, ...refusals } } }, async () => ({ tokens: await deps.tokens.list() }));

  app.post(
    '/api/admin/tokens',
    {
      config: { permission: 'tokens' },
      schema: { body: Type.Object({ name: TokenName, role: RoleSchema }), response: { 201: CreateTokenReplySchema, 409: ErrorReplySchema, ...refusals } },
    },
    async (request, reply) => {
      const { name, role } = request.body;
      if (await deps.tokens.exists(name)) throw new Refusal(409, 'token.create', name, `A token named "${name}" exists already: choose another name, or revoke it first.`);
      const token = await deps.tokens.create(name, role);
      await record(request, 'token.create', name, { role });
      deps.log.info(`Token "${name}" (${role}) created by ${callerOf(request).actor}`);
      reply.code(201);
      return { name, role, token };
    },
  );

  app.delete(
    '/api/admin/tokens/:name',
    { config: { permission: 'tokens' }, schema: { params: Type.Object({ name: Type.String({ maxLength: 100 }) }), response: { 200: TokenInfoSchema, 404: ErrorReplySchema, ...refusals } } },
    async (request) => {
      const { name } = request.params;
      if (!(await deps.tokens.revoke(name))) throw new Refusal(404, 'token.revoke', name, `No active token named "${name}" (GET /api/admin/tokens lists them).`);
      await record(request, 'token.revoke', name);
      deps.log.info(`Token "${name}" revoked by ${callerOf(request).actor}`);
      const info = (await deps.tokens.list()).find((token) => token.name === name);
      if (!info) throw new Error(`token ${name} vanished after its revocation`);
      return info;
    },
  );
}
