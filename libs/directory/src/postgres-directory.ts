import type pg from 'pg';
import { passwordNeedsRehash, hashPassword, verifyAgainstDecoy, verifyPassword } from '@correo/auth';
import { addressKey, parseAddress, parseDomain, splitSubaddress } from './address.js';
import type { ParsedAddress } from './address.js';
import type { AccountRef, Directory, RecipientResolution } from './port.js';

export interface PostgresDirectoryOptions {
  /** Longest alias chain followed before it is treated as a loop (default 10). */
  maxAliasDepth?: number;
  /** Most addresses one recipient may expand to, against alias bombs (default 1000). */
  maxExpansion?: number;
  /**
   * Treat pending (unverified) domains as local too: the operator's switch for test setups
   * (ALLOW_UNVERIFIED_DOMAINS). Off, a pending domain receives nothing and no one sends as it.
   */
  allowUnverifiedDomains?: boolean;
}

interface AccountRow {
  id: string;
  tenantId: string;
  address: string;
  disabled: boolean;
}

interface Expansion {
  accounts: Map<string, AccountRef>;
  external: Map<string, string>;
  visited: number;
  localDomains: Map<string, boolean>;
  subaddress?: string;
}

type Step = { kind: 'found' } | { kind: 'nobody' } | { kind: 'loop'; chain: string[] };

/** Thrown when an alias expands to more addresses than maxExpansion: a configuration error to fix, not mail to deliver. */
export class AliasExpansionTooLargeError extends Error {
  constructor(address: string, limit: number) {
    super(`the recipient ${address} expands to more than ${limit} addresses`);
    this.name = 'AliasExpansionTooLargeError';
  }
}

