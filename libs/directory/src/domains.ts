import { domainToUnicode } from 'node:url';
import { parseDomain } from './address.js';
import { conflict, invalid, isUniqueViolation, notFound } from './errors.js';
import { pageBounds, toPage } from './pagination.js';
import type { Page, PageRequest } from './pagination.js';
import { owningTenant, requireId } from './scope.js';
import type { Scope } from './scope.js';

export interface Domain {
  id: string;
  tenantId: string;
  /** Lowercase A-labels (punycode), as stored. */
  name: string;
  /** The same name in Unicode, for display. */
  unicodeName: string;
  createdAt: Date;
}

type DomainRow = Omit<Domain, 'unicodeName'>;

const COLUMNS = 'id, tenant_id AS "tenantId", name, created_at AS "createdAt"';

const withUnicode = (row: DomainRow): Domain => ({ ...row, unicodeName: domainToUnicode(row.name) });

export function domainName(input: string, field = 'name'): string {
  const parsed = parseDomain(input.trim());
  if (!parsed.ok) throw invalid(field, parsed.error);
  return parsed.value;
}

export async function createDomain(
  scope: Scope,
  input: { name: string; tenantId?: string },
): Promise<Domain> {
  const tenantId = owningTenant(scope, input.tenantId);
  if (tenantId === undefined) throw invalid('tenantId', 'tenantId is required with the operator token');
  requireId(tenantId, 'tenant');
  const name = domainName(input.name);
  try {
    const { rows } = await scope.pool.query<DomainRow>(
      `INSERT INTO domains (tenant_id, name) SELECT id, $2 FROM tenants WHERE id = $1 RETURNING ${COLUMNS}`,
      [tenantId, name],
    );
    if (!rows[0]) throw notFound(`tenant ${tenantId} not found`);
    return withUnicode(rows[0]);
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`the domain ${name} is already registered`, 'name');
    throw error;
  }
}

export async function listDomains(
  scope: Scope,
  page?: PageRequest,
  filter: { tenantId?: string } = {},
): Promise<Page<Domain>> {
  const { limit, afterId } = pageBounds(page);
  const { rows } = await scope.pool.query<DomainRow>(
    `SELECT ${COLUMNS} FROM domains
      WHERE id > $1 AND ($2::bigint IS NULL OR tenant_id = $2) AND ($3::bigint IS NULL OR tenant_id = $3)
      ORDER BY id LIMIT $4`,
    [afterId, scope.tenantId, filter.tenantId ?? null, limit + 1],
  );
  return toPage(rows.map(withUnicode), limit);
}

export async function getDomain(scope: Scope, id: string): Promise<Domain> {
  requireId(id, 'domain');
  const { rows } = await scope.pool.query<DomainRow>(
    `SELECT ${COLUMNS} FROM domains WHERE id = $1 AND ($2::bigint IS NULL OR tenant_id = $2)`,
    [id, scope.tenantId],
  );
  if (!rows[0]) throw notFound(`domain ${id} not found`);
  return withUnicode(rows[0]);
}

/** By name (Unicode or punycode, any case); not-found when absent or another tenant's. */
export async function getDomainByName(scope: Scope, name: string, field = 'name'): Promise<Domain> {
  const ascii = domainName(name, field);
  const { rows } = await scope.pool.query<DomainRow>(
    `SELECT ${COLUMNS} FROM domains WHERE name = $1 AND ($2::bigint IS NULL OR tenant_id = $2)`,
    [ascii, scope.tenantId],
  );
  if (!rows[0])
    throw notFound(`the domain ${ascii} is not a local domain${scope.tenantId ? ' of this tenant' : ''}`);
  return withUnicode(rows[0]);
}

/** Deletes the domain with its accounts (and their mail) and aliases. */
export async function deleteDomain(scope: Scope, id: string): Promise<void> {
  requireId(id, 'domain');
  const { rowCount } = await scope.pool.query(
    'DELETE FROM domains WHERE id = $1 AND ($2::bigint IS NULL OR tenant_id = $2)',
    [id, scope.tenantId],
  );
  if (!rowCount) throw notFound(`domain ${id} not found`);
}
