import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DirectoryError } from '@correo/directory';

/** The body of every 4xx/5xx answer: a stable code for programs, a sentence for people. */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: ErrorDetail[] };
}

/** What is wrong with one field; `line`/`column` point into a text field (a Sieve script's error). */
export interface ErrorDetail {
  field: string;
  message: string;
  line?: number;
  column?: number;
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const directoryStatus: Record<DirectoryError['code'], [number, string]> = {
  invalid: [400, 'validation_failed'],
  'not-found': [404, 'not_found'],
  conflict: [409, 'conflict'],
  forbidden: [403, 'forbidden'],
  unprocessable: [422, 'unprocessable'],
};

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** `/targets/1` -> `targets[1]`, with the missing or unexpected property appended: names the field to fix. */
function fieldOf(error: AjvError): string {
  const parts = error.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  const extra = error.params.missingProperty ?? error.params.additionalProperty;
  if (typeof extra === 'string') parts.push(extra);
  return parts.reduce(
    (path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part),
    '',
  );
}

function describe(error: AjvError, field: string): string {
  if (error.keyword === 'required') return `${field} is required`;
  if (error.keyword === 'additionalProperties') return `${field} is not a known field`;
  return `${field || 'the value'} ${error.message ?? 'is invalid'}`;
}

function body(code: string, message: string, details?: ApiErrorBody['error']['details']): ApiErrorBody {
  return { error: { code, message, ...(details ? { details } : {}) } };
}

/** One place turns every failure into the JSON error shape; 5xx never leak internals. */
export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  const fastifyError = error as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (fastifyError.validation) {
    const details = fastifyError.validation.map((e) => {
      const field = fieldOf(e);
      return { field, message: describe(e, field) };
    });
    const where = fastifyError.validationContext ?? 'request';
    const message = `invalid ${where === 'querystring' ? 'query' : where}: ${details.map((d) => d.message).join('; ')}`;
    reply.code(400).send(body('validation_failed', message, details));
    return;
  }
  if (error instanceof DirectoryError) {
    const [status, code] = directoryStatus[error.code];
    const details = error.field ? [{ field: error.field, message: error.message }] : undefined;
    // Validation messages lead with the field, as the schema validator's do; the others read as sentences.
    const message =
      error.code === 'invalid' && error.field ? `${error.field}: ${error.message}` : error.message;
    reply.code(status).send(body(code, message, details));
    return;
  }
  if (error instanceof ApiError) {
    reply.code(error.statusCode).send(body(error.code, error.message, error.details));
    return;
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    // Fastify's own client errors: malformed JSON, wrong content type, body too large.
    const code = (fastifyError.code ?? 'bad_request').replace(/^FST_ERR_/, '').toLowerCase();
    reply.code(status).send(body(code, error.message));
    return;
  }
  request.log.error({ err: error }, 'admin-api request failed');
  reply.code(500).send(body('internal', 'internal error; see the server log'));
}

export function handleNotFound(request: FastifyRequest, reply: FastifyReply): void {
  reply.code(404).send(body('not_found', `no route ${request.method} ${request.url.split('?')[0]}`));
}
