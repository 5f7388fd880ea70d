import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { listDecisions } from '@correo/store';
import { withErrors } from '../schemas.js';

const tags = ['decisions'];

const decisionSchema = {
  type: 'object',
  required: [
    'id',
    'decidedAt',
    'service',
    'listener',
    'stage',
    'outcome',
    'reason',
    'detail',
    'clientIp',
    'helo',
    'mailFrom',
    'recipients',
    'messageId',
    'eventId',
    'score',
    'symbols',
  ],
  properties: {
    id: { type: 'string' },
    decidedAt: { type: 'string', format: 'date-time' },
    service: { type: 'string', description: 'smtp-ingress or mda' },
    listener: { type: 'string', description: "mx, submission, submissions; '' for the mda" },
    stage: { type: 'string', enum: ['connect', 'helo', 'mail', 'rcpt', 'data', 'delivery'] },
    outcome: { type: 'string', enum: ['rejected', 'tempfailed', 'greylisted', 'junk', 'accepted'] },
    reason: { type: 'string', description: "A stable code: 'dnsbl', 'limit:ip-messages', 'greylist', ..." },
    detail: { type: 'string', description: 'The reply sent, or the explanation' },
    clientIp: { type: 'string' },
    helo: { type: 'string' },
    mailFrom: { type: ['string', 'null'], description: 'null: before MAIL FROM' },
    recipients: { type: 'array', items: { type: 'string' } },
    messageId: { type: ['string', 'null'] },
    eventId: { type: ['string', 'null'], description: 'The queue id smtp-ingress gave' },
    score: { type: ['number', 'null'] },
    symbols: { type: 'object', additionalProperties: true },
  },
} as const;

interface DecisionsQuery {
  messageId?: string;
  eventId?: string;
  recipient?: string;
  clientIp?: string;
  since?: string;
  limit?: number;
}

/**
 * Why mail was refused, delayed, scored or filed to Junk (migrations/0330_mail_decisions.sql), newest
 * first. A tenant sees the decisions about its own domains' recipients only. Read-only.
 */
export async function decisionRoutes(api: FastifyInstance, options: { pool: pg.Pool }): Promise<void> {
  api.get<{ Querystring: DecisionsQuery }>(
    '',
    {
      schema: {
        tags,
        summary: 'List the spam and abuse decisions, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            messageId: { type: 'string', minLength: 1, maxLength: 1000 },
            eventId: { type: 'string', minLength: 1, maxLength: 200 },
            recipient: { type: 'string', minLength: 1, maxLength: 400 },
            clientIp: { type: 'string', minLength: 1, maxLength: 100 },
            since: { type: 'string', format: 'date-time' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
        response: withErrors({
          200: {
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: decisionSchema } },
          },
        }),
      },
    },
    async (request) => {
      const { messageId, eventId, recipient, clientIp, since, limit } = request.query;
      const items = await listDecisions(
        options.pool,
        { tenantId: request.provisioning.tenantId },
        {
          messageId,
          eventId,
          // Recorded lowercased (libs/store recordDecisions): the filter matches either spelling.
          recipient: recipient?.toLowerCase(),
          clientIp,
          since: since === undefined ? undefined : new Date(since),
          limit: limit ?? 100,
        },
      );
      return { items };
    },
  );
}
