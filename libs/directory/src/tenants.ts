import { conflict, forbidden, invalid, isUniqueViolation, notFound } from './errors.js';
import { pageBounds, toPage } from './pagination.js';
import type { Page, PageRequest } from './pagination.js';
import { requireId } from './scope.js';
import type { Scope } from './scope.js';

export interface Tenant {
  id: string;
  name: string;
  createdAt: Date;
}

const COLUMNS = 'id, name, created_at AS "createdAt"';

function tenantName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > 200) throw invalid('name', 'name must be 1 to 200 characters');
  return trimmed;
}

function operatorOnly(scope: Scope, action: string): void {
  if (scope.tenantId !== null) throw forbidden(`only the operator token may ${action}`);
}

export async function createTenant(scope: Scope, input: { name: string }): Promise<Tenant> {
  operatorOnly(scope, 'create tenants');
  try {
    const { rows } = await scope.pool.query<Tenant>(
      `INSERT INTO tenants (name) VALUES ($1) RETURNING ${COLUMNS}`,
      [tenantName(input.name)],
    );
    return rows[0]!;
  } catch (error) {
    if (isUniqueViolation(error))
      throw conflict(`a tenant named ${JSON.stringify(input.name)} exists`, 'name');
    throw error;
  }
}

export async function listTenants(scope: Scope, page?: PageRequest): Promise<Page<Tenant>> {
  const { limit, afterId } = pageBounds(page);
  const { rows } = await scope.pool.query<Tenant>(
    `SELECT ${COLUMNS} FROM tenants WHERE id > $1 AND ($2::bigint IS NULL OR id = $2) ORDER BY id LIMIT $3`,
    [afterId, scope.tenantId, limit + 1],
  );
  return toPage(rows, limit);
}

export async function getTenant(scope: Scope, id: string): Promise<Tenant> {
  requireId(id, 'tenant');
  const { rows } = await scope.pool.query<Tenant>(
    `SELECT ${COLUMNS} FROM tenants WHERE id = $1 AND ($2::bigint IS NULL OR id = $2)`,
    [id, scope.tenantId],
  );
  if (!rows[0]) throw notFound(`tenant ${id} not found`);
  return rows[0];
}

export async function updateTenant(scope: Scope, id: string, patch: { name?: string }): Promise<Tenant> {
  operatorOnly(scope, 'rename tenants');
  requireId(id, 'tenant');
  if (patch.name === undefined) return getTenant(scope, id);
  try {
    const { rows } = await scope.pool.query<Tenant>(
      `UPDATE tenants SET name = $2 WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, tenantName(patch.name)],
    );
    if (!rows[0]) throw notFound(`tenant ${id} not found`);
    return rows[0];
  } catch (error) {
    if (isUniqueViolation(error))
      throw conflict(`a tenant named ${JSON.stringify(patch.name)} exists`, 'name');
    throw error;
  }
}

/** Deletes the tenant with all its domains, accounts, mailboxes, messages and tokens. */
export async function deleteTenant(scope: Scope, id: string): Promise<void> {
  operatorOnly(scope, 'delete tenants');
  requireId(id, 'tenant');
  const { rowCount } = await scope.pool.query('DELETE FROM tenants WHERE id = $1', [id]);
  if (!rowCount) throw notFound(`tenant ${id} not found`);
}
