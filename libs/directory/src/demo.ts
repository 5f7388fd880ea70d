import type pg from 'pg';
import { accountAddress } from './accounts.js';
import { DirectoryError } from './errors.js';
import { createProvisioning } from './provisioning.js';

export interface DemoAccountOptions {
  /** e.g. `demo@example.test`; its domain is registered too. */
  address: string;
  password: string;
  /** Default `demo`. */
  tenantName?: string;
}

/**
 * Idempotent setup of the embedded default's demo tenant, domain and account (DESIGN.md, `make dev`).
 * A second start leaves an existing account and its password alone; `created` says whether it was new.
 */
export async function ensureDemoAccount(
  pool: pg.Pool,
  options: DemoAccountOptions,
): Promise<{ created: boolean }> {
  const admin = createProvisioning(pool);
  const { domain } = accountAddress(options.address);
  const tenantName = options.tenantName ?? 'demo';
  const ignoreConflict = (error: unknown) => {
    if (!(error instanceof DirectoryError && error.code === 'conflict')) throw error;
  };

  await admin.createTenant({ name: tenantName }).catch(ignoreConflict);
  const tenants = await pool.query<{ id: string }>('SELECT id FROM tenants WHERE name = $1', [tenantName]);
  await admin
    .createDomain({ tenantId: tenants.rows[0]!.id, name: domain, verified: true })
    .catch(ignoreConflict);
  try {
    await admin.createAccount({ address: options.address, password: options.password, displayName: 'Demo' });
    return { created: true };
  } catch (error) {
    ignoreConflict(error);
    return { created: false };
  }
}
