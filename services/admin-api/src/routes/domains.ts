import type { FastifyInstance } from 'fastify';
import { domainSchema, id, idParams, pageOf, pageQueryProperties, withErrors } from '../schemas.js';
import type { PageQuery } from '../schemas.js';

const tags = ['domains'];

export async function domainRoutes(api: FastifyInstance): Promise<void> {
  api.post<{ Body: { name: string; tenantId?: string } }>(
    '',
    {
      schema: {
        tags,
        summary: 'Register a local domain (IDN names are stored as punycode)',
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 300 },
            tenantId: {
              ...id,
              description: "Required with an operator token; a tenant token's own tenant otherwise",
            },
          },
        },
        response: withErrors({ 201: domainSchema }),
      },
    },
    async (request, reply) => reply.code(201).send(await request.provisioning.createDomain(request.body)),
  );

  api.get<{ Querystring: PageQuery & { tenantId?: string } }>(
    '',
    {
      schema: {
        tags,
        summary: 'List domains',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...pageQueryProperties, tenantId: id },
        },
        response: withErrors({ 200: pageOf(domainSchema) }),
      },
    },
    async (request) => {
      const { tenantId, ...page } = request.query;
      return request.provisioning.listDomains(page, tenantId ? { tenantId } : {});
    },
  );

  api.get<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Get a domain',
        params: idParams,
        response: withErrors({ 200: domainSchema }),
      },
    },
    async (request) => request.provisioning.getDomain(request.params.id),
  );

  api.delete<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Delete a domain with its accounts, their mail, and its aliases',
        params: idParams,
        response: withErrors({ 204: { type: 'null' } }),
      },
    },
    async (request, reply) => {
      await request.provisioning.deleteDomain(request.params.id);
      return reply.code(204).send();
    },
  );
}
