import { domainToASCII } from 'node:url';

export interface MailAddress {
  localPart: string;
  /** Lowercase ASCII (punycode), as the directory stores domains. */
  domain: string;
  /** localPart@domain with the normalized domain. */
  address: string;
}

/**
 * Splits an envelope address smtp-server already checked for syntax (one @, no brackets, source route
 * stripped). Returns null when the domain is not a valid host name.
 */
export function parseMailAddress(raw: string): MailAddress | null {
  const at = raw.lastIndexOf('@');
  if (at <= 0 || at === raw.length - 1) return null;
  const localPart = raw.slice(0, at);
  const domainPart = raw.slice(at + 1);
  // Address literals ([192.0.2.1]) never name one of our domains and are not relayed to.
  if (domainPart.startsWith('[')) return null;
  const domain = domainToASCII(domainPart.toLowerCase());
  if (domain === '' || !/^[a-z0-9-]+(\.[a-z0-9-]+)*\.?$/.test(domain)) return null;
  const bare = domain.replace(/\.$/, '');
  return { localPart, domain: bare, address: `${localPart}@${bare}` };
}

/**
 * `user%other@ours` and `other!user@ours` are the old source-routing tricks that made open relays: a
 * local part carrying another destination is refused outright instead of being looked up.
 */
export function hasRelayAddressing(localPart: string): boolean {
  return localPart.includes('%') || localPart.includes('!') || localPart.includes('@');
}
