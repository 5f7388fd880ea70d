import { Resolver } from 'node:dns/promises';

/** One host to try, in order, with the addresses it resolved to. */
export interface MxHost {
  name: string;
  addresses: string[];
}

export type Route =
  | { kind: 'hosts'; hosts: MxHost[] }
  /** The domain cannot receive mail: NXDOMAIN, null MX (RFC 7505), no MX and no address. */
  | { kind: 'permanent'; status: string; reason: string }
  /** DNS failed in a way that may pass (SERVFAIL, timeout), or no listed MX host resolves now. */
  | { kind: 'temporary'; status: string; reason: string };

export function createResolver(servers: string[], timeoutMs: number): Resolver {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  if (servers.length > 0) resolver.setServers(servers);
  return resolver;
}

const code = (error: unknown) => (error as NodeJS.ErrnoException).code;

/**
 * RFC 5321 section 5.1: the MX records sorted by preference (lowest first), or the domain itself
 * as the implicit MX when it has none, each host with its A and AAAA addresses.
 */
export async function routeFor(resolver: Resolver, domain: string, deadline?: AbortSignal): Promise<Route> {
  let exchanges: { exchange: string; priority: number }[];
  let implicit = false;
  try {
    exchanges = await resolver.resolveMx(domain);
  } catch (error) {
    if (code(error) === 'ENOTFOUND') {
      return { kind: 'permanent', status: '5.1.2', reason: `${domain}: no such domain (NXDOMAIN)` };
    }
    if (code(error) !== 'ENODATA') {
      return { kind: 'temporary', status: '4.4.3', reason: `MX lookup for ${domain} failed: ${code(error)}` };
    }
    exchanges = [{ exchange: domain, priority: 0 }];
    implicit = true;
  }
  if (exchanges.some((mx) => mx.exchange === '' || mx.exchange === '.')) {
    return { kind: 'permanent', status: '5.1.10', reason: `${domain} accepts no mail (null MX, RFC 7505)` };
  }
  // Among equal preferences RFC 5321 asks for a random order, which spreads load over the hosts.
  const ordered = exchanges
    .map((mx) => ({ ...mx, tiebreak: Math.random() }))
    .sort((a, b) => a.priority - b.priority || a.tiebreak - b.tiebreak);

  const hosts: MxHost[] = [];
  const failures: string[] = [];
  for (const { exchange } of ordered) {
    // Past the attempt's deadline: the hosts found so far are all this attempt may still try.
    if (deadline?.aborted) break;
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(exchange), resolver.resolve6(exchange)]);
    const addresses = [
      ...(v4.status === 'fulfilled' ? v4.value : []),
      ...(v6.status === 'fulfilled' ? v6.value : []),
    ];
    if (addresses.length > 0) hosts.push({ name: exchange, addresses });
    else
      failures.push(
        `${exchange}: ${[v4, v6].map((r) => (r.status === 'rejected' ? code(r.reason) : 'no address')).join('/')}`,
      );
  }
  if (hosts.length > 0) return { kind: 'hosts', hosts };
  if (deadline?.aborted) {
    return {
      kind: 'temporary',
      status: '4.4.3',
      reason: `MX lookup for ${domain} ran past the attempt's deadline`,
    };
  }
  if (implicit) {
    return { kind: 'permanent', status: '5.1.2', reason: `${domain} has neither MX nor address records` };
  }
  return {
    kind: 'temporary',
    status: '4.4.3',
    reason: `no MX host of ${domain} resolves: ${failures.join(', ')}`,
  };
}
