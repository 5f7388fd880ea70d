import type pg from 'pg';
import { hashPassword } from '@correo/auth';
import { addressKey, parseAddress } from './address.js';
import type { ParsedAddress } from './address.js';
import { getDomainByName } from './domains.js';
import { conflict, invalid, isUniqueViolation, notFound } from './errors.js';
import { pageBounds, toPage } from './pagination.js';
import type { Page, PageRequest } from './pagination.js';
import { requireId } from './scope.js';
import type { Scope } from './scope.js';
import { inTransaction } from '@correo/store';

export interface Account {
  id: string;
  tenantId: string;
  domainId: string;
  address: string;
  displayName: string;
  /** null: no quota. */
  quotaBytes: number | null;
  usedBytes: number;
  disabled: boolean;
  /** False when the account has no password and so cannot log in with one. */
  hasPassword: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewAccount {
  address: string;
  /** Hashed with argon2id here; omit to create an account that cannot log in yet. */
  password?: string;
  displayName?: string;
  quotaBytes?: number | null;
  disabled?: boolean;
}

export interface AccountPatch {
  displayName?: string;
  quotaBytes?: number | null;
  disabled?: boolean;
  password?: string;
}

/** The folders every account starts with, and their RFC 6154 special-use attributes. */
export const DEFAULT_MAILBOXES: readonly { name: string; specialUse: string | null }[] = [
  { name: 'INBOX', specialUse: null },
  { name: 'Sent', specialUse: '\\Sent' },
  { name: 'Drafts', specialUse: '\\Drafts' },
  { name: 'Trash', specialUse: '\\Trash' },
  { name: 'Junk', specialUse: '\\Junk' },
  { name: 'Archive', specialUse: '\\Archive' },
];

const MAX_PASSWORD_LENGTH = 1024;

const COLUMNS = `id, tenant_id AS "tenantId", domain_id AS "domainId", address, display_name AS "displayName",
  quota_bytes::float8 AS "quotaBytes", used_bytes::float8 AS "usedBytes", disabled,
  password_hash IS NOT NULL AS "hasPassword", created_at AS "createdAt", updated_at AS "updatedAt"`;

export function accountAddress(input: string, field = 'address'): ParsedAddress {
  const parsed = parseAddress(input.trim());
  if (!parsed.ok) throw invalid(field, parsed.error);
  if (parsed.value.localPart.includes('@'))
    throw invalid(field, 'an account address must not contain a quoted @');
  return parsed.value;
}

function checkPassword(password: string): string {
  if (password === '') throw invalid('password', 'password must not be empty');
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw invalid('password', `password must be at most ${MAX_PASSWORD_LENGTH} characters`);
  }
  return password;
}

function checkQuota(quota: number | null | undefined): number | null {
  if (quota === undefined || quota === null) return null;
  if (!Number.isSafeInteger(quota) || quota < 0)
    throw invalid('quotaBytes', 'quotaBytes must be a non-negative integer or null');
  return quota;
}

function checkDisplayName(name: string | undefined): string {
  const value = name ?? '';
  if (value.length > 200) throw invalid('displayName', 'displayName must be at most 200 characters');
  return value;
}

async function aliasExists(db: pg.PoolClient, address: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM aliases WHERE lower(source) = $1', [
    addressKey(address),
  ]);
  return (rowCount ?? 0) > 0;
}

