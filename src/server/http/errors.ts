// Turns every thrown error into the API's error shape: bad input never becomes a 500, a refusal is audited
// where it is answered, and a 500 never echoes an internal message (the log has it, under the request id).
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { CRON_NAME_PATTERN, type ErrorReply } from '../../shared/api';
import { errorText, type Logger } from '../logger';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly extra: Partial<ErrorReply> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A refusal the audit trail records: `action.refused` on `target`, with the status and the reason. */
export class Refusal extends HttpError {
  constructor(
    statusCode: number,
    readonly action: string,
    readonly target: string | null,
    message: string,
    extra: Partial<ErrorReply> = {},
    headers: Record<string, string> = {},
  ) {
    super(statusCode, message, extra, headers);
  }
}

export function errorReply(error: string, extra: Partial<ErrorReply> = {}): ErrorReply {
  return { success: false, error, ...extra };
}

export const BODY_LIMIT = 1024 * 1024;
const BODY_LIMIT_TEXT = '1 MB';

export function installErrorHandling(app: FastifyInstance, log: Logger, audit: (request: FastifyRequest, refusal: Refusal) => Promise<void>): void {
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    if (error instanceof Refusal) await audit(request, error);
    if (error instanceof HttpError) return reply.code(error.statusCode).headers(error.headers).send(errorReply(error.message, error.extra));
    if (error.validation) {
      const where = error.validationContext ?? 'request';
      return reply.code(400).send(errorReply(`Invalid ${where}: ${describeIssues(error.validation, where)}`));
    }
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.code(413).send(errorReply(`Request body is larger than ${BODY_LIMIT_TEXT}: send less.`));
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return reply.code(400).send(errorReply(`Body is not valid JSON (${error.message.slice(0, 200)}): send a JSON object such as {"cronName": "monitor-openai"}.`));
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return reply.code(400).send(errorReply('Body is empty but Content-Type is application/json: send a JSON object, e.g. {}.'));
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply.code(415).send(errorReply(`Unsupported Content-Type ${JSON.stringify(String(request.headers['content-type'] ?? '').slice(0, 100))}: send application/json.`));
    }
    if (error instanceof SyntaxError) return reply.code(400).send(errorReply(`Body is not valid JSON (${error.message.slice(0, 200)}): send a JSON object.`));
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send(errorReply(error.message.slice(0, 300)));
    }
    const unavailable = /connect|ECONNREFUSED|ECONNRESET|terminat|closed|timeout|shutting down|SQLITE_BUSY|database is locked/i.test(error.message);
    const where = `${request.method} ${request.url.slice(0, 200)}`;
    if (unavailable) log.warn(`${where}: store unavailable`, { requestId: request.id, error: errorText(error) });
    else log.error(`${where} failed`, { requestId: request.id, error: errorText(error), stack: error.stack });
    // Retry-After lets a client (or a proxy) wait the same few seconds the message asks for.
    if (unavailable) reply.header('retry-after', '5');
    return reply
      .code(unavailable ? 503 : 500)
      .send(
        errorReply(
          unavailable
            ? 'The store is unavailable: retry in a few seconds; the server log says why.'
            : `Internal error (request ${request.id}): the server log has the details under this request id.`,
        ),
      );
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorReply(`No route ${request.method} ${request.url.split('?')[0].slice(0, 200)}: see the API table in the README.`)),
  );
}

type ValidationIssue = NonNullable<FastifyError['validation']>[number];

/** ajv's "must match pattern" for the patterns a person types, in words (the pattern itself in brackets). */
const PATTERNS_IN_WORDS: Record<string, string> = {
  [CRON_NAME_PATTERN]: `must be a cron name: lower-case letters, digits and dashes, starting with a letter or a digit, at most 63 characters (${CRON_NAME_PATTERN})`,
};

/**
 * One phrase per field: a union of literals (a status, a role) reads "must be one of: a, b" rather than
 * ajv's "must be equal to constant" once per literal and "must match a schema in anyOf".
 */
function describeIssues(issues: ValidationIssue[], where: string): string {
  const fields = new Map<string, { allowed: unknown[]; messages: string[] }>();
  for (const issue of issues) {
    const field = issue.instancePath ? issue.instancePath.slice(1).replace(/\//g, '.') : where;
    const entry = fields.get(field) ?? { allowed: [], messages: [] };
    fields.set(field, entry);
    const params = (issue.params ?? {}) as Record<string, unknown>;
    if (issue.keyword === 'const') entry.allowed.push(params.allowedValue);
    else if (issue.keyword === 'enum') entry.allowed.push(...(params.allowedValues as unknown[]));
    else if (issue.keyword === 'pattern' && PATTERNS_IN_WORDS[String(params.pattern)]) entry.messages.push(PATTERNS_IN_WORDS[String(params.pattern)]);
    else if (issue.keyword !== 'anyOf') entry.messages.push(issue.message ?? 'is not valid');
  }
  return [...fields]
    .slice(0, 5)
    .map(([field, { allowed, messages }]) => {
      // An empty literal means "no filter" in a query: not a value to suggest (a cron name or "" reads as the name's rule).
      const values = allowed.filter((value) => value !== '').map((value) => JSON.stringify(value));
      const phrases = [...messages, ...(values.length > 0 ? [`must be one of: ${values.join(', ')}`] : [])];
      return `${field} ${phrases.length > 0 ? phrases.join(', or ') : 'is not valid'}`;
    })
    .join('; ');
}
