import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { DnsLookup } from './dns-resolver.js';
import type { SenderCheck } from './session-checks.js';

/**
 * HELO and reverse-DNS sanity as scores, never as refusals (docs/spam.md): plenty of legitimate
 * servers have a sloppy HELO or no PTR, so each finding only adds weight to the spam verdict.
 * Symbols and scores (the names follow Rspamd's where it has one):
 */
export const SENDER_CHECK_SCORES = {
  /** The client address has no PTR record. */
  RDNS_NONE: 1.0,
  /** No PTR name resolves back to the client address (forward-confirmed reverse DNS fails). */
  RDNS_NOT_FCRDNS: 1.0,
  /** The HELO name is not a fully qualified domain name (no dot, bad syntax, a bare IP). */
  HELO_NOT_FQDN: 1.0,
  /** The HELO is an address literal ([192.0.2.1]) that is not the client's address. */
  HELO_IP_MISMATCH: 2.0,
  /** The HELO claims to be this server (our host name, localhost) from elsewhere. */
  HELO_OURS: 3.0,
} as const;

type Symbol = keyof typeof SENDER_CHECK_SCORES;

const finding = (symbol: Symbol, detail: string): SenderCheck => ({
  symbol,
  score: SENDER_CHECK_SCORES[symbol],
  detail,
});

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

export interface ReverseDns {
  findings: SenderCheck[];
  /** The first PTR name confirmed by its A/AAAA records. */
  verifiedHostname: string | undefined;
  /** A lookup failed for another reason than "no such name": no finding from it (fail open). */
  failed: boolean;
}

const negative = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  return code === 'ENOTFOUND' || code === 'ENODATA';
};

/** PTR of the client, then FCrDNS: at most three PTR names are followed (a long list is a trick). */
export async function checkReverseDns(lookup: DnsLookup, ip: string): Promise<ReverseDns> {
  const address = ipaddr.isValid(ip) ? ipaddr.process(ip) : undefined;
  if (!address) return { findings: [], verifiedHostname: undefined, failed: false };
  const plain = address.toNormalizedString();
  let names: string[];
  try {
    names = (await lookup(
      address.toByteArray().length === 4 ? reverseV4(plain) : reverseV6(address),
      'PTR',
    )) as string[];
  } catch (error) {
    if (!negative(error)) return { findings: [], verifiedHostname: undefined, failed: true };
    names = [];
  }
  if (names.length === 0) {
    return {
      findings: [finding('RDNS_NONE', `no PTR record for ${plain}`)],
      verifiedHostname: undefined,
      failed: false,
    };
  }
  let failed = false;
  for (const name of names.slice(0, 3)) {
    try {
      const forward = (await lookup(name, address.kind() === 'ipv4' ? 'A' : 'AAAA')) as string[];
      if (forward.some((a) => ipaddr.isValid(a) && ipaddr.process(a).toNormalizedString() === plain)) {
        return { findings: [], verifiedHostname: name.replace(/\.$/, '').toLowerCase(), failed: false };
      }
    } catch (error) {
      if (!negative(error)) failed = true;
    }
  }
  if (failed) return { findings: [], verifiedHostname: undefined, failed: true };
  return {
    findings: [finding('RDNS_NOT_FCRDNS', `PTR ${names[0]} does not resolve back to ${plain}`)],
    verifiedHostname: undefined,
    failed: false,
  };
}

function reverseV4(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}

function reverseV6(address: ipaddr.IPv4 | ipaddr.IPv6): string {
  const nibbles = (address as ipaddr.IPv6).parts.flatMap((part) =>
    part.toString(16).padStart(4, '0').split(''),
  );
  return `${nibbles.reverse().join('.')}.ip6.arpa`;
}

/**
 * The HELO/EHLO name against the client address and our own name; `hostedDomain`: the name is one
 * of the domains this installation receives mail for (the caller asked the directory).
 */
export function checkHelo(
  helo: string,
  clientIp: string,
  ourHostname: string,
  hostedDomain = false,
): SenderCheck[] {
  const name = helo.trim().toLowerCase();
  const literal = /^\[(?:ipv6:)?([^\]]+)\]$/.exec(name);
  if (literal) {
    const claimed = literal[1]!;
    const same =
      ipaddr.isValid(claimed) &&
      ipaddr.isValid(clientIp) &&
      ipaddr.process(claimed).toNormalizedString() === ipaddr.process(clientIp).toNormalizedString();
    return same
      ? []
      : [finding('HELO_IP_MISMATCH', `HELO ${helo.slice(0, 100)} is not the client ${clientIp}`)];
  }
  const findings: SenderCheck[] = [];
  if (
    hostedDomain ||
    name === ourHostname.toLowerCase() ||
    name === 'localhost' ||
    name === 'localhost.localdomain'
  ) {
    findings.push(finding('HELO_OURS', `HELO ${name.slice(0, 100)} claims to be this server`));
  }
  if (isIP(name) !== 0 || !HOSTNAME.test(name)) {
    findings.push(
      finding(
        'HELO_NOT_FQDN',
        `HELO ${JSON.stringify(helo.slice(0, 100))} is not a fully qualified domain name`,
      ),
    );
  }
  return findings;
}
