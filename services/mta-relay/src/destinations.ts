import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Where the relay may connect. A remote domain's DNS decides where its MX points, so without a
 * guard anyone who can make us send mail (any account, any forwarding alias) makes the relay open
 * SMTP sessions to our own loopback, cluster network or cloud metadata service (SSRF on port 25).
 * Only globally routable unicast addresses are reached through DNS; a private next hop needs an
 * explicit route (RELAY_TRANSPORT_MAP) or an operator's allowance (RELAY_ALLOWED_NETWORKS).
 */

/** An explicit next hop for a domain: a host name or IP literal, and a port (RELAY_SMTP_PORT if unset). */
export interface NextHop {
  host: string;
  port?: number | undefined;
}

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

export class DestinationPolicy {
  private readonly allowed: Cidr[];

  /** `allowedNetworks`: CIDRs beyond the public internet that DNS answers may lead to (test stacks). */
  constructor(allowedNetworks: string[]) {
    this.allowed = allowedNetworks.map((cidr) => ipaddr.parseCIDR(cidr));
  }

  /** True when an address found through DNS may be connected to. */
  permits(address: string): boolean {
    if (!ipaddr.isValid(address)) return false;
    // process(): ::ffff:10.0.0.1 is judged as the IPv4 address it reaches.
    const parsed = ipaddr.process(address);
    if (
      this.allowed.some(([network, bits]) => network.kind() === parsed.kind() && parsed.match(network, bits))
    )
      return true;
    // ipaddr.js names every special-purpose range (loopback, private, linkLocal, uniqueLocal,
    // carrierGradeNat, multicast, reserved, 6to4, teredo, ...); only 'unicast' is the public internet.
    return parsed.range() === 'unicast';
  }
}

/** True for a CIDR such as 127.0.0.0/8 or fd00::/8. */
export function isCidr(value: string): boolean {
  return ipaddr.isValidCIDR(value);
}

/**
 * Parses RELAY_TRANSPORT_MAP: `domain=host[:port]` entries separated by commas, an IPv6 host in
 * brackets (`[fd00::25]:2525`). Undefined when an entry is malformed.
 */
export function parseTransportMap(value: string): Map<string, NextHop> | undefined {
  const map = new Map<string, NextHop>();
  for (const entry of value.split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    const match = /^([^=\s]+)=(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+))(?::(\d{1,5}))?$/.exec(entry);
    if (!match) return undefined;
    const [, domain, bracketed, plain, port] = match;
    if (bracketed !== undefined && isIP(bracketed) !== 6) return undefined;
    const portNumber = port === undefined ? undefined : Number(port);
    if (portNumber !== undefined && (portNumber < 1 || portNumber > 65535)) return undefined;
    map.set(domain!.toLowerCase(), { host: (bracketed ?? plain)!.toLowerCase(), port: portNumber });
  }
  return map;
}
