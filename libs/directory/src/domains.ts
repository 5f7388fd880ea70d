import { randomBytes } from 'node:crypto';
import { domainToUnicode } from 'node:url';
import { parseDomain } from './address.js';
import { conflict, forbidden, invalid, isUniqueViolation, notFound, unprocessable } from './errors.js';
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
  /**
   * pending: registered but not proven to be the tenant's, so it receives and relays nothing;
   * verified: by the TXT record in `verification` or by the operator.
   */
  status: 'pending' | 'verified';
  verifiedAt: Date | null;
  /** The TXT record that proves control of the name; null once verified. */
  verification: DomainVerificationRecord | null;
  createdAt: Date;
}

export interface DomainVerificationRecord {
  /** `_correo-verify.<domain>` */
  name: string;
  type: 'TXT';
  /** `correo-verify=<token>` */
  value: string;
}

interface DomainRow {
  id: string;
  tenantId: string;
  name: string;
  verifiedAt: Date | null;
  token: string;
  createdAt: Date;
}

const COLUMNS =
  'id, tenant_id AS "tenantId", name, verified_at AS "verifiedAt", verification_token AS token, created_at AS "createdAt"';

/** The owner name of the TXT record that proves control of `domain` (ASCII). */
const verificationRecordName = (domain: string) => `_correo-verify.${domain}`;
const verificationValue = (token: string) => `correo-verify=${token}`;

function toDomain({ token, ...row }: DomainRow): Domain {
  return {
    ...row,
    unicodeName: domainToUnicode(row.name),
    status: row.verifiedAt ? 'verified' : 'pending',
    verification: row.verifiedAt
      ? null
      : { name: verificationRecordName(row.name), type: 'TXT', value: verificationValue(token) },
  };
}

export function domainName(input: string, field = 'name'): string {
  const parsed = parseDomain(input.trim());
  if (!parsed.ok) throw invalid(field, parsed.error);
  return parsed.value;
}

/**
 * Registers a domain for a tenant, pending until verified. `verified: true` is the operator's path
 * (test setups, `make dev`, names the operator vouches for); a tenant asking for it is refused.
 * A name another tenant holds is refused with a neutral 422 that does not say who holds it.
 */
export async function createDomain(
  scope: Scope,
  input: { name: string; tenantId?: string; verified?: boolean },
): Promise<Domain> {
  const tenantId = owningTenant(scope, input.tenantId);
  if (tenantId === undefined) throw invalid('tenantId', 'tenantId is required with the operator token');
  requireId(tenantId, 'tenant');
  if (input.verified && scope.tenantId !== null) {
    throw forbidden('only the operator may register a domain as verified; publish the TXT record instead');
  }
  const name = domainName(input.name);
  try {
    const { rows } = await scope.pool.query<DomainRow>(
      `INSERT INTO domains (tenant_id, name, verification_token, verified_at)
       SELECT id, $2, $3, CASE WHEN $4 THEN now() END FROM tenants WHERE id = $1 RETURNING ${COLUMNS}`,
      [tenantId, name, randomBytes(16).toString('hex'), Boolean(input.verified)],
    );
    if (!rows[0]) throw notFound(`tenant ${tenantId} not found`);
    return toDomain(rows[0]);
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const { rows } = await scope.pool.query<{ tenantId: string }>(
      'SELECT tenant_id AS "tenantId" FROM domains WHERE name = $1',
      [name],
    );
    // The operator and the holder may know; anyone else learns only that the name is not available.
    if (scope.tenantId === null || rows[0]?.tenantId === scope.tenantId) {
      throw conflict(`the domain ${name} is already registered`, 'name');
    }
    throw unprocessable(`the domain ${name} is not available`, 'name');
  }
}

/** Resolves the TXT records at a name: one string per record (its character-strings joined). */
export type TxtLookup = (name: string) => Promise<string[]>;

/**
 * Marks a pending domain verified. A tenant proves control through DNS: `lookupTxt` must find the
 * domain's token at `_correo-verify.<domain>`. The operator may pass `skipDns` to vouch for it.
 * Verifying an already verified domain answers it unchanged.
 */
export async function verifyDomain(
  scope: Scope,
  id: string,
  options: { lookupTxt: TxtLookup; skipDns?: boolean },
): Promise<Domain> {
  const domain = await getDomain(scope, id);
  if (domain.status === 'verified') return domain;
  if (options.skipDns && scope.tenantId !== null) {
    throw forbidden('only the operator may verify a domain without its TXT record');
  }
  if (!options.skipDns) {
    const record = domain.verification!;
    let found: string[];
    try {
      found = await options.lookupTxt(record.name);
    } catch {
      found = [];
    }
    if (!found.some((text) => text.trim() === record.value)) {
      throw unprocessable(
        `no TXT record ${record.name} with the value ${JSON.stringify(record.value)} was found; publish it and try again`,
        'verification',
      );
    }
  }
  const { rows } = await scope.pool.query<DomainRow>(
    `UPDATE domains SET verified_at = coalesce(verified_at, now())
      WHERE id = $1 AND ($2::bigint IS NULL OR tenant_id = $2) RETURNING ${COLUMNS}`,
    [id, scope.tenantId],
  );
  if (!rows[0]) throw notFound(`domain ${id} not found`);
  return toDomain(rows[0]);
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
  return toPage(rows.map(toDomain), limit);
}

export async function getDomain(scope: Scope, id: string): Promise<Domain> {
  requireId(id, 'domain');
  const { rows } = await scope.pool.query<DomainRow>(
    `SELECT ${COLUMNS} FROM domains WHERE id = $1 AND ($2::bigint IS NULL OR tenant_id = $2)`,
    [id, scope.tenantId],
  );
  if (!rows[0]) throw notFound(`domain ${id} not found`);
  return toDomain(rows[0]);
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
  return toDomain(rows[0]);
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
