/**
 * The directory: who and what lives here. Domains, accounts, aliases and credentials, as
 * smtp-ingress (RCPT checks, AUTH, sender ownership), the mda (recipient expansion) and the
 * access gateways (login) need them. Implemented over PostgreSQL in this package; sessions
 * never write SQL themselves.
 */
export interface AccountRef {
  /** accounts.id as a decimal string (bigint). */
  accountId: string;
  tenantId: string;
  /** The account's canonical address, lowercase domain (punycode), local part as stored. */
  address: string;
}

export type RecipientResolution =
  /** The domain is not one of ours: relaying decision belongs to the caller. */
  | { kind: 'not-local' }
  /** The domain is ours but nobody (no account, alias or catch-all) takes this address. */
  | { kind: 'unknown-user' }
  /** An alias chain points back at itself. */
  | { kind: 'loop'; chain: string[] }
  | {
      kind: 'deliver';
      /** Local accounts to file the message for (deduplicated). */
      accounts: AccountRef[];
      /** External addresses an alias forwards to (become OutboundMessage for the relay). */
      external: string[];
      /** The `tag` of a `user+tag@` recipient (RFC 5233), kept for the account's rules. */
      subaddress?: string;
    };

export interface Directory {
  isLocalDomain(domain: string): Promise<boolean>;
  /**
   * Expands one recipient: exact account, exact alias (one to many, chains followed with loop
   * detection), `user+tag@` to `user@`, then the domain's catch-all.
   */
  resolveRecipient(address: string): Promise<RecipientResolution>;
  /**
   * The failed-login counter a login is charged to: `account:<id>` for every spelling that reaches an
   * account (case, quoted local part, characters IDNA ignores or maps), else `address:<normalised>`,
   * else `invalid` (no account can have it, so one bucket is enough). Never says which, to a client.
   */
  loginKey(login: string): Promise<string>;
  /** Verifies a login (the account's address) and argon2id password; null when wrong or disabled. */
  authenticate(login: string, password: string): Promise<AccountRef | null>;
  /**
   * True when the account may use `address` as envelope sender or in From: its own address, an alias
   * that delivers to it, or any address of a domain it holds a send-as grant for; never an address of
   * a pending (unverified) domain.
   */
  maySendAs(account: AccountRef, address: string): Promise<boolean>;
}
