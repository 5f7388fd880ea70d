import pg from 'pg';
import { LRUCache } from 'lru-cache';
import type { Directory, RecipientResolution } from './port.js';
import { createPostgresDirectory } from './postgres-directory.js';

export interface DirectoryCacheOptions {
  /** How long an answer is kept at most (DIRECTORY_CACHE_TTL_MS); 0 turns the cache off. */
  ttlMs: number;
  /** Most answers kept (DIRECTORY_CACHE_MAX_ENTRIES), least recently used dropped first. */
  maxEntries: number;
  /** Logged once when the change notifications stop (the cache then keeps nothing until they resume). */
  onListenError?: (error: Error) => void;
}

export interface CachedDirectory extends Directory {
  /** Resolves once the first attempt to listen for changes is over (caching from then on if it worked). */
  ready(): Promise<void>;
  /** Stops listening for directory changes. */
  close(): Promise<void>;
}

/** The channel migration 0130's triggers notify on any change a lookup could see. */
const CHANGED_CHANNEL = 'correo_directory_changed';
const RELISTEN_MS = 1000;

/**
 * Keeps the answers the mail path asks for on every RCPT and every delivery (is this domain ours,
 * its tenant, where does this recipient go) for a few seconds, so a busy MX does not run the same
 * queries per message. Correctness does not rest on the TTL: PostgreSQL triggers NOTIFY on every
 * change to domains, accounts (address, tenant, disabled) and aliases, and this drops everything
 * it holds when one arrives. Only while no LISTEN connection is up does it cache nothing at all.
 * Logins, login keys and send-as checks always go to the database (security decisions, not hot).
 */
export function createCachedDirectory(
  inner: Directory,
  pool: pg.Pool,
  options: DirectoryCacheOptions,
): CachedDirectory {
  if (options.ttlMs <= 0) return { ...inner, ready: async () => undefined, close: async () => undefined };
  type Answer = boolean | string | null | RecipientResolution;
  const cache = new LRUCache<string, { answer: Answer }>({ max: options.maxEntries, ttl: options.ttlMs });
  // Bumped on every change notification: an answer read before one must not be stored after it.
  let generation = 0;
  let listening = false;
  let closed = false;
  let listener: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const dropAll = () => {
    generation += 1;
    cache.clear();
  };

  const listen = async () => {
    const client = new pg.Client(pool.options);
    client.on('notification', dropAll);
    client.on('error', (error) => {
      options.onListenError?.(error);
      lost(client);
    });
    client.on('end', () => lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGED_CHANNEL}`);
    } catch (error) {
      options.onListenError?.(error as Error);
      lost(client);
      return;
    }
    if (closed) {
      await client.end().catch(() => undefined);
      return;
    }
    listener = client;
    // Anything cached before now was cached while nobody listened: not held.
    dropAll();
    listening = true;
  };

  const lost = (client: pg.Client) => {
    if (listener && listener !== client) return;
    listening = false;
    listener = undefined;
    dropAll();
    client.end().catch(() => undefined);
    if (!closed && !retry) {
      retry = setTimeout(() => {
        retry = undefined;
        void listen();
      }, RELISTEN_MS);
      retry.unref();
    }
  };
  const started = listen();

  async function cached<T extends Answer>(key: string, lookup: () => Promise<T>): Promise<T> {
    const hit = cache.get(key);
    if (hit) return hit.answer as T;
    const before = generation;
    const answer = await lookup();
    if (listening && before === generation) cache.set(key, { answer });
    return answer;
  }

  return {
    ...inner,
    isLocalDomain: (domain) => cached(`local:${domain.toLowerCase()}`, () => inner.isLocalDomain(domain)),
    domainTenant: (domain) => cached(`tenant:${domain.toLowerCase()}`, () => inner.domainTenant(domain)),
    // Case matters to nothing the answer holds but the subaddress tag, kept as written: exact key.
    resolveRecipient: (address) => cached(`rcpt:${address}`, () => inner.resolveRecipient(address)),
    loginKey: (login) => inner.loginKey(login),
    authenticate: (login, password) => inner.authenticate(login, password),
    maySendAs: (account, address) => inner.maySendAs(account, address),
    ready: () => started,
    async close() {
      closed = true;
      clearTimeout(retry);
      await started;
      const client = listener;
      listener = undefined;
      listening = false;
      await client?.end().catch(() => undefined);
    },
  };
}

/** The directory smtp-ingress and the mda resolve recipients with: PostgreSQL behind the cache. */
export function createMailPathDirectory(
  pool: pg.Pool,
  settings: { allowUnverifiedDomains: boolean; cache: { ttlMs: number; maxEntries: number } },
  onListenError?: (error: Error) => void,
): CachedDirectory {
  return createCachedDirectory(
    createPostgresDirectory(pool, { allowUnverifiedDomains: settings.allowUnverifiedDomains }),
    pool,
    { ...settings.cache, ...(onListenError ? { onListenError } : {}) },
  );
}
