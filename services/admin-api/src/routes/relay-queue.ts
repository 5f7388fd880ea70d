import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { deleteRelayJob, getRelayQueueEntry, listRelayQueue, retryRelayJobNow } from '@correo/store';
import type { RelayQueueEntry } from '@correo/store';
import { ApiError } from '../api-error.js';
import { idParams, pageOf, pageQueryProperties, withErrors } from '../schemas.js';
import type { PageQuery } from '../schemas.js';

const tags = ['relay-queue'];
const timestamp = { type: 'string', format: 'date-time' } as const;

const entrySchema = {
  type: 'object',
  required: [
    'id',
    'jobId',
    'mailFrom',
    'destinationDomain',
    'attempts',
    'queuedAt',
    'nextAttemptAt',
    'expiresAt',
  ],
  properties: {
    id: { type: 'string' },
    jobId: { type: 'string' },
    originalEventId: { type: 'string' },
    mailFrom: { type: 'string', description: "'' for a bounce" },
    destinationDomain: { type: 'string' },
    attempts: { type: 'integer' },
    queuedAt: timestamp,
    nextAttemptAt: timestamp,
    expiresAt: timestamp,
    lastError: { type: 'string' },
    claimedUntil: {
      type: ['string', 'null'],
      format: 'date-time',
      description: 'Set while a relay is attempting the job; retry and delete answer 409 until then',
    },
    recipients: {
      type: 'array',
      items: {
        type: 'object',
        required: ['recipient', 'lastReply'],
        properties: { recipient: { type: 'string' }, lastReply: { type: 'string' } },
      },
    },
  },
} as const;

/** The encoded job stays inside; the API shows what an operator decides on. */
function view(entry: RelayQueueEntry) {
  const {
    job: _job,
    senderDomain: _senderDomain,
    claimToken: _claimToken,
    traceHeaders: _traceHeaders,
    ...rest
  } = entry;
  return rest;
}

/** A tenant sees the jobs its own domains sent; the operator sees every job, bounces included. */
const scopeOf = (request: FastifyRequest) => ({ tenantId: request.provisioning.tenantId });

const notFound = (id: string) => new ApiError(404, 'not_found', `relay queue entry ${id} not found`);

const inFlight = (id: string, until: Date) =>
  new ApiError(
    409,
    'in_flight',
    `relay queue entry ${id} is being attempted right now (claimed until ${until.toISOString()}); try again after`,
  );

/** The relay's deferred queue: list, retry now, delete (give up without a bounce). */
export async function relayQueueRoutes(api: FastifyInstance, options: { pool: pg.Pool }): Promise<void> {
  const { pool } = options;

  api.get<{ Querystring: PageQuery }>(
    '',
    {
      schema: {
        tags,
        summary: 'List outbound jobs waiting for their next delivery attempt, oldest first',
        querystring: { type: 'object', additionalProperties: false, properties: pageQueryProperties },
        response: withErrors({ 200: pageOf(entrySchema) }),
      },
    },
    async (request) => {
      const page = await listRelayQueue(pool, scopeOf(request), {
        limit: request.query.limit ?? 50,
        afterId: request.query.cursor ?? '0',
      });
      return { items: page.items.map(view), nextCursor: page.nextCursor };
    },
  );

  api.get<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Get a queued job',
        params: idParams,
        response: withErrors({ 200: entrySchema }),
      },
    },
    async (request) => {
      const entry = await getRelayQueueEntry(pool, scopeOf(request), request.params.id);
      if (!entry) throw notFound(request.params.id);
      return view(entry);
    },
  );

  api.post<{ Params: { id: string } }>(
    '/:id/retry',
    {
      schema: {
        tags,
        summary: 'Make a queued job due now; a relay picks it up on its next queue pass',
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: {} },
        response: withErrors({ 200: entrySchema }),
      },
      // Nothing to send: a bare POST is the whole request.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => {
      const result = await retryRelayJobNow(pool, scopeOf(request), request.params.id);
      if (!result) throw notFound(request.params.id);
      if (result.kind === 'in-flight') throw inFlight(request.params.id, result.claimedUntil);
      return view(result.value);
    },
  );

  api.delete<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Drop a queued job: its remaining recipients are neither delivered nor bounced',
        params: idParams,
        response: withErrors({ 204: { type: 'null' } }),
      },
    },
    async (request, reply) => {
      const result = await deleteRelayJob(pool, scopeOf(request), request.params.id);
      if (!result) throw notFound(request.params.id);
      if (result.kind === 'in-flight') throw inFlight(request.params.id, result.claimedUntil);
      return reply.code(204).send();
    },
  );
}
