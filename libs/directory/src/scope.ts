import type pg from 'pg';
import { notFound } from './errors.js';

/**
 * Who is asking. `tenantId: null` is the operator (every tenant); otherwise every query is filtered
 * by this tenant and other tenants' objects look absent.
 */
export interface Scope {
  pool: pg.Pool;
  tenantId: string | null;
  /**
   * When the caller's own API token expires (null or absent: never). A token it creates may not
   * outlive it, or a short-lived token could mint itself a permanent one.
   */
  notAfter?: Date | null;
}

/** The largest PostgreSQL bigint: a larger id would fail in the database instead of naming nothing. */
export const MAX_BIGINT = 9223372036854775807n;

/** A row id or keyset cursor as decimal text within the bigint range (`allowZero` for cursors). */
export function isBigintText(value: string, allowZero = false): boolean {
  return (allowZero ? /^[0-9]{1,19}$/ : /^[1-9][0-9]{0,18}$/).test(value) && BigInt(value) <= MAX_BIGINT;
}

/** Ids are bigints as decimal strings; anything else cannot name a row, so it is simply not found. */
export function requireId(id: string, what: string): string {
  if (!isBigintText(id)) throw notFound(`${what} ${JSON.stringify(id)} not found`);
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
