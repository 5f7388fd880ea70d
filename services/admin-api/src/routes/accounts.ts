import type { FastifyInstance } from 'fastify';
import type { AccountPatch, NewAccount } from '@correo/directory';
import {
  accountSchema,
  id,
  idParams,
  pageOf,
  pageQueryProperties,
  password,
  quotaBytes,
  withErrors,
} from '../schemas.js';
import type { PageQuery } from '../schemas.js';

const tags = ['accounts'];
const displayName = { type: 'string', maxLength: 200 } as const;

export async function accountRoutes(api: FastifyInstance): Promise<void> {
  api.post<{ Body: NewAccount }>(
    '',
    {
      schema: {
        tags,
        summary: 'Create an account in a local domain, with its default mailboxes',
        body: {
          type: 'object',
          required: ['address'],
          additionalProperties: false,
          properties: {
            address: { type: 'string', minLength: 3, maxLength: 320 },
            password: { ...password, description: 'Omit to create an account that cannot log in yet' },
            displayName,
            quotaBytes,
            disabled: { type: 'boolean' },
          },
        },
        response: withErrors({ 201: accountSchema }),
      },
    },
    async (request, reply) => reply.code(201).send(await request.provisioning.createAccount(request.body)),
  );

  api.get<{ Querystring: PageQuery & { domainId?: string; tenantId?: string; address?: string } }>(
    '',
    {
      schema: {
        tags,
        summary: 'List accounts, or find one by address',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...pageQueryProperties,
            domainId: id,
            tenantId: id,
            address: { type: 'string', description: 'Exactly this address (case-insensitive): 0 or 1 items' },
          },
        },
        response: withErrors({ 200: pageOf(accountSchema) }),
      },
    },
    async (request) => {
      const { domainId, tenantId, address, ...page } = request.query;
      if (address !== undefined) {
        const account = await request.provisioning.getAccountByAddress(address).catch((error: unknown) => {
          if ((error as { code?: string }).code === 'not-found') return null;
          throw error;
        });
        return { items: account ? [account] : [], nextCursor: null };
      }
      return request.provisioning.listAccounts(page, {
        ...(domainId ? { domainId } : {}),
        ...(tenantId ? { tenantId } : {}),
      });
    },
  );

  api.get<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Get an account',
        params: idParams,
        response: withErrors({ 200: accountSchema }),
      },
    },
    async (request) => request.provisioning.getAccount(request.params.id),
  );

  api.patch<{ Params: { id: string }; Body: AccountPatch }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Change quota, display name, disabled flag or password',
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { displayName, quotaBytes, disabled: { type: 'boolean' }, password },
        },
        response: withErrors({ 200: accountSchema }),
      },
    },
    async (request) => request.provisioning.updateAccount(request.params.id, request.body),
  );

  api.put<{ Params: { id: string }; Body: { password: string } }>(
    '/:id/password',
    {
      schema: {
        tags,
        summary: "Set the account's password (hashed with argon2id)",
        params: idParams,
        body: {
          type: 'object',
          required: ['password'],
          additionalProperties: false,
          properties: { password },
        },
        response: withErrors({ 204: { type: 'null' } }),
      },
    },
    async (request, reply) => {
      await request.provisioning.setPassword(request.params.id, request.body.password);
      return reply.code(204).send();
    },
  );

  api.delete<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Delete an account with its mailboxes and messages',
        params: idParams,
        response: withErrors({ 204: { type: 'null' } }),
      },
    },
    async (request, reply) => {
      await request.provisioning.deleteAccount(request.params.id);
      return reply.code(204).send();
    },
  );
}
