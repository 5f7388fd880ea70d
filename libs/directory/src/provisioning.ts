import type pg from 'pg';
import * as accounts from './accounts.js';
import type { Account, AccountPatch, NewAccount } from './accounts.js';
import * as aliases from './aliases.js';
import type { Alias } from './aliases.js';
import * as tokens from './api-tokens.js';
import type { ApiToken } from './api-tokens.js';
import * as domains from './domains.js';
import type { Domain } from './domains.js';
import type { Page, PageRequest } from './pagination.js';
import * as sendAs from './send-as.js';
import type { SendAsGrant } from './send-as.js';
import type { Scope } from './scope.js';
import * as tenants from './tenants.js';
import type { Tenant } from './tenants.js';

/**
 * Managing tenants, domains, accounts, aliases and API tokens, bound to one caller: the operator (no
 * tenant) or one tenant, whose every query is filtered so other tenants' objects look absent.
 * Failures are DirectoryError (invalid / not-found / conflict / forbidden).
 */
export interface Provisioning {
  readonly tenantId: string | null;

  createTenant(input: { name: string }): Promise<Tenant>;
  listTenants(page?: PageRequest): Promise<Page<Tenant>>;
  getTenant(id: string): Promise<Tenant>;
  updateTenant(id: string, patch: { name?: string }): Promise<Tenant>;
  deleteTenant(id: string): Promise<void>;

  /**
   * `name` may be an IDN; it is stored as lowercase punycode. `tenantId` is required for the operator.
   * The domain is pending until verified; `verified: true` is for the operator only.
   */
  createDomain(input: { name: string; tenantId?: string; verified?: boolean }): Promise<Domain>;
  /** Checks the `_correo-verify` TXT record through `lookupTxt`; the operator may `skipDns`. */
  verifyDomain(id: string, options: { lookupTxt: domains.TxtLookup; skipDns?: boolean }): Promise<Domain>;
  listDomains(page?: PageRequest, filter?: { tenantId?: string }): Promise<Page<Domain>>;
  getDomain(id: string): Promise<Domain>;
  getDomainByName(name: string): Promise<Domain>;
  deleteDomain(id: string): Promise<void>;

  /** The domain of `address` must be a local domain (of this tenant); creates the default mailboxes too. */
  createAccount(input: NewAccount): Promise<Account>;
  listAccounts(page?: PageRequest, filter?: { domainId?: string; tenantId?: string }): Promise<Page<Account>>;
  getAccount(id: string): Promise<Account>;
  getAccountByAddress(address: string): Promise<Account>;
  updateAccount(id: string, patch: AccountPatch): Promise<Account>;
  setPassword(id: string, password: string): Promise<Account>;
  deleteAccount(id: string): Promise<void>;

  /** Lets the account send as any address of `domain` (a domain of its tenant). */
  grantSendAs(input: { accountId: string; domain: string }): Promise<SendAsGrant>;
  listSendAsGrants(accountId: string): Promise<SendAsGrant[]>;
  revokeSendAs(accountId: string, grantId: string): Promise<void>;

  /** `source` is `user@domain` or `@domain` (catch-all) in a local domain; targets may be external. */
  createAlias(input: { source: string; targets: string[] }): Promise<Alias>;
  listAliases(page?: PageRequest, filter?: { domainId?: string; tenantId?: string }): Promise<Page<Alias>>;
  getAlias(id: string): Promise<Alias>;
  updateAlias(id: string, patch: { targets?: string[] }): Promise<Alias>;
  deleteAlias(id: string): Promise<void>;

  /** The secret is returned once; `tenantId: null` (operator token) only for the operator. */
  createApiToken(input: {
    name: string;
    tenantId?: string | null;
    expiresAt?: Date | null;
  }): Promise<{ token: ApiToken; secret: string }>;
  listApiTokens(page?: PageRequest, filter?: { tenantId?: string }): Promise<Page<ApiToken>>;
  getApiToken(id: string): Promise<ApiToken>;
  revokeApiToken(id: string): Promise<void>;
}

/**
 * Without `options.tenantId` the caller is the operator and sees every tenant. `notAfter`: when the
 * caller's own token expires (the tokens it creates may not outlive it).
 */
export function createProvisioning(
  pool: pg.Pool,
  options: { tenantId?: string | null; notAfter?: Date | null } = {},
): Provisioning {
  const scope: Scope = { pool, tenantId: options.tenantId ?? null, notAfter: options.notAfter ?? null };
  return {
    tenantId: scope.tenantId,
    createTenant: (input) => tenants.createTenant(scope, input),
    listTenants: (page) => tenants.listTenants(scope, page),
    getTenant: (id) => tenants.getTenant(scope, id),
    updateTenant: (id, patch) => tenants.updateTenant(scope, id, patch),
    deleteTenant: (id) => tenants.deleteTenant(scope, id),

    createDomain: (input) => domains.createDomain(scope, input),
    listDomains: (page, filter) => domains.listDomains(scope, page, filter),
    verifyDomain: (id, verifyOptions) => domains.verifyDomain(scope, id, verifyOptions),
    getDomain: (id) => domains.getDomain(scope, id),
    getDomainByName: (name) => domains.getDomainByName(scope, name),
    deleteDomain: (id) => domains.deleteDomain(scope, id),

    createAccount: (input) => accounts.createAccount(scope, input),
    listAccounts: (page, filter) => accounts.listAccounts(scope, page, filter),
    getAccount: (id) => accounts.getAccount(scope, id),
    getAccountByAddress: (address) => accounts.getAccountByAddress(scope, address),
    updateAccount: (id, patch) => accounts.updateAccount(scope, id, patch),
    setPassword: (id, password) => accounts.setPassword(scope, id, password),
    deleteAccount: (id) => accounts.deleteAccount(scope, id),

    grantSendAs: (input) => sendAs.grantSendAs(scope, input),
    listSendAsGrants: (accountId) => sendAs.listSendAsGrants(scope, accountId),
    revokeSendAs: (accountId, grantId) => sendAs.revokeSendAs(scope, accountId, grantId),

    createAlias: (input) => aliases.createAlias(scope, input),
    listAliases: (page, filter) => aliases.listAliases(scope, page, filter),
    getAlias: (id) => aliases.getAlias(scope, id),
    updateAlias: (id, patch) => aliases.updateAlias(scope, id, patch),
    deleteAlias: (id) => aliases.deleteAlias(scope, id),

    createApiToken: (input) => tokens.createApiToken(scope, input),
    listApiTokens: (page, filter) => tokens.listApiTokens(scope, page, filter),
    getApiToken: (id) => tokens.getApiToken(scope, id),
    revokeApiToken: (id) => tokens.revokeApiToken(scope, id),
  };
}