export function createPostgresDirectory(pool: pg.Pool, options: PostgresDirectoryOptions = {}): Directory {
  const maxDepth = options.maxAliasDepth ?? 10;
  const maxExpansion = options.maxExpansion ?? 1000;
  const allowUnverified = options.allowUnverifiedDomains ?? false;

  async function isLocal(domain: string, cache?: Map<string, boolean>): Promise<boolean> {
    const cached = cache?.get(domain);
    if (cached !== undefined) return cached;
    // Named statements: every RCPT and every delivery asks these, so PostgreSQL plans them once per connection.
    // A pending domain is nobody's yet: claiming a name must not capture its mail.
    const { rowCount } = await pool.query({
      name: 'correo-directory-local-domain',
      text: 'SELECT 1 FROM domains WHERE name = $1 AND (verified_at IS NOT NULL OR $2)',
      values: [domain, allowUnverified],
    });
    const local = (rowCount ?? 0) > 0;
    cache?.set(domain, local);
    return local;
  }

  async function findAccount(address: string): Promise<AccountRow | undefined> {
    const { rows } = await pool.query<AccountRow>({
      name: 'correo-directory-account',
      text: 'SELECT id, tenant_id AS "tenantId", address, disabled FROM accounts WHERE lower(address) = $1',
      values: [addressKey(address)],
    });
    return rows[0];
  }

  /** The alias's targets, or undefined when there is no alias with this source (address or `@domain`). */
  async function findAliasTargets(source: string): Promise<string[] | undefined> {
    const { rows } = await pool.query<{ targets: string[] }>({
      name: 'correo-directory-alias',
      text: `SELECT coalesce(array_agg(t.target ORDER BY t.id) FILTER (WHERE t.id IS NOT NULL), '{}') AS targets
         FROM aliases a LEFT JOIN alias_targets t ON t.alias_id = a.id
        WHERE lower(a.source) = $1 GROUP BY a.id`,
      values: [addressKey(source)],
    });
    return rows[0]?.targets;
  }

  async function expandTargets(
    targets: string[],
    path: string[],
    state: Expansion,
    catchAll: boolean,
  ): Promise<Step> {
    let found = false;
    for (const target of targets) {
      const parsed = parseAddress(target);
      // Targets were validated when stored; one that no longer parses is skipped rather than fatal.
      if (!parsed.ok) continue;
      const step = await expand(parsed.value, path, state, catchAll);
      if (step.kind === 'loop') return step;
      if (step.kind === 'found') found = true;
    }
    return found ? { kind: 'found' } : { kind: 'nobody' };
  }

  /**
   * Depth-first over the alias graph. `path` holds the lowercase addresses (and `@domain` catch-alls)
   * on the way here, so only a real cycle is a loop: two aliases sharing a target is not.
   */
  async function expand(
    address: ParsedAddress,
    path: string[],
    state: Expansion,
    catchAll: boolean,
  ): Promise<Step> {
    const key = addressKey(address.address);
    if (path.includes(key) || path.length >= maxDepth) return { kind: 'loop', chain: [...path, key] };
    if (++state.visited > maxExpansion) throw new AliasExpansionTooLargeError(path[0] ?? key, maxExpansion);

    if (!(await isLocal(address.domain, state.localDomains))) {
      if (!state.external.has(key)) state.external.set(key, address.address);
      return { kind: 'found' };
    }

    const sub = splitSubaddress(address.localPart);
    const candidates = [address.address, ...(sub ? [`${sub.base}@${address.domain}`] : [])];
    for (const [index, candidate] of candidates.entries()) {
      const account = await findAccount(candidate);
      if (account) {
        // A disabled account still owns its address: mail for it is refused, not sent to the catch-all.
        if (account.disabled) return { kind: 'nobody' };
        state.accounts.set(account.id, {
          accountId: account.id,
          tenantId: account.tenantId,
          address: account.address,
        });
        if (index === 1 && path.length === 0) state.subaddress = sub!.tag;
        return { kind: 'found' };
      }
      const targets = await findAliasTargets(candidate);
      if (targets) {
        if (index === 1 && path.length === 0) state.subaddress = sub!.tag;
        return expandTargets(targets, [...path, addressKey(candidate)], state, catchAll);
      }
    }

    if (!catchAll) return { kind: 'nobody' };
    const catchAllKey = `@${address.domain}`;
    const targets = await findAliasTargets(catchAllKey);
    if (!targets) return { kind: 'nobody' };
    if (path.includes(catchAllKey)) return { kind: 'loop', chain: [...path, key, catchAllKey] };
    return expandTargets(targets, [...path, key, catchAllKey], state, catchAll);
  }

  async function resolve(address: ParsedAddress, catchAll: boolean): Promise<RecipientResolution> {
    const state: Expansion = {
      accounts: new Map(),
      external: new Map(),
      visited: 0,
      localDomains: new Map(),
    };
    if (!(await isLocal(address.domain, state.localDomains))) return { kind: 'not-local' };
    const step = await expand(address, [], state, catchAll);
    if (step.kind === 'loop') return step;
    if (step.kind === 'nobody') return { kind: 'unknown-user' };
    return {
      kind: 'deliver',
      accounts: [...state.accounts.values()],
      external: [...state.external.values()],
      ...(state.subaddress !== undefined ? { subaddress: state.subaddress } : {}),
    };
  }

  return {
    async isLocalDomain(domain) {
      const parsed = parseDomain(domain.trim());
      return parsed.ok && isLocal(parsed.value);
    },

    async resolveRecipient(address) {
      const parsed = parseAddress(address.trim());
      // Syntactically invalid: nobody here can have it, and it must never be relayed either.
      if (!parsed.ok) return { kind: 'unknown-user' };
      return resolve(parsed.value, true);
    },

    async loginKey(login) {
      // The same parsing and lookup as authenticate, so both agree on which account a spelling names.
      const parsed = parseAddress(login.trim());
      if (!parsed.ok) return 'invalid';
      const key = addressKey(parsed.value.address);
      const { rows } = await pool.query<{ id: string }>('SELECT id FROM accounts WHERE lower(address) = $1', [
        key,
      ]);
      return rows[0] ? `account:${rows[0].id}` : `address:${key}`;
    },

    async authenticate(login, password) {
      const parsed = parseAddress(login.trim());
      const { rows } = parsed.ok
        ? await pool.query<AccountRow & { passwordHash: string | null }>(
            `SELECT id, tenant_id AS "tenantId", address, disabled, password_hash AS "passwordHash"
               FROM accounts WHERE lower(address) = $1`,
            [addressKey(parsed.value.address)],
          )
        : { rows: [] };
      const account = rows[0];
      if (!account?.passwordHash) return verifyAgainstDecoy(password).then(() => null);
      // Verified before looking at `disabled`, so a disabled account answers as slowly as any other.
      if (!(await verifyPassword(account.passwordHash, password)) || account.disabled) return null;
      if (passwordNeedsRehash(account.passwordHash)) {
        const upgraded = await hashPassword(password);
        await pool.query('UPDATE accounts SET password_hash = $2 WHERE id = $1 AND password_hash = $3', [
          account.id,
          upgraded,
          account.passwordHash,
        ]);
      }
      return { accountId: account.id, tenantId: account.tenantId, address: account.address };
    },

    async maySendAs(account, address) {
      const parsed = parseAddress(address.trim());
      if (!parsed.ok) return false;
      // Nothing is sent as a pending domain, not even the account's own address.
      if (!(await isLocal(parsed.value.domain))) return false;
      if (addressKey(parsed.value.address) === addressKey(account.address)) return true;
      const { rowCount } = await pool.query(
        `SELECT 1 FROM send_as_grants g JOIN domains d ON d.id = g.domain_id
          WHERE g.account_id = $1 AND g.tenant_id = $2 AND d.name = $3`,
        [account.accountId, account.tenantId, parsed.value.domain],
      );
      if ((rowCount ?? 0) > 0) return true;
      // Catch-alls are left out: receiving "anything@domain" must not mean sending as anyone there.
      const resolution = await resolve(parsed.value, false);
      return (
        resolution.kind === 'deliver' && resolution.accounts.some((a) => a.accountId === account.accountId)
      );
    },
  };
}
