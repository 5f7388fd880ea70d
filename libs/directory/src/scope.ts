import type pg from 'pg';
import { notFound } from './errors.js';

/**
 * Who is asking. `tenantId: null` is the operator (every tenant); otherwise every query is filtered
 * by this tenant and other tenants' objects look absent.
 */
export interface Scope {
  pool: pg.Pool;
  tenantId: string | null;
}

const ID = /^[1-9][0-9]{0,18}$/;

/** Ids are bigints as decimal strings; anything else cannot name a row, so it is simply not found. */
export function requireId(id: string, what: string): string {
  if (!ID.test(id)) throw notFound(`${what} ${JSON.stringify(id)} not found`);
  return id;
}

/** The tenant a new object belongs to: the caller's own, or the operator's explicit choice. */
export function owningTenant(
  scope: Scope,
  requested: string | undefined,
  field = 'tenantId',
): string | undefined {
  if (scope.tenantId === null) return requested;
  if (requested !== undefined && requested !== scope.tenantId) {
    throw notFound(`tenant ${JSON.stringify(requested)} not found (${field})`);
  }
  return scope.tenantId;
}
