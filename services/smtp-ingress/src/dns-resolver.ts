import { Resolver } from 'node:dns/promises';

/** The lookup mailauth asks for (its `resolver` option): the shape of dns.promises.resolve. */
export type DnsLookup = (name: string, rrtype: string) => Promise<string[][] | string[]>;

export interface DnsResolverOptions {
  /** ip, ip:port or [ipv6]:port; empty: the system's resolvers. */
  servers: string[];
  /** Per query and attempt. */
  timeoutMs: number;
}

/**
 * A resolver of its own (not the process-wide dns module), so SMTP_DNS_SERVERS only steers the sender
 * checks. One retry: a lost UDP datagram should not turn into a temperror, a dead server should not stall
 * DATA for long.
 */
export function createDnsLookup(options: DnsResolverOptions): DnsLookup {
  const resolver = new Resolver({ timeout: options.timeoutMs, tries: 2 });
  if (options.servers.length > 0) resolver.setServers(options.servers);
  return (name, rrtype) => resolver.resolve(name, rrtype) as Promise<string[][] | string[]>;
}
