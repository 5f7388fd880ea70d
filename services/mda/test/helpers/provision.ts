import { createProvisioning } from '@correo/directory';
import type { Provisioning } from '@correo/directory';
import type { Pool } from '@correo/store';

/** Test accounts and aliases through the directory's own provisioning, in one tenant per test stack. */
export class Provisioner {
  private readonly operator: Provisioning;
  private tenantId: Promise<string> | undefined;
  private readonly domains = new Map<string, Promise<unknown>>();

  constructor(
    pool: Pool,
    private readonly tenantName: string,
  ) {
    this.operator = createProvisioning(pool);
  }

  private tenant(): Promise<string> {
    this.tenantId ??= this.operator.createTenant({ name: this.tenantName }).then((tenant) => tenant.id);
    return this.tenantId;
  }

  private async domain(name: string): Promise<void> {
    let created = this.domains.get(name);
    if (!created) {
      created = this.operator.createDomain({ name, tenantId: await this.tenant(), verified: true });
      this.domains.set(name, created);
    }
    await created;
  }

  /** Resolves with the account id. */
  async account(address: string, options: { quotaBytes?: number } = {}): Promise<string> {
    await this.domain(address.slice(address.lastIndexOf('@') + 1));
    const account = await this.operator.createAccount({ address, quotaBytes: options.quotaBytes ?? null });
    return account.id;
  }

  /** `source` is an address or a catch-all `@domain`; targets may be external. */
  async alias(source: string, targets: string[]): Promise<void> {
    await this.domain(source.slice(source.lastIndexOf('@') + 1));
    await this.operator.createAlias({ source, targets });
  }
}
