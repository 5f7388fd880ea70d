import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { findMessageJourneys } from '@correo/store';
import { ApiError } from '../api-error.js';
import { withErrors } from '../schemas.js';

const tags = ['messages'];
const timestamp = { type: 'string', format: 'date-time' } as const;

const fateSchema = {
  type: 'object',
  required: ['kind'],
  description:
    'What happened to one recipient. filed: stored in `mailbox` of `account` as `uid` (null once expunged); ' +
    'rejected: not delivered (`reason`, `detail`); relayed: the remote MX took it (`reply`); deferred: a ' +
    'temporary failure, retried at `nextAttemptAt`; bounced: given up (`outcome` bounced, expired or ' +
    'deleted), a DSN goes to the sender; attempting: a relay is delivering it right now; queued: handed ' +
    'to the relay, no attempt recorded yet. `forwarded` ' +
    'is true when an alias sent the recipient on to `address`.',
  properties: {
    kind: {
      type: 'string',
      enum: ['filed', 'rejected', 'relayed', 'deferred', 'attempting', 'bounced', 'queued'],
    },
    account: { type: 'string' },
    mailbox: { type: 'string' },
    uid: { type: ['integer', 'null'] },
    reason: { type: 'string' },
    detail: { type: 'string' },
    address: { type: 'string' },
    forwarded: { type: 'boolean' },
    outcome: { type: 'string', enum: ['bounced', 'expired', 'deleted'] },
    reply: { type: 'string' },
    attempts: { type: 'integer' },
    at: timestamp,
    nextAttemptAt: timestamp,
    expiresAt: timestamp,
  },
} as const;

const acceptedSchema = {
  type: ['object', 'null'],
  description: 'null when only a dead letter knows the event',
  required: [
    'receivedAt',
    'kind',
    'port',
    'clientIp',
    'helo',
    'authenticatedUser',
    'mailFrom',
    'recipients',
    'size',
    'authenticationResults',
    'authentication',
    'messageId',
    'traceId',
  ],
  properties: {
    receivedAt: timestamp,
    kind: { type: 'string', enum: ['mx', 'submission'] },
    port: { type: 'integer' },
    clientIp: { type: 'string' },
    helo: { type: 'string' },
    authenticatedUser: { type: 'string', description: "'' when the client did not authenticate" },
    mailFrom: { type: 'string', description: "'' for the null reverse-path" },
    recipients: { type: 'array', items: { type: 'string' } },
    size: { type: 'integer' },
    authenticationResults: { type: 'string', description: 'The Authentication-Results header added' },
    authentication: {
      type: 'array',
      items: {
        type: 'object',
        required: ['method', 'result', 'reason'],
        properties: { method: { type: 'string' }, result: { type: 'string' }, reason: { type: 'string' } },
      },
    },
    messageId: { type: ['string', 'null'], description: 'Recorded for relayed-only messages' },
    traceId: { type: 'string', description: "The OpenTelemetry trace id; '' when none" },
  },
} as const;

const journeySchema = {
  type: 'object',
  required: ['eventId', 'accepted', 'recipients', 'deadLetters'],
  properties: {
    eventId: { type: 'string', description: 'The MailAccepted event (the id in our Received header)' },
    accepted: acceptedSchema,
    recipients: {
      type: 'array',
      items: {
        type: 'object',
        required: ['recipient', 'fates'],
        properties: {
          recipient: { type: 'string' },
          fates: { type: 'array', items: fateSchema, description: 'Empty: the mda is not done yet' },
        },
      },
    },
    deadLetters: {
      type: 'array',
      description: 'Operator tokens only',
      items: {
        type: 'object',
        required: ['id', 'group', 'topic', 'error', 'attempts', 'failedAt', 'replayCount'],
        properties: {
          id: { type: 'string' },
          group: { type: 'string' },
          topic: { type: 'string' },
          error: { type: 'string' },
          attempts: { type: 'integer' },
          failedAt: timestamp,
          replayCount: { type: 'integer' },
        },
      },
    },
  },
} as const;

/**
 * "Where is my mail?": every acceptance of a message and each recipient's fate. Scoped like every
 * route: a tenant sees journeys of mail to or from its own domains, and of mail it did not send only
 * its own recipients; another tenant's message is a 404, indistinguishable from none.
 */
export async function messageRoutes(api: FastifyInstance, options: { pool: pg.Pool }): Promise<void> {
  api.get<{ Params: { id: string } }>(
    '/:id/journey',
    {
      schema: {
        tags,
        summary: 'The journey of a message, by event id or Message-ID',
        params: {
          type: 'object',
          required: ['id'],
          additionalProperties: false,
          properties: {
            id: {
              type: 'string',
              minLength: 1,
              maxLength: 998,
              description: 'A MailAccepted event id, or a Message-ID with or without its angle brackets',
            },
          },
        },
        response: withErrors({
          200: {
            type: 'object',
            required: ['journeys'],
            properties: { journeys: { type: 'array', items: journeySchema } },
          },
        }),
      },
    },
    async (request) => {
      const journeys = await findMessageJourneys(
        options.pool,
        { tenantId: request.provisioning.tenantId },
        request.params.id,
      );
      if (journeys.length === 0) {
        throw new ApiError(
          404,
          'not_found',
          `no message ${request.params.id} is known (or not yet: the mda records it when it takes it)`,
        );
      }
      return { journeys };
    },
  );
}
