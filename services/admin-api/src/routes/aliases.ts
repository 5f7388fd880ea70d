import type { FastifyInstance } from 'fastify';
import { MAX_ALIAS_TARGETS } from '@correo/directory';
import { aliasSchema, id, idParams, pageOf, pageQueryProperties, withErrors } from '../schemas.js';
import type { PageQuery } from '../schemas.js';

const tags = ['aliases'];
const targets = {
  type: 'array',
  minItems: 1,
  maxItems: MAX_ALIAS_TARGETS,
  items: { type: 'string', minLength: 3, maxLength: 320 },
  description: 'Local or external addresses, or other aliases',
} as const;

export async function aliasRoutes(api: FastifyInstance): Promise<void> {
  api.post<{ Body: { source: string; targets: string[] } }>(
    '',
    {
      schema: {
        tags,
        summary: 'Create an alias (user@domain) or a catch-all (@domain)',
        body: {
          type: 'object',
          required: ['source', 'targets'],
          additionalProperties: false,
          properties: { source: { type: 'string', minLength: 2, maxLength: 320 }, targets },
        },
        response: withErrors({ 201: aliasSchema }),
      },
    },
    async (request, reply) => reply.code(201).send(await request.provisioning.createAlias(request.body)),
  );

  api.get<{ Querystring: PageQuery & { domainId?: string; tenantId?: string } }>(
    '',
    {
      schema: {
        tags,
        summary: 'List aliases',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...pageQueryProperties, domainId: id, tenantId: id },
        },
        response: withErrors({ 200: pageOf(aliasSchema) }),
      },
    },
    async (request) => {
      const { domainId, tenantId, ...page } = request.query;
      return request.provisioning.listAliases(page, {
        ...(domainId ? { domainId } : {}),
        ...(tenantId ? { tenantId } : {}),
      });
    },
  );

  api.get<{ Params: { id: string } }>(
    '/:id',
    {
      schema: { tags, summary: 'Get an alias', params: idParams, response: withErrors({ 200: aliasSchema }) },
    },
    async (request) => request.provisioning.getAlias(request.params.id),
  );

  api.patch<{ Params: { id: string }; Body: { targets?: string[] } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: "Replace an alias's targets",
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: { targets } },
        response: withErrors({ 200: aliasSchema }),
      },
    },
    async (request) => request.provisioning.updateAlias(request.params.id, request.body),
  );

  api.delete<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Delete an alias',
        params: idParams,
        response: withErrors({ 204: { type: 'null' } }),
      },
    },
    async (request, reply) => {
      await request.provisioning.deleteAlias(request.params.id);
      return reply.code(204).send();
    },
  );
}
