// The HTTP API of DESIGN.md on Fastify: the server-wide parts (validators, JSON parser, limits, the Host
// guard, authentication and its audit) here; the routes in one plugin per resource under routes/, each
// declaring its request and reply schemas (schemas.ts) and the permission it needs.
import { createServer, type Server } from 'node:http';
import compress from '@fastify/compress';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Ajv, { type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import { registerAlertRoutes } from '../alerts/alertRoutes';
import { allowed } from '../auth';
import { MAX_CONNECTIONS } from '../config';
import type { Api, HttpDeps } from './context';
import { auditor } from './context';
import { BODY_LIMIT, errorReply, HttpError, installErrorHandling, type Refusal } from './errors';
import { hostAllowed } from './hostCheck';
import { findBadString, jsonDepth, MAX_JSON_DEPTH } from './inputGuards';
import { RefusalAggregator } from './refusalAggregator';
import { auditRoutes } from './routes/audit';
import { cronRoutes } from './routes/crons';
import { eventRoutes } from './routes/events';
import { executionRoutes } from './routes/executions';
import { healthRoutes } from './routes/health';
import { machineRoutes } from './routes/machine';
import { scriptRoutes } from './routes/scripts';
import { tokenRoutes } from './routes/tokens';

export type { HttpDeps } from './context';

export interface HttpLimits {
  maxStreamsPerToken: number;
  /** Open connections at most: past it new ones are closed at once, so file descriptors last. */
  maxConnections?: number;
  /** Time to receive a request's headers, and the whole request. */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

// JSON bodies are validated as sent ({"cronName": 42} is a bad body, not the cron "42"); query strings,
// path params and headers are text, so they are converted to the declared types first.
// Ajv converts "1e309" to Infinity and then skips the integer's bounds: the url validator refuses it itself.
const validators = {
  body: addFormats(new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: true, allErrors: false })),
  url: addFormats(new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: true, allErrors: false })),
};

export interface Http {
  app: FastifyInstance;
  /** Writes the unauthenticated refusals still counted (at stop). */
  close(): Promise<void>;
}

