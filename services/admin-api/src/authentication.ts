import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { createProvisioning, verifyApiToken } from '@correo/directory';
import type { Provisioning } from '@correo/directory';
import { ApiError } from './api-error.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Bound to the bearer's tenant, or to every tenant for operator tokens. */
    provisioning: Provisioning;
  }
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Constant-time comparison: both sides are hashed first so lengths leak nothing either. */
function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function bearer(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1] ?? null;
}

/**
 * Every route registered after this in the same plugin needs `Authorization: Bearer <token>`: the
 * configured operator token, or an API token from the database (operator or per-tenant).
 */
export function requireBearer(api: FastifyInstance, pool: pg.Pool, adminToken: string | undefined): void {
  api.decorateRequest('provisioning', null as unknown as Provisioning);
  api.addHook('onRequest', async (request, reply) => {
    const token = bearer(request);
    if (token === null) {
      reply.header('WWW-Authenticate', 'Bearer realm="correo-admin"');
      throw new ApiError(401, 'unauthorized', 'missing "Authorization: Bearer <token>" header');
    }
    if (adminToken !== undefined && sameSecret(token, adminToken)) {
      request.provisioning = createProvisioning(pool);
      return;
    }
    const grant = await verifyApiToken(pool, token);
    if (!grant) {
      reply.header('WWW-Authenticate', 'Bearer realm="correo-admin", error="invalid_token"');
      throw new ApiError(401, 'unauthorized', 'the bearer token is unknown, revoked or expired');
    }
    request.provisioning = createProvisioning(pool, { tenantId: grant.tenantId, notAfter: grant.expiresAt });
  });
}
