import type pg from 'pg';
import { inTransaction } from '@correo/store';
import { dkimDnsRecord, generateDkimKeyPair, newSelector } from './keys.js';
import type { DkimDnsRecord } from './keys.js';

/** A DKIM key as the admin API shows it: never the private key. */
export interface DkimKey {
  id: string;
  domainId: string;
  domain: string;
  selector: string;
  algorithm: string;
  active: boolean;
  createdAt: Date;
  dnsRecord: DkimDnsRecord;
}

/** What the relay signs with. */
export interface SigningKey {
  domain: string;
  selector: string;
  privateKey: string;
  algorithm: string;
}

interface KeyRow {
  id: string;
  domain_id: string;
  domain: string;
  selector: string;
  algorithm: string;
  public_key: string;
  active: boolean;
  created_at: Date;
}

const KEY_COLUMNS = `k.id, k.domain_id, d.name AS domain, k.selector, k.algorithm, k.public_key, k.active, k.created_at`;

function toKey(row: KeyRow): DkimKey {
  return {
    id: String(row.id),
    domainId: String(row.domain_id),
    domain: row.domain,
    selector: row.selector,
    algorithm: row.algorithm,
    active: row.active,
    createdAt: row.created_at,
    dnsRecord: dkimDnsRecord(row.domain, row.selector, row.public_key),
  };
}

export async function listDkimKeys(pool: pg.Pool, domainId: string): Promise<DkimKey[]> {
  const { rows } = await pool.query<KeyRow>(
    `SELECT ${KEY_COLUMNS} FROM dkim_keys k JOIN domains d ON d.id = k.domain_id
      WHERE k.domain_id = $1 ORDER BY k.active DESC, k.created_at DESC, k.id DESC`,
    [domainId],
  );
  return rows.map(toKey);
}

/**
 * Makes a new key the domain's signing key; the previous active key stays in the table, inactive,
 * so its DNS record can be listed until it is withdrawn. The first key of a domain is created the
 * same way. One transaction: the partial unique index allows one active key, and the domain row
 * lock serialises two rotations of one domain.
 */
export async function rotateDkimKey(
  pool: pg.Pool,
  domainId: string,
  options: { selector?: string } = {},
): Promise<DkimKey> {
  const pair = await generateDkimKeyPair();
  const selector = options.selector ?? newSelector();
  return inTransaction(pool, async (client) => {
    const domain = await client.query<{ name: string }>('SELECT name FROM domains WHERE id = $1 FOR UPDATE', [
      domainId,
    ]);
    if (!domain.rows[0]) throw new Error(`domain ${domainId} not found`);
    await client.query('UPDATE dkim_keys SET active = false WHERE domain_id = $1 AND active', [domainId]);
    const inserted = await client.query<{ id: string }>(
      `INSERT INTO dkim_keys (domain_id, selector, algorithm, private_key, public_key, active)
       VALUES ($1, $2, 'rsa-sha256', $3, $4, true) RETURNING id`,
      [domainId, selector, pair.privateKey, pair.publicKey],
    );
    const { rows } = await client.query<KeyRow>(
      `SELECT ${KEY_COLUMNS} FROM dkim_keys k JOIN domains d ON d.id = k.domain_id WHERE k.id = $1`,
      [inserted.rows[0]!.id],
    );
    return toKey(rows[0]!);
  });
}

/** Removes a key (its DNS record may then be withdrawn); the active key cannot be deleted this way. */
export async function deleteDkimKey(pool: pg.Pool, domainId: string, keyId: string): Promise<boolean> {
  const result = await pool.query('DELETE FROM dkim_keys WHERE domain_id = $1 AND id = $2 AND NOT active', [
    domainId,
    keyId,
  ]);
  return result.rowCount === 1;
}

/**
 * The active key of a domain (ASCII, any case) that belongs to `tenantId`, or null when that tenant
 * has no such domain or it signs nothing: a tenant never gets another tenant's key.
 */
export async function activeSigningKey(
  pool: pg.Pool,
  domain: string,
  tenantId: string,
): Promise<SigningKey | null> {
  if (!/^[1-9][0-9]{0,18}$/.test(tenantId)) return null;
  const { rows } = await pool.query<{
    name: string;
    selector: string;
    private_key: string;
    algorithm: string;
  }>(
    `SELECT d.name, k.selector, k.private_key, k.algorithm FROM dkim_keys k JOIN domains d ON d.id = k.domain_id
      WHERE d.name = lower($1) AND d.tenant_id = $2 AND k.active`,
    [domain, tenantId],
  );
  const row = rows[0];
  return row
    ? { domain: row.name, selector: row.selector, privateKey: row.private_key, algorithm: row.algorithm }
    : null;
}
