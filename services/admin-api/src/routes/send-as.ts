import type { FastifyInstance } from 'fastify';
import { id, idParams, sendAsGrantSchema, withErrors } from '../schemas.js';

const tags = ['accounts'];

const grantParams = {
  type: 'object',
  required: ['id', 'grantId'],
  additionalProperties: false,
  properties: { id, grantId: id },
} as const;

/**
 * Domain-wide send-as grants of an account: with one, the account may use any address of that domain
 * (of its own tenant) as envelope sender and in From on submission, and the relay signs it.
 */
export async function sendAsRoutes(api: FastifyInstance): Promise<void> {
  api.post<{ Params: { id: string }; Body: { domain: string } }>(
    '/:id/send-as',
    {
      schema: {
        tags,
        summary: 'Let the account send as any address of a domain of its tenant',
        params: idParams,
        body: {
          type: 'object',
          required: ['domain'],
          additionalProperties: false,
          properties: { domain: { type: 'string', minLength: 1, maxLength: 300 } },
        },
        response: withErrors({ 201: sendAsGrantSchema }),
      },
    },
    async (request, reply) =>
      reply.code(201).send(
        await request.provisioning.grantSendAs({
          accountId: request.params.id,
          domain: request.body.domain,
        }),
      ),
  );

  api.get<{ Params: { id: string } }>(
    '/:id/send-as',
    {
      schema: {
        tags,
        summary: "List the account's send-as grants",
        params: idParams,
        response: withErrors({
          200: {
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: sendAsGrantSchema } },
          },
        }),
      },
    },
    async (request) => ({ items: await request.provisioning.listSendAsGrants(request.params.id) }),
  );

  api.delete<{ Params: { id: string; grantId: string } }>(
    '/:id/send-as/:grantId',
    {
      schema: {
        tags,
        summary: 'Withdraw a send-as grant',
        params: grantParams,
        response: withErrors({ 204: { type: 'null' } }),
      },
    },
    async (request, reply) => {
      await request.provisioning.revokeSendAs(request.params.id, request.params.grantId);
      return reply.code(204).send();
    },
  );
}
