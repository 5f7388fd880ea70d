import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

/** The body of every 4xx/5xx answer: a stable code for the front end, a sentence for the user. */
export interface WebmailErrorBody {
  error: { code: string; message: string; details?: ErrorDetail[] };
}

/** What is wrong with one field; `line`/`column` point into a text (a Sieve script's error). */
export interface ErrorDetail {
  field: string;
  message: string;
  line?: number;
  column?: number;
}

export class WebmailError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
    this.name = 'WebmailError';
  }
}

export function errorBody(code: string, message: string, details?: ErrorDetail[]): WebmailErrorBody {
  return { error: { code, message, ...(details ? { details } : {}) } };
}

/** One place turns every failure into the JSON error shape; 5xx never show internals. */
export function webmailErrorHandler(logger: Logger) {
  return (error: FastifyError | WebmailError, _request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof WebmailError) {
      return reply.status(error.statusCode).send(errorBody(error.code, error.message, error.details));
    }
    if (error.validation) {
      return reply
        .status(400)
        .send(errorBody('invalid_request', `The request is not valid: ${invalidPart(error)}.`));
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.status(status).send(errorBody('bad_request', error.message));
    }
    logger.error({ err: error }, 'webmail: request failed');
    return reply.status(500).send(errorBody('internal', 'Something went wrong on our side. Try again.'));
  };
}

/** Names the field to fix: the unknown or missing one, else the first value the schema refused. */
function invalidPart(error: FastifyError): string {
  const [first] = error.validation ?? [];
  if (!first) return error.message;
  const params = first.params as { additionalProperty?: unknown; missingProperty?: unknown };
  if (typeof params.additionalProperty === 'string')
    return `"${params.additionalProperty}" is not a field it takes`;
  if (typeof params.missingProperty === 'string') return `"${params.missingProperty}" is missing`;
  const field = first.instancePath.replace(/^\//, '').replaceAll('/', '.');
  return `${field ? `"${field}"` : 'a value'} ${first.message ?? 'is invalid'}`;
}
