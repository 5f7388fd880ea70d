import type { FastifyInstance } from 'fastify';
import { id, idParams, pageOf, pageQueryProperties, tokenSchema, withErrors } from '../schemas.js';
import type { PageQuery } from '../schemas.js';

const tags = ['tokens'];

export async function tokenRoutes(api: FastifyInstance): Promise<void> {
  api.post<{ Body: { name: string; tenantId?: string | null; expiresAt?: string } }>(
    '',
    {
      schema: {
        tags,
        summary: 'Create an API token; the secret is shown only in this response',
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 200 },
            tenantId: {
              anyOf: [id, { type: 'null' }],
              description: "null: an operator token (operator only); default: the caller's tenant",
            },
            expiresAt: { type: 'string', format: 'date-time' },
          },
        },
        response: withErrors({
          201: {
            type: 'object',
            required: ['token', 'secret'],
            properties: {
              token: tokenSchema,
              secret: { type: 'string', description: 'Use as Bearer token' },
            },
          },
        }),
      },
    },
    async (request, reply) => {
      const { expiresAt, ...rest } = request.body;
      const created = await request.provisioning.createApiToken({
        ...rest,
        ...(expiresAt ? { expiresAt: new Date(expiresAt) } : {}),
      });
      return reply.code(201).send(created);
    },
  );

  api.get<{ Querystring: PageQuery & { tenantId?: string } }>(
    '',
    {
      schema: {
        tags,
        summary: 'List live API tokens (never their secrets)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...pageQueryProperties, tenantId: id },
        },
        response: withErrors({ 200: pageOf(tokenSchema) }),
      },
    },
    async (request) => {
      const { tenantId, ...page } = request.query;
      return request.provisioning.listApiTokens(page, tenantId ? { tenantId } : {});
    },
  );

  api.get<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Get an API token',
        params: idParams,
        response: withErrors({ 200: tokenSchema }),
      },
    },
    async (request) => request.provisioning.getApiToken(request.params.id),
  );

  api.delete<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Revoke an API token',
        params: idParams,
        response: withErrors({ 204: { type: 'null' } }),
      },
    },
    async (request, reply) => {
      await request.provisioning.revokeApiToken(request.params.id);
      return reply.code(204).send();
    },
  );
}
