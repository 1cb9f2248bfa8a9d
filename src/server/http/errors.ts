// Turns every thrown error into the API's error shape; bad input never becomes a 500.
import type { FastifyError, FastifyInstance } from 'fastify';
import type { ErrorReply } from '../../shared/api';
import { errorText, type Logger } from '../logger';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly extra: Partial<ErrorReply> = {},
  ) {
    super(message);
  }
}

export function errorReply(error: string, extra: Partial<ErrorReply> = {}): ErrorReply {
  return { success: false, error, ...extra };
}

const BODY_LIMIT_TEXT = '1 MB';

export function installErrorHandling(app: FastifyInstance, log: Logger): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpError) return reply.code(error.statusCode).send(errorReply(error.message, error.extra));
    if (error.validation) {
      const where = error.validationContext ?? 'request';
      const detail = error.validation
        .map((issue) => `${issue.instancePath ? issue.instancePath.slice(1).replace(/\//g, '.') : where} ${issue.message}${issue.params && 'allowedValues' in issue.params ? ` (${(issue.params.allowedValues as unknown[]).join(', ')})` : ''}`)
        .join('; ');
      return reply.code(400).send(errorReply(`Invalid ${where}: ${detail}`));
    }
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.code(413).send(errorReply(`Request body is larger than ${BODY_LIMIT_TEXT}: send less.`));
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return reply.code(400).send(errorReply(`Body is not valid JSON (${error.message}): send a JSON object such as {"cronName": "monitor-openai"}.`));
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return reply.code(400).send(errorReply('Body is empty but Content-Type is application/json: send a JSON object, e.g. {}.'));
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply.code(415).send(errorReply(`Unsupported Content-Type ${JSON.stringify(request.headers['content-type'] ?? '')}: send application/json.`));
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send(errorReply(error.message));
    }
    const unavailable = /connect|ECONNREFUSED|ECONNRESET|terminat|closed|timeout|shutting down/i.test(error.message);
    if (unavailable) log.warn(`${request.method} ${request.url}: store unavailable`, { error: errorText(error) });
    else log.error(`${request.method} ${request.url} failed`, { error: errorText(error), stack: error.stack });
    return reply
      .code(unavailable ? 503 : 500)
      .send(errorReply(unavailable ? 'The store is unavailable: retry in a few seconds; the server log says why.' : `Internal error: ${error.message}. The server log has the details.`));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorReply(`No route ${request.method} ${request.url.split('?')[0]}: see the API table in the README.`)),
  );
}
