import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { DestinationPolicy, NextHop } from './destinations.js';

/** One host to try, in order, with the addresses it resolved to. */
export interface MxHost {
  name: string;
  addresses: string[];
  /** An explicit route's port; otherwise RELAY_SMTP_PORT. */
  port?: number | undefined;
}

/** Where a domain's mail may go: the SSRF guard over DNS answers, and the explicit routes. */
export interface RoutingRules {
  policy: DestinationPolicy;
  transportMap: Map<string, NextHop>;
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
 * as the implicit MX when it has none, each host with its A and AAAA addresses; only the addresses
 * the policy permits (public ones). A domain in the transport map goes to its configured host
 * instead, whatever network that is on: the operator chose it.
 */
export async function routeFor(
  resolver: Resolver,
  domain: string,
  rules: RoutingRules,
  deadline?: AbortSignal,
): Promise<Route> {
  const hop = rules.transportMap.get(domain.toLowerCase());
  if (hop) return explicitRoute(resolver, domain, hop);
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
  const refused: string[] = [];
  for (const { exchange } of ordered) {
    // Past the attempt's deadline: the hosts found so far are all this attempt may still try.
    if (deadline?.aborted) break;
    const { addresses, v4, v6 } = await addressesOf(resolver, exchange);
    const permitted = addresses.filter((address) => rules.policy.permits(address));
    if (permitted.length > 0) hosts.push({ name: exchange, addresses: permitted });
    else if (addresses.length > 0) refused.push(`${exchange} [${addresses.join(', ')}]`);
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
  if (refused.length > 0 && failures.length === 0) {
    // RFC 3463 X.4.4, unable to route: permanent, since the domain's own DNS sends us there.
    return {
      kind: 'permanent',
      status: '5.4.4',
      reason: `${domain} routes mail only to non-public addresses, which this relay refuses to connect to: ${refused.join(', ')}`,
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

/** A transport-map route: an IP literal as it is, a host name through DNS (any address it has). */
async function explicitRoute(resolver: Resolver, domain: string, hop: NextHop): Promise<Route> {
  if (isIP(hop.host) !== 0)
    return { kind: 'hosts', hosts: [{ name: hop.host, addresses: [hop.host], port: hop.port }] };
  const { addresses } = await addressesOf(resolver, hop.host);
  if (addresses.length > 0) return { kind: 'hosts', hosts: [{ name: hop.host, addresses, port: hop.port }] };
  return {
    kind: 'temporary',
    status: '4.4.3',
    reason: `the configured route of ${domain}, ${hop.host}, does not resolve`,
  };
}

/** A host's A and AAAA addresses, with how each lookup went (a failure names its code). */
async function addressesOf(resolver: Resolver, host: string) {
  const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
  const addresses = [
    ...(v4.status === 'fulfilled' ? v4.value : []),
    ...(v6.status === 'fulfilled' ? v6.value : []),
  ];
  return { addresses, v4, v6 };
}
