import { Resolver } from 'node:dns/promises';
import { LRUCache } from 'lru-cache';

/** The lookup mailauth asks for (its `resolver` option): the shape of dns.promises.resolve. */
export type DnsLookup = (name: string, rrtype: string) => Promise<string[][] | string[]>;

export interface DnsResolverOptions {
  /** ip, ip:port or [ipv6]:port; empty: the system's resolvers. */
  servers: string[];
  /** Per query and attempt. */
  timeoutMs: number;
  /** How long an answer (or a "no such name/record") is reused; 0: never (SMTP_DNS_CACHE_TTL_MS). */
  cacheTtlMs?: number;
  /** Most answers kept (SMTP_DNS_CACHE_MAX_ENTRIES). */
  cacheMaxEntries?: number;
  /**
   * How long a failed lookup (timeout, SERVFAIL, refused) is answered with its failure; 0: never
   * (SMTP_DNS_FAILURE_CACHE_MS). Only with the cache on (cacheTtlMs > 0).
   */
  failureCacheMs?: number;
}

/** Final answers: the name or the record type does not exist. Anything else may be transient. */
const NEGATIVE = new Set(['ENOTFOUND', 'ENODATA']);

type Answer = { records: string[][] | string[] } | { error: Error };

/**
 * A resolver of its own (not the process-wide dns module), so SMTP_DNS_SERVERS only steers the sender
 * checks. One retry: a lost UDP datagram should not turn into a temperror, a dead server should not stall
 * DATA for long.
 *
 * Answers are cached for a short while, bounded in number: a busy MX asks the same SPF, DKIM key and
 * DMARC records for every message of a sender. Node's resolver does not report TXT TTLs, so the cache
 * keeps each answer for SMTP_DNS_CACHE_TTL_MS (short, so a changed record is seen soon); the same for
 * NXDOMAIN and "no such record" (the SOA minimum that would bound them is not reported either).
 * A failure (timeout, SERVFAIL, refused) is kept only SMTP_DNS_FAILURE_CACHE_MS (1 s), as RFC 9520
 * asks of every resolver (at least 1 s, at most 5 min): a dead or refusing server is then asked once
 * a second instead of once per message (each failed lookup cost ~3% of the CPU per message of a
 * busy MX, docs/performance.md "Fifth round"; one that times out cost every message its timeout),
 * and a temperror outlives the lookup that had it by at most that second. Concurrent lookups of one
 * name share a query.
 */
export function createDnsLookup(options: DnsResolverOptions): DnsLookup {
  const resolver = new Resolver({ timeout: options.timeoutMs, tries: 2 });
  if (options.servers.length > 0) resolver.setServers(options.servers);
  const ask = (name: string, rrtype: string) =>
    resolver.resolve(name, rrtype) as Promise<string[][] | string[]>;
  const ttl = options.cacheTtlMs ?? 0;
  if (ttl <= 0) return ask;

  const failureTtl = Math.min(options.failureCacheMs ?? 0, ttl);
  const answers = new LRUCache<string, Answer>({ max: options.cacheMaxEntries ?? 10_000, ttl });
  const inFlight = new Map<string, Promise<string[][] | string[]>>();
  return async (name, rrtype) => {
    const key = `${rrtype} ${name.toLowerCase()}`;
    const cached = answers.get(key);
    if (cached) {
      if ('error' in cached) throw cached.error;
      return cached.records;
    }
    const pending = inFlight.get(key);
    if (pending) return pending;
    const query = ask(name, rrtype).then(
      (records) => {
        answers.set(key, { records });
        return records;
      },
      (error: NodeJS.ErrnoException) => {
        if (NEGATIVE.has(error.code ?? '')) answers.set(key, { error });
        else if (failureTtl > 0) answers.set(key, { error }, { ttl: failureTtl });
        throw error;
      },
    );
    inFlight.set(key, query);
    try {
      return await query;
    } finally {
      inFlight.delete(key);
    }
  };
}
