import ipaddr from 'ipaddr.js';
import type { DnsLookup } from './dns-resolver.js';

/** A listing: the zone and the 127.0.0.x answer (its return code says why, per zone). */
export interface DnsListing {
  zone: string;
  answer: string;
}

export interface DnsListResult {
  listed: DnsListing[];
  /** Zones whose lookup failed (timeout, SERVFAIL, a refused query): never a listing (fail open). */
  failed: string[];
}

/**
 * The query name of a client address in a DNS list (RFC 5782 section 2.1): IPv4 octets reversed,
 * IPv6 as 32 reversed nibbles; an IPv4-mapped IPv6 address as IPv4. undefined: not an address.
 */
export function reversedAddress(ip: string): string | undefined {
  if (!ipaddr.isValid(ip)) return undefined;
  const address = ipaddr.process(ip);
  if (address.kind() === 'ipv4') return [...(address as ipaddr.IPv4).octets].reverse().join('.');
  const nibbles = (address as ipaddr.IPv6).parts.flatMap((part) =>
    part.toString(16).padStart(4, '0').split(''),
  );
  return nibbles.reverse().join('.');
}

/**
 * Asks every zone about the client at once. A listing is an A record in 127.0.0.0/8 (RFC 5782
 * section 2.3); NXDOMAIN or no A record is "not listed". Spamhaus answers 127.255.255.x to refuse a
 * query (an open resolver, a missing key): that is a failure, not a listing, as is any other answer.
 */
export async function checkDnsLists(
  lookup: DnsLookup,
  ip: string,
  zones: readonly string[],
): Promise<DnsListResult> {
  const reversed = reversedAddress(ip);
  const result: DnsListResult = { listed: [], failed: [] };
  if (reversed === undefined || zones.length === 0) return result;
  await Promise.all(
    zones.map(async (zone) => {
      try {
        const answers = (await lookup(`${reversed}.${zone}`, 'A')) as string[];
        const listing = answers.find((a) => a.startsWith('127.') && !a.startsWith('127.255.255.'));
        if (listing) result.listed.push({ zone, answer: listing });
        else if (answers.length > 0) result.failed.push(zone);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (code !== 'ENOTFOUND' && code !== 'ENODATA') result.failed.push(zone);
      }
    }),
  );
  // Zone order, not answer order: the first configured zone is the one named in a refusal.
  result.listed.sort((a, b) => zones.indexOf(a.zone) - zones.indexOf(b.zone));
  return result;
}
