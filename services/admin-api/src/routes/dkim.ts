import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { deleteDkimKey, listDkimKeys, rotateDkimKey } from '@correo/dkim';
import { ApiError } from '../api-error.js';
import { id, withErrors } from '../schemas.js';

const tags = ['dkim'];

const dkimKeySchema = {
  type: 'object',
  required: ['id', 'domainId', 'domain', 'selector', 'algorithm', 'active', 'createdAt', 'dnsRecord'],
  properties: {
    id,
    domainId: id,
    domain: { type: 'string' },
    selector: { type: 'string' },
    algorithm: { type: 'string' },
    active: { type: 'boolean', description: 'The key outgoing mail is signed with; one per domain' },
    createdAt: { type: 'string', format: 'date-time' },
    dnsRecord: {
      type: 'object',
      description: 'The TXT record to publish before the key signs mail',
      required: ['name', 'type', 'value', 'strings'],
      properties: {
        name: { type: 'string' },
        type: { type: 'string' },
        value: { type: 'string' },
        strings: {
          type: 'array',
          items: { type: 'string' },
          description: 'value cut into 255-octet strings',
        },
      },
    },
  },
} as const;

const domainParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id },
} as const;

/** DKIM keys of a domain: list with their DNS records, rotate (a new active key), delete an old one. */
export async function dkimRoutes(api: FastifyInstance, options: { pool: pg.Pool }): Promise<void> {
  const { pool } = options;

  api.get<{ Params: { id: string } }>(
    '/:id/dkim-keys',
    {
      schema: {
        tags,
        summary: "List a domain's DKIM keys and the TXT records to publish",
        params: domainParams,
        response: withErrors({
          200: {
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: dkimKeySchema } },
          },
        }),
      },
    },
    async (request) => {
      // Through the caller's provisioning: another tenant's domain is simply not found.
      const domain = await request.provisioning.getDomain(request.params.id);
      return { items: await listDkimKeys(pool, domain.id) };
    },
  );

  api.post<{ Params: { id: string }; Body: { selector?: string } }>(
    '/:id/dkim-keys',
    {
      schema: {
        tags,
        summary: 'Generate a new RSA-2048 key and make it the active one (the old key stays, inactive)',
        params: domainParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            selector: {
              type: 'string',
              pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$',
              description: 'Defaults to c<yyyymmdd><4 hex>',
            },
          },
        },
        response: withErrors({ 201: dkimKeySchema }),
      },
      // A bare POST (no body at all) means "rotate with a generated selector".
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const domain = await request.provisioning.getDomain(request.params.id);
      const existing = await listDkimKeys(pool, domain.id);
      const selector = request.body.selector;
      if (selector && existing.some((key) => key.selector === selector)) {
        throw new ApiError(
          409,
          'conflict',
          `selector ${JSON.stringify(selector)} is already used by this domain`,
        );
      }
      return reply.code(201).send(await rotateDkimKey(pool, domain.id, selector ? { selector } : {}));
    },
  );

  api.delete<{ Params: { id: string; keyId: string } }>(
    '/:id/dkim-keys/:keyId',
    {
      schema: {
        tags,
        summary: 'Delete an inactive DKIM key (withdraw its DNS record afterwards)',
        params: {
          type: 'object',
          required: ['id', 'keyId'],
          additionalProperties: false,
          properties: { id, keyId: id },
        },
        response: withErrors({ 204: { type: 'null' } }),
      },
    },
    async (request, reply) => {
      const domain = await request.provisioning.getDomain(request.params.id);
      const keys = await listDkimKeys(pool, domain.id);
      const key = keys.find((k) => k.id === request.params.keyId);
      if (!key) throw new ApiError(404, 'not_found', `DKIM key ${request.params.keyId} not found`);
      if (key.active) {
        throw new ApiError(409, 'conflict', 'the active key cannot be deleted: rotate to a new key first');
      }
      await deleteDkimKey(pool, domain.id, key.id);
      return reply.code(204).send();
    },
  );
}
