/** The admin-api over plain HTTP with the operator's bearer token, as an operator's script would call it. */
export class AdminClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  private async post<T>(path: string, body: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}/v1${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status !== 201) throw new Error(`POST ${path} answered ${response.status}: ${text}`);
    return JSON.parse(text) as T;
  }

  /** Replaces the account's active Sieve script (PUT /v1/accounts/:id/sieve). */
  async putSieve(accountId: string, script: string): Promise<void> {
    const response = await fetch(`${this.baseUrl}/v1/accounts/${accountId}/sieve`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ script }),
    });
    if (!response.ok) throw new Error(`PUT sieve answered ${response.status}: ${await response.text()}`);
  }

  /** A tenant-scoped API token; the secret is shown only here. */
  createToken(name: string, tenantId: string): Promise<{ id: string; secret: string }> {
    return this.post('/tokens', { name, tenantId });
  }

  createTenant(name: string): Promise<{ id: string; name: string }> {
    return this.post('/tenants', { name });
  }

  createDomain(name: string, tenantId: string): Promise<{ id: string; name: string }> {
    return this.post('/domains', { name, tenantId, verified: true });
  }

  createAccount(address: string, password: string): Promise<{ id: string; address: string }> {
    return this.post('/accounts', { address, password });
  }

  /** `source` is user@domain, or @domain for a catch-all. */
  createAlias(source: string, targets: string[]): Promise<{ id: string; source: string }> {
    return this.post('/aliases', { source, targets });
  }

  /** A new active DKIM key for the domain, with the TXT record to publish. */
  createDkimKey(domainId: string, selector?: string): Promise<DkimKey> {
    return this.post(`/domains/${domainId}/dkim-keys`, selector ? { selector } : {});
  }
}

export interface DkimKey {
  id: string;
  selector: string;
  active: boolean;
  /** `strings`: the value cut into 255-octet character-strings of one TXT record. */
  dnsRecord: { name: string; type: string; value: string; strings: string[] };
}
