import type { FastifyInstance } from 'fastify';
import type { TxtLookup } from '@correo/directory';
import { mtaStsPolicy, publishedRecords, type ClientSettings } from '@correo/autoconfig';
import { domainSchema, id, idParams, pageOf, pageQueryProperties, withErrors } from '../schemas.js';
import type { PageQuery } from '../schemas.js';

const tags = ['domains'];

export async function domainRoutes(
  api: FastifyInstance,
  options: { lookupTxt: TxtLookup; clientSettings: ClientSettings },
): Promise<void> {
  api.post<{ Body: { name: string; tenantId?: string; verified?: boolean } }>(
    '',
    {
      schema: {
        tags,
        summary: 'Register a domain (IDN names are stored as punycode); it stays pending until verified',
        description:
          'A pending domain receives and relays nothing. Publish the TXT record in `verification`, then ' +
          'POST /v1/domains/{id}/verify. A name that is not available answers 422 without saying why.',
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
            verified: {
              type: 'boolean',
              description: 'Operator only: register the domain as verified without the TXT record',
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

  api.post<{ Params: { id: string }; Body: { skipDns?: boolean } }>(
    '/:id/verify',
    {
      schema: {
        tags,
        summary: 'Verify a pending domain through its _correo-verify TXT record',
        description:
          'Looks up the TXT record named in `verification` through the configured DNS servers ' +
          '(ADMIN_DNS_SERVERS); 422 when the token is not there. The operator may pass skipDns.',
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            skipDns: { type: 'boolean', description: 'Operator only: verify without the TXT record' },
          },
        },
        response: withErrors({ 200: domainSchema }),
      },
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) =>
      request.provisioning.verifyDomain(request.params.id, {
        lookupTxt: options.lookupTxt,
        skipDns: request.body.skipDns ?? false,
      }),
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

  api.get<{ Params: { id: string } }>(
    '/:id/client-records',
    {
      schema: {
        tags,
        summary: 'The DNS records the domain should publish for clients and other MTAs',
        description:
          'MX, the RFC 6186 SRV records (submission, IMAP, POP3; a service not offered as "."), the ' +
          'autoconfig and autodiscover names, and MTA-STS (the _mta-sts TXT record and the policy file ' +
          'served at https://mta-sts.<domain>/.well-known/mta-sts.txt). Names and ports come from CLIENT_*.',
        params: idParams,
        response: withErrors({
          200: {
            type: 'object',
            required: ['domain', 'records', 'mtaStsPolicy'],
            properties: {
              domain: { type: 'string' },
              records: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['type', 'name', 'value', 'purpose'],
                  properties: {
                    type: { type: 'string', enum: ['MX', 'SRV', 'CNAME', 'TXT'] },
                    name: { type: 'string' },
                    value: { type: 'string' },
                    purpose: { type: 'string' },
                  },
                },
              },
              mtaStsPolicy: { type: 'string' },
            },
          },
        }),
      },
    },
    async (request) => {
      const domain = await request.provisioning.getDomain(request.params.id);
      return {
        domain: domain.name,
        records: publishedRecords(domain.name, options.clientSettings),
        mtaStsPolicy: mtaStsPolicy(options.clientSettings),
      };
    },
  );
}
