import type { FastifyInstance } from 'fastify';
import { idParams, pageOf, pageQueryProperties, tenantSchema, withErrors } from '../schemas.js';
import type { PageQuery } from '../schemas.js';

const tags = ['tenants'];
const name = { type: 'string', minLength: 1, maxLength: 200 } as const;

/** Tenants: created, renamed and deleted by the operator; a tenant token sees only its own. */
export async function tenantRoutes(api: FastifyInstance): Promise<void> {
  api.post<{ Body: { name: string } }>(
    '',
    {
      schema: {
        tags,
        summary: 'Create a tenant (operator only)',
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name } },
        response: withErrors({ 201: tenantSchema }),
      },
    },
    async (request, reply) => reply.code(201).send(await request.provisioning.createTenant(request.body)),
  );

  api.get<{ Querystring: PageQuery }>(
    '',
    {
      schema: {
        tags,
        summary: 'List tenants',
        querystring: { type: 'object', additionalProperties: false, properties: pageQueryProperties },
        response: withErrors({ 200: pageOf(tenantSchema) }),
      },
    },
    async (request) => request.provisioning.listTenants(request.query),
  );

  api.get<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Get a tenant',
        params: idParams,
        response: withErrors({ 200: tenantSchema }),
      },
    },
    async (request) => request.provisioning.getTenant(request.params.id),
  );

  api.patch<{ Params: { id: string }; Body: { name?: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Rename a tenant (operator only)',
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: { name } },
        response: withErrors({ 200: tenantSchema }),
      },
    },
    async (request) => request.provisioning.updateTenant(request.params.id, request.body),
  );

  api.delete<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Delete a tenant with all its domains, accounts and mail (operator only)',
        params: idParams,
        response: withErrors({ 204: { type: 'null' } }),
      },
    },
    async (request, reply) => {
      await request.provisioning.deleteTenant(request.params.id);
      return reply.code(204).send();
    },
  );
}