/** Creates the account and its default mailboxes in one transaction. */
export async function createAccount(scope: Scope, input: NewAccount): Promise<Account> {
  const parsed = accountAddress(input.address);
  const domain = await getDomainByName(scope, parsed.domain, 'address');
  const passwordHash =
    input.password === undefined ? null : await hashPassword(checkPassword(input.password));
  const quota = checkQuota(input.quotaBytes);
  const displayName = checkDisplayName(input.displayName);
  try {
    return await inTransaction(scope.pool, async (db) => {
      // An address is either an account or an alias, never both: the account would silently win.
      if (await aliasExists(db, parsed.address)) {
        throw conflict(`${parsed.address} is already an alias`, 'address');
      }
      const { rows } = await db.query<Account>(
        `INSERT INTO accounts (tenant_id, domain_id, local_part, address, display_name, password_hash, quota_bytes, disabled)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
        [
          domain.tenantId,
          domain.id,
          parsed.localPart,
          parsed.address,
          displayName,
          passwordHash,
          quota,
          input.disabled ?? false,
        ],
      );
      const account = rows[0]!;
      await db.query(
        `INSERT INTO mailboxes (account_id, name, special_use)
         SELECT $1, name, special_use FROM unnest($2::text[], $3::text[]) AS m (name, special_use)`,
        [account.id, DEFAULT_MAILBOXES.map((m) => m.name), DEFAULT_MAILBOXES.map((m) => m.specialUse)],
      );
      return account;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`the account ${parsed.address} exists`, 'address');
    throw error;
  }
}

export async function listAccounts(
  scope: Scope,
  page?: PageRequest,
  filter: { domainId?: string; tenantId?: string } = {},
): Promise<Page<Account>> {
  const { limit, afterId } = pageBounds(page);
  const { rows } = await scope.pool.query<Account>(
    `SELECT ${COLUMNS} FROM accounts
      WHERE id > $1 AND ($2::bigint IS NULL OR tenant_id = $2) AND ($3::bigint IS NULL OR domain_id = $3)
        AND ($4::bigint IS NULL OR tenant_id = $4)
      ORDER BY id LIMIT $5`,
    [afterId, scope.tenantId, filter.domainId ?? null, filter.tenantId ?? null, limit + 1],
  );
  return toPage(rows, limit);
}

export async function getAccount(scope: Scope, id: string): Promise<Account> {
  requireId(id, 'account');
  const { rows } = await scope.pool.query<Account>(
    `SELECT ${COLUMNS} FROM accounts WHERE id = $1 AND ($2::bigint IS NULL OR tenant_id = $2)`,
    [id, scope.tenantId],
  );
  if (!rows[0]) throw notFound(`account ${id} not found`);
  return rows[0];
}

/** By address, matched case-insensitively (IDN domains accepted). */
export async function getAccountByAddress(scope: Scope, address: string): Promise<Account> {
  const parsed = accountAddress(address);
  const { rows } = await scope.pool.query<Account>(
    `SELECT ${COLUMNS} FROM accounts WHERE lower(address) = $1 AND ($2::bigint IS NULL OR tenant_id = $2)`,
    [addressKey(parsed.address), scope.tenantId],
  );
  if (!rows[0]) throw notFound(`no account ${parsed.address}`);
  return rows[0];
}

export async function updateAccount(scope: Scope, id: string, patch: AccountPatch): Promise<Account> {
  requireId(id, 'account');
  const sets: string[] = [];
  const values: unknown[] = [id, scope.tenantId];
  const set = (column: string, value: unknown) => {
    values.push(value);
    sets.push(`${column} = $${values.length}`);
  };
  if (patch.displayName !== undefined) set('display_name', checkDisplayName(patch.displayName));
  if (patch.quotaBytes !== undefined) set('quota_bytes', checkQuota(patch.quotaBytes));
  if (patch.disabled !== undefined) set('disabled', patch.disabled);
  if (patch.password !== undefined) set('password_hash', await hashPassword(checkPassword(patch.password)));
  if (sets.length === 0) return getAccount(scope, id);
  const { rows } = await scope.pool.query<Account>(
    `UPDATE accounts SET ${sets.join(', ')}, updated_at = now()
      WHERE id = $1 AND ($2::bigint IS NULL OR tenant_id = $2) RETURNING ${COLUMNS}`,
    values,
  );
  if (!rows[0]) throw notFound(`account ${id} not found`);
  return rows[0];
}

export async function setPassword(scope: Scope, id: string, password: string): Promise<Account> {
  return updateAccount(scope, id, { password });
}

/** Deletes the account with its mailboxes and messages (blobs are collected separately). */
export async function deleteAccount(scope: Scope, id: string): Promise<void> {
  requireId(id, 'account');
  const { rowCount } = await scope.pool.query(
    'DELETE FROM accounts WHERE id = $1 AND ($2::bigint IS NULL OR tenant_id = $2)',
    [id, scope.tenantId],
  );
  if (!rowCount) throw notFound(`account ${id} not found`);
}
