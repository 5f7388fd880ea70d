import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { forbidden, invalid, notFound } from './errors.js';
import { pageBounds, toPage } from './pagination.js';
import type { Page, PageRequest } from './pagination.js';
import { owningTenant, requireId } from './scope.js';
import type { Scope } from './scope.js';

export interface ApiToken {
  id: string;
  /** null: an operator token valid across tenants. */
  tenantId: string | null;
  name: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
}

export interface ApiTokenGrant {
  /** The tenant the bearer may act for; null for every tenant. */
  tenantId: string | null;
  tokenId: string;
  /** When the presented token expires; null: never. */
  expiresAt: Date | null;
}

const COLUMNS = `id, tenant_id AS "tenantId", name, created_at AS "createdAt", expires_at AS "expiresAt",
  last_used_at AS "lastUsedAt"`;

// The prefix lets secret scanners and people recognise a leaked correo token.
const SECRET_PREFIX = 'correo_';

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

/**
 * Creates a token; the secret is returned once and only its SHA-256 is stored. Tenant scopes create
 * tokens for their own tenant; only the operator may create operator tokens (`tenantId: null`).
 */
export async function createApiToken(
  scope: Scope,
  input: { name: string; tenantId?: string | null; expiresAt?: Date | null },
): Promise<{ token: ApiToken; secret: string }> {
  const name = input.name?.trim() ?? '';
  if (name === '' || name.length > 200) throw invalid('name', 'name must be 1 to 200 characters');
  if (input.tenantId === null && scope.tenantId !== null)
    throw forbidden('only the operator may create operator tokens');
  const tenantId = input.tenantId === null ? null : (owningTenant(scope, input.tenantId) ?? null);
  if (tenantId !== null) requireId(tenantId, 'tenant');
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
    throw invalid('expiresAt', 'expiresAt must be in the future');
  }
  // A child never outlives its parent: otherwise a leaked short-lived token mints a permanent one.
  if (scope.notAfter && (!input.expiresAt || input.expiresAt.getTime() > scope.notAfter.getTime())) {
    throw forbidden(
      `this token expires at ${scope.notAfter.toISOString()}: a token it creates needs an expiresAt no later`,
    );
  }
  const secret = SECRET_PREFIX + randomBytes(32).toString('base64url');
  const { rows } = await scope.pool.query<ApiToken>(
    `INSERT INTO api_tokens (tenant_id, name, token_hash, expires_at)
     SELECT $1::bigint, $2, $3, $4 WHERE $1::bigint IS NULL OR EXISTS (SELECT 1 FROM tenants WHERE id = $1)
     RETURNING ${COLUMNS}`,
    [tenantId, name, hashSecret(secret), input.expiresAt ?? null],
  );
  if (!rows[0]) throw notFound(`tenant ${tenantId} not found`);
  return { token: rows[0], secret };
}

/** Live (unrevoked) tokens; a tenant scope sees its own tenant's only. */
export async function listApiTokens(
  scope: Scope,
  page?: PageRequest,
  filter: { tenantId?: string } = {},
): Promise<Page<ApiToken>> {
  const { limit, afterId } = pageBounds(page);
  const { rows } = await scope.pool.query<ApiToken>(
    `SELECT ${COLUMNS} FROM api_tokens
      WHERE revoked_at IS NULL AND id > $1 AND ($2::bigint IS NULL OR tenant_id = $2)
        AND ($3::bigint IS NULL OR tenant_id = $3)
      ORDER BY id LIMIT $4`,
    [afterId, scope.tenantId, filter.tenantId ?? null, limit + 1],
  );
  return toPage(rows, limit);
}

export async function getApiToken(scope: Scope, id: string): Promise<ApiToken> {
  requireId(id, 'token');
  const { rows } = await scope.pool.query<ApiToken>(
    `SELECT ${COLUMNS} FROM api_tokens WHERE id = $1 AND revoked_at IS NULL AND ($2::bigint IS NULL OR tenant_id = $2)`,
    [id, scope.tenantId],
  );
  if (!rows[0]) throw notFound(`token ${id} not found`);
  return rows[0];
}

/** Revokes the token: it stops working at once; the row stays for the audit trail. */
export async function revokeApiToken(scope: Scope, id: string): Promise<void> {
  requireId(id, 'token');
  const { rowCount } = await scope.pool.query(
    `UPDATE api_tokens SET revoked_at = now()
      WHERE id = $1 AND revoked_at IS NULL AND ($2::bigint IS NULL OR tenant_id = $2)`,
    [id, scope.tenantId],
  );
  if (!rowCount) throw notFound(`token ${id} not found`);
}

/** What a presented bearer secret grants, or null when it is unknown, revoked or expired. */
export async function verifyApiToken(pool: pg.Pool, secret: string): Promise<ApiTokenGrant | null> {
  if (!secret.startsWith(SECRET_PREFIX)) return null;
  const { rows } = await pool.query<ApiTokenGrant>(
    `UPDATE api_tokens SET last_used_at = now()
      WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
      RETURNING id AS "tokenId", tenant_id AS "tenantId", expires_at AS "expiresAt"`,
    [hashSecret(secret)],
  );
  return rows[0] ?? null;
}
