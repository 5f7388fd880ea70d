import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { replayDeadLetter } from '@correo/backends';
import type { Bus } from '@correo/bus';
import { getDeadLetter, listDeadLetters } from '@correo/store';
import type { DeadLetterState, StoredDeadLetter } from '@correo/store';
import { ApiError } from '../api-error.js';
import { idParams, pageOf, pageQueryProperties, withErrors } from '../schemas.js';
import type { PageQuery } from '../schemas.js';

const tags = ['dead-letters'];
const timestamp = { type: 'string', format: 'date-time' } as const;

const letterSchema = {
  type: 'object',
  required: [
    'id',
    'group',
    'topic',
    'partition',
    'offset',
    'headers',
    'error',
    'attempts',
    'failedAt',
    'archivedAt',
    'replayCount',
    'lastReplayedAt',
    'size',
  ],
  properties: {
    id: { type: 'string' },
    group: { type: 'string', description: 'The consumer group that gave up on the message' },
    topic: { type: 'string', description: 'Where the message came from, and where a replay sends it' },
    partition: { type: 'integer' },
    offset: { type: 'string' },
    key: { type: 'string' },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    error: { type: 'string', description: 'What the last attempt threw' },
    attempts: { type: 'integer' },
    failedAt: timestamp,
    archivedAt: timestamp,
    replayCount: { type: 'integer' },
    lastReplayedAt: { type: ['string', 'null'], format: 'date-time' },
    size: { type: 'integer', description: 'Bytes of the original event' },
  },
} as const;

const detailSchema = {
  ...letterSchema,
  required: [...letterSchema.required, 'value'],
  properties: {
    ...letterSchema.properties,
    value: { type: 'string', contentEncoding: 'base64', description: 'The original event, base64' },
  },
} as const;

function view(letter: StoredDeadLetter) {
  const { value, ...rest } = letter;
  return { ...rest, size: value.length };
}

/**
 * Dead letters are the operator's: an event on the bus is not scoped to a tenant (one
 * mail.accepted can name recipients of several tenants, and a poison message may not even decode),
 * and its error text speaks of internals. Tenant tokens get 403.
 */
function requireOperator(request: FastifyRequest): void {
  if (request.provisioning.tenantId !== null)
    throw new ApiError(403, 'forbidden', 'dead letters are visible to the operator only');
}

const notFound = (id: string) => new ApiError(404, 'not_found', `dead letter ${id} not found`);

/** Messages the bus gave up on: list, show, replay through the normal path. */
export async function deadLetterRoutes(
  api: FastifyInstance,
  options: { pool: pg.Pool; bus: Bus | undefined },
): Promise<void> {
  const { pool, bus } = options;
  api.addHook('onRequest', async (request) => requireOperator(request));

  api.get<{ Querystring: PageQuery & { state?: DeadLetterState } }>(
    '',
    {
      schema: {
        tags,
        summary: 'List dead letters, oldest first (by default those never replayed)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...pageQueryProperties,
            state: { type: 'string', enum: ['pending', 'replayed', 'all'], default: 'pending' },
          },
        },
        response: withErrors({ 200: pageOf(letterSchema) }),
      },
    },
    async (request) => {
      const page = await listDeadLetters(pool, {
        limit: request.query.limit ?? 50,
        afterId: request.query.cursor ?? '0',
        state: request.query.state ?? 'pending',
      });
      return { items: page.items.map(view), nextCursor: page.nextCursor };
    },
  );

  api.get<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Get a dead letter with its original event',
        params: idParams,
        response: withErrors({ 200: detailSchema }),
      },
    },
    async (request) => {
      const letter = await getDeadLetter(pool, request.params.id);
      if (!letter) throw notFound(request.params.id);
      return { ...view(letter), value: letter.value.toString('base64') };
    },
  );

  api.post<{ Params: { id: string } }>(
    '/:id/replay',
    {
      schema: {
        tags,
        summary:
          'Publish the original event to its topic again; consumers are idempotent, so a replay files the mail once',
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: {} },
        response: withErrors({ 200: letterSchema, 503: { $ref: 'ApiError#' } }),
      },
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => {
      if (!bus) throw new ApiError(503, 'unavailable', 'this admin-api has no bus to replay through');
      const letter = await replayDeadLetter(bus, pool, request.params.id);
      if (!letter) throw notFound(request.params.id);
      request.log.info({ deadLetter: letter.id, topic: letter.topic }, 'dead letter replayed');
      return view(letter);
    },
  );
}
