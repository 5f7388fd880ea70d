import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { listDeliveryRejections } from '@correo/store';
import { pageOf, pageQueryProperties, withErrors } from '../schemas.js';
import type { PageQuery } from '../schemas.js';

const tags = ['delivery-rejections'];

const rejectionSchema = {
  type: 'object',
  required: ['id', 'eventId', 'recipient', 'accountId', 'reason', 'detail', 'rejectedAt'],
  properties: {
    id: { type: 'string' },
    eventId: { type: 'string', description: 'The MailAccepted event (the queue id smtp-ingress gave)' },
    recipient: { type: 'string' },
    accountId: { type: ['string', 'null'], description: 'null: the recipient resolved to no account' },
    reason: { type: 'string', enum: ['unknown-user', 'loop', 'over-quota', 'relay-denied'] },
    detail: { type: 'string' },
    rejectedAt: { type: 'string', format: 'date-time' },
  },
} as const;

/**
 * Recipients the mda did not deliver after smtp-ingress had accepted the message: the record that
 * makes sure nothing accepted disappears unseen (docs/security.md). Read-only.
 */
export async function deliveryRejectionRoutes(
  api: FastifyInstance,
  options: { pool: pg.Pool },
): Promise<void> {
  api.get<{ Querystring: PageQuery & { eventId?: string } }>(
    '',
    {
      schema: {
        tags,
        summary: 'List recipients the mda did not deliver, oldest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...pageQueryProperties, eventId: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        response: withErrors({ 200: pageOf(rejectionSchema) }),
      },
    },
    async (request) => {
      const { eventId, limit, cursor } = request.query;
      return listDeliveryRejections(
        options.pool,
        { tenantId: request.provisioning.tenantId },
        { limit: limit ?? 50, afterId: cursor ?? '0' },
        eventId ? { eventId } : {},
      );
    },
  );
}
