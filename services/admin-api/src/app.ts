import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type pg from 'pg';
import { handleError, handleNotFound } from './api-error.js';
import { requireBearer } from './authentication.js';
import { errorResponse, idFormats } from './schemas.js';
import { accountRoutes } from './routes/accounts.js';
import { aliasRoutes } from './routes/aliases.js';
import { domainRoutes } from './routes/domains.js';
import { tenantRoutes } from './routes/tenants.js';
import { tokenRoutes } from './routes/tokens.js';
import { dkimRoutes } from './routes/dkim.js';
import { relayQueueRoutes } from './routes/relay-queue.js';
import { sendAsRoutes } from './routes/send-as.js';
import { sieveRoutes } from './routes/sieve.js';
import { txtLookup } from './txt-lookup.js';
import { deadLetterRoutes } from './routes/dead-letters.js';
import type { Bus } from '@correo/bus';
import { deliveryRejectionRoutes } from './routes/delivery-rejections.js';
import { messageRoutes } from './routes/messages.js';
import { decisionRoutes } from './routes/decisions.js';
import { defaultClientSettings, type ClientSettings } from '@correo/autoconfig';

export interface AdminApiOptions {
  pool: pg.Pool;
  /** The operator's bearer token (every tenant); undefined: only tokens stored in the database work. */
  adminToken?: string | undefined;
  /** Where dead letters are replayed; without it the replay route answers 503. */
  bus?: Bus | undefined;
  /** A pino logger, or false/undefined for none (tests). */
  logger?: FastifyBaseLogger | false;
  /** Resolvers for domain verification (ip or ip:port); empty or undefined: the system's. */
  dnsServers?: string[];
  /** Where clients connect, for the per-domain DNS records; undefined: this host on the standard ports. */
  clientSettings?: ClientSettings;
}

/** The admin REST API under /v1, its OpenAPI document at /docs/json and Swagger UI at /docs. Not listening yet. */
export async function buildAdminApi(options: AdminApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    ajv: {
      // Unknown fields are refused with a message naming them rather than silently dropped, and every
      // bad field is reported at once.
      customOptions: { removeAdditional: false, allErrors: true, formats: idFormats },
    },
  }) as unknown as FastifyInstance;

  app.setErrorHandler(handleError);
  app.setNotFoundHandler(handleNotFound);
  app.addSchema(errorResponse);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'correo admin API',
        version: '1',
        description: 'Tenants, domains, accounts, aliases and API tokens of a correo mail system.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(
    async (api) => {
      requireBearer(api, options.pool, options.adminToken);
      await api.register(tenantRoutes, { prefix: '/tenants' });
      await api.register(domainRoutes, {
        prefix: '/domains',
        lookupTxt: txtLookup(options.dnsServers ?? []),
        clientSettings: options.clientSettings ?? defaultClientSettings(),
      });
      await api.register(accountRoutes, { prefix: '/accounts' });
      await api.register(sendAsRoutes, { prefix: '/accounts' });
      await api.register(sieveRoutes, { prefix: '/accounts', pool: options.pool });
      await api.register(aliasRoutes, { prefix: '/aliases' });
      await api.register(tokenRoutes, { prefix: '/tokens' });
      await api.register(dkimRoutes, { prefix: '/domains', pool: options.pool });
      await api.register(relayQueueRoutes, { prefix: '/relay-queue', pool: options.pool });
      await api.register(deadLetterRoutes, { prefix: '/dead-letters', pool: options.pool, bus: options.bus });
      await api.register(deliveryRejectionRoutes, { prefix: '/delivery-rejections', pool: options.pool });
      await api.register(messageRoutes, { prefix: '/messages', pool: options.pool });
      await api.register(decisionRoutes, { prefix: '/decisions', pool: options.pool });
    },
    { prefix: '/v1' },
  );

  await app.ready();
  return app;
}
