import { getAccount } from './accounts.js';
import { getDomainByName } from './domains.js';
import { conflict, isUniqueViolation, notFound } from './errors.js';
import { requireId } from './scope.js';
import type { Scope } from './scope.js';

/**
 * A domain-wide send-as grant: the account may use any address of the domain as envelope sender and
 * in From (a shared newsletter or ticket sender). Account and domain belong to one tenant.
 */
export interface SendAsGrant {
  id: string;
  tenantId: string;
  accountId: string;
  domainId: string;
  /** Lowercase punycode. */
  domain: string;
  createdAt: Date;
}

const COLUMNS = `g.id, g.tenant_id AS "tenantId", g.account_id AS "accountId", g.domain_id AS "domainId",
  d.name AS domain, g.created_at AS "createdAt"`;

export async function grantSendAs(
  scope: Scope,
  input: { accountId: string; domain: string },
): Promise<SendAsGrant> {
  // Both through the caller's scope: another tenant's account or domain is simply not found, and the
  // domain must be the account's tenant's (the composite foreign keys say so too).
  const account = await getAccount(scope, input.accountId);
  const domain = await getDomainByName({ ...scope, tenantId: account.tenantId }, input.domain, 'domain');
  try {
    const { rows } = await scope.pool.query<{ id: string }>(
      'INSERT INTO send_as_grants (tenant_id, account_id, domain_id) VALUES ($1, $2, $3) RETURNING id',
      [account.tenantId, account.id, domain.id],
    );
    return getSendAsGrant(scope, account.id, rows[0]!.id);
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw conflict(`${account.address} may already send as ${domain.name}`, 'domain');
    }
    throw error;
  }
}

export async function listSendAsGrants(scope: Scope, accountId: string): Promise<SendAsGrant[]> {
  const account = await getAccount(scope, accountId);
  const { rows } = await scope.pool.query<SendAsGrant>(
    `SELECT ${COLUMNS} FROM send_as_grants g JOIN domains d ON d.id = g.domain_id
      WHERE g.account_id = $1 ORDER BY g.id`,
    [account.id],
  );
  return rows;
}

async function getSendAsGrant(scope: Scope, accountId: string, id: string): Promise<SendAsGrant> {
  requireId(id, 'send-as grant');
  const { rows } = await scope.pool.query<SendAsGrant>(
    `SELECT ${COLUMNS} FROM send_as_grants g JOIN domains d ON d.id = g.domain_id
      WHERE g.id = $1 AND g.account_id = $2 AND ($3::bigint IS NULL OR g.tenant_id = $3)`,
    [id, accountId, scope.tenantId],
  );
  if (!rows[0]) throw notFound(`send-as grant ${id} not found`);
  return rows[0];
}

export async function revokeSendAs(scope: Scope, accountId: string, id: string): Promise<void> {
  requireId(accountId, 'account');
  requireId(id, 'send-as grant');
  const { rowCount } = await scope.pool.query(
    `DELETE FROM send_as_grants WHERE id = $1 AND account_id = $2 AND ($3::bigint IS NULL OR tenant_id = $3)`,
    [id, accountId, scope.tenantId],
  );
  if (!rowCount) throw notFound(`send-as grant ${id} not found`);
}