export async function buildHttp(deps: HttpDeps, limits: HttpLimits): Promise<Http> {
  const { log } = deps;
  const headersTimeout = limits.headersTimeoutMs ?? 10_000;
  const requestTimeout = limits.requestTimeoutMs ?? 30_000;
  const app: Api = Fastify({
    loggerInstance: log.pino as FastifyBaseLogger,
    // One line per act or error is logged by the onResponse hook below, not two per request.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    forceCloseConnections: true,
    // Errors Fastify raises before routing (a bad percent-escape in the path) get the API's error shape too.
    frameworkErrors: (error, _request, reply) => {
      const badUrl = error.code === 'FST_ERR_BAD_URL';
      // Fastify types this reply with the (unknown) route's reply schema: it has none yet.
      (reply as unknown as FastifyReply).code(badUrl ? 400 : (error.statusCode ?? 400)).send(errorReply(badUrl ? 'The path is not valid percent-encoding: encode names with encodeURIComponent.' : error.message.slice(0, 300)));
    },
    return503OnClosing: true,
    // A half-open or idle connection does not hold a file descriptor for long; event streams write a
    // heartbeat well within this.
    connectionTimeout: 120_000,
    keepAliveTimeout: 5_000,
    requestTimeout,
    serverFactory: (handler) => createServer({ headersTimeout, requestTimeout, connectionsCheckingInterval: Math.min(2_000, headersTimeout), keepAliveTimeout: 5_000 }, handler),
  }).withTypeProvider<TypeBoxTypeProvider>();
  const maxConnections = limits.maxConnections ?? MAX_CONNECTIONS;
  (app.server as Server).maxConnections = maxConnections;
  logDroppedConnections(app.server as Server, maxConnections, app.log);

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

  // Depth is checked before parsing: a deeply nested body costs nothing and is a clear 400.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  // The API takes JSON only: text/plain gets the same 415 "send application/json" as any other type.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (jsonDepth(text) > MAX_JSON_DEPTH) {
      done(new HttpError(400, `Body is nested deeper than ${MAX_JSON_DEPTH} levels: send a flat JSON object such as {"cronName": "monitor-openai", "params": {"batchSize": 10}}.`), undefined);
      return;
    }
    parseJson(request, text, done);
  });

  // JSON replies (the timeline, the crons list) compressed when the client accepts it; the event stream is not.
  await app.register(compress, { threshold: 1024 });

  const record = auditor(deps);
  const refusals = new RefusalAggregator((entry) => deps.audit.record(entry).catch((error) => log.error('Could not write the audit trail', { error: String(error) })));
  installErrorHandling(app, log, (request: FastifyRequest, refusal: Refusal) => record(request, `${refusal.action}.refused`, refusal.target, { status: refusal.statusCode, reason: refusal.message, ...refusal.extra }));

  app.addHook('onRequest', async (request, reply) => {
    if (!hostAllowed(deps.bindHost(), request.headers.host, deps.allowedHosts)) {
      // Not audited: a rebinding page could otherwise fill the audit trail.
      return reply.code(403).send(errorReply(`This server answers only requests addressed to a loopback name (localhost, 127.0.0.1, [::1]); Host "${String(request.headers.host ?? '').slice(0, 100)}" is not one: add it to "allowedHosts" in the config if it is yours.`));
    }
    const permission = request.routeOptions.config.permission;
    if (permission === undefined || permission === 'public') return;
    const secret = request.headers['x-cron-secret'];
    const result = await deps.auth.identify(request.headers.authorization, Array.isArray(secret) ? secret[0] : secret);
    const target = request.url.split('?')[0].slice(0, 200);
    if (!result.ok) {
      refusals.count({ clientAddress: request.ip, status: 401, reason: result.reason, target, method: request.method });
      return reply.code(401).send(errorReply(result.reason));
    }
    request.caller = result.caller;
    const denied = allowed(result.caller, permission);
    if (denied) {
      await record(request, 'auth.refused', target, { status: 403, reason: denied, method: request.method });
      return reply.code(403).send(errorReply(denied));
    }
  });

  // Strings no part of the server can take (NUL, lone surrogates) are refused wherever they are.
  app.addHook('preValidation', async (request) => {
    for (const [part, value] of [
      ['body', request.body],
      ['query', request.query],
      ['path', request.params],
    ] as const) {
      const problem = findBadString(value, '');
      if (problem) throw new HttpError(400, `Invalid ${part}: ${problem.trim()}. Send plain text.`);
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    if (request.method !== 'GET' || reply.statusCode >= 400) {
      log.info(`${request.method} ${request.url.slice(0, 200)} ${reply.statusCode} ${Math.round(reply.elapsedTime)}ms`, { caller: request.caller?.actor });
    }
  });

  await app.register(async (scope) => healthRoutes(scope as Api, deps));
  await app.register(async (scope) => cronRoutes(scope as Api, deps));
  await app.register(async (scope) => executionRoutes(scope as Api, deps));
  await app.register(async (scope) => scriptRoutes(scope as Api, deps));
  await app.register(async (scope) => eventRoutes(scope as Api, deps, limits.maxStreamsPerToken));
  await app.register(async (scope) => auditRoutes(scope as Api, deps, () => refusals.flush(true)));
  await app.register(async (scope) => tokenRoutes(scope as Api, deps));
  await app.register(async (scope) => machineRoutes(scope as Api, deps));
  await app.register(async (scope) => registerAlertRoutes(scope, { alerts: deps.alerts, audit: record }));

  return { app, close: () => refusals.close() };
}

/** Refused connections are logged (the client sees only a closed socket): at once, then at most once a minute with their count. */
function logDroppedConnections(server: Server, maxConnections: number, log: FastifyBaseLogger): void {
  let dropped = 0;
  let quietUntil = 0;
  server.on('drop', () => {
    dropped++;
    const now = Date.now();
    if (now < quietUntil) return;
    quietUntil = now + 60_000;
    log.warn(
      `${dropped} connection(s) closed unanswered: the server holds maxConnections (${maxConnections}) open connections, event streams included. Raise maxConnections in the config (and the open-file limit), or find who holds them.`,
    );
    dropped = 0;
  });
}
