export type { AccountRef, Directory, RecipientResolution } from './port.js';
export { createPostgresDirectory, AliasExpansionTooLargeError } from './postgres-directory.js';
export type { PostgresDirectoryOptions } from './postgres-directory.js';
export { createCachedDirectory, createMailPathDirectory } from './cached-directory.js';
export type { CachedDirectory, DirectoryCacheOptions } from './cached-directory.js';
export { createProvisioning } from './provisioning.js';
export type { Provisioning } from './provisioning.js';
export type { Tenant } from './tenants.js';
export type { Domain, DomainVerificationRecord, TxtLookup } from './domains.js';
export type { SendAsGrant } from './send-as.js';
export { DEFAULT_MAILBOXES } from './accounts.js';
export type { Account, AccountPatch, NewAccount } from './accounts.js';
export { MAX_ALIAS_TARGETS } from './aliases.js';
export type { Alias } from './aliases.js';
export { verifyApiToken } from './api-tokens.js';
export type { ApiToken, ApiTokenGrant } from './api-tokens.js';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './pagination.js';
export type { Page, PageRequest } from './pagination.js';
export { DirectoryError } from './errors.js';
export { isBigintText, MAX_BIGINT } from './scope.js';
export type { DirectoryErrorCode } from './errors.js';
export {
  parseAddress,
  parseLocalPart,
  parseDomain,
  parseAliasSource,
  isValidAddress,
  normaliseAddress,
  normaliseDomain,
  addressKey,
  splitSubaddress,
  MAX_ADDRESS_LENGTH,
  MAX_DOMAIN_LENGTH,
  MAX_LOCAL_PART_LENGTH,
} from './address.js';
export type { AddressResult, AliasSource, ParsedAddress } from './address.js';
export { ensureDemoAccount } from './demo.js';
export type { DemoAccountOptions } from './demo.js';
