import { domainToASCII, domainToUnicode } from 'node:url';

/*
 * Mailbox syntax of RFC 5321 section 4.1.2 (with the UTF-8 local parts of RFC 6531), written by hand
 * because the address parsers on npm either follow RFC 5322's obsolete forms (comments, folding, source
 * routes), which must never reach the directory, or do not check the lengths of RFC 5321 section 4.5.3.1.
 * Domains go through node:url's IDNA (UTS #46) for the punycode conversion.
 */

export interface ParsedAddress {
  /** The local part in its canonical form: unquoted when it is a valid dot-atom, else quoted. */
  localPart: string;
  /** The domain as lowercase A-labels (punycode). */
  domain: string;
  /** `localPart@domain`. */
  address: string;
  /** The domain as Unicode, for display. */
  unicodeDomain: string;
}

export type AddressResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Octets, as RFC 5321 counts them. */
export const MAX_LOCAL_PART_LENGTH = 64;
/** A domain in text form: 253 characters is 255 octets in DNS wire format (RFC 1035 section 2.3.4). */
export const MAX_DOMAIN_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
/** A reverse-path or forward-path holds 256 octets including the angle brackets. */
export const MAX_ADDRESS_LENGTH = 254;

// atext of RFC 5322 plus every non-ASCII character (RFC 6532 section 3.2).
const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10FFFF}]+$/u;
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// In the domain as typed, ASCII is limited to letters, digits, hyphens and dots: anything else would be
// reinterpreted by the WHATWG host parser (percent-decoding, IPv4 number forms) instead of rejected.
const DOMAIN_INPUT_ASCII = /^[A-Za-z0-9.-]$/;

const utf8Length = (text: string) => Buffer.byteLength(text, 'utf8');

function isDotAtom(text: string): boolean {
  return text.split('.').every((atom) => atom !== '' && ATEXT.test(atom));
}

/** Content of a quoted string (RFC 5321 qtextSMTP / quoted-pairSMTP, plus UTF-8), unescaped. */
function unquote(quoted: string): AddressResult<string> {
  let content = '';
  for (let i = 1; i < quoted.length - 1; i++) {
    const char = quoted[i]!;
    if (char === '\\') {
      const next = quoted[i + 1];
      if (next === undefined || i + 1 === quoted.length - 1 || !/^[\x20-\x7e]$/.test(next)) {
        return { ok: false, error: 'a backslash in a quoted local part must escape a printable character' };
      }
      content += next;
      i++;
    } else if (char === '"') {
      return { ok: false, error: 'a double quote inside a quoted local part must be escaped' };
    } else if (/^[\x20-\x7e]$/.test(char) || char.charCodeAt(0) >= 0x80) {
      content += char;
    } else {
      return { ok: false, error: 'control characters are not allowed in a local part' };
    }
  }
  return { ok: true, value: content };
}

function quote(content: string): string {
  return `"${content.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** Validates a local part (dot-atom or quoted string) and returns its canonical form. */
export function parseLocalPart(input: string): AddressResult<string> {
  if (input === '') return { ok: false, error: 'the local part (before @) is empty' };
  let canonical: string;
  if (input.startsWith('"')) {
    if (input.length < 2 || !input.endsWith('"')) {
      return { ok: false, error: 'a quoted local part must end with a double quote' };
    }
    const content = unquote(input);
    if (!content.ok) return content;
    // RFC 5321 section 4.1.2: a local part that can be a dot-atom should be sent as one.
    canonical = isDotAtom(content.value) ? content.value : quote(content.value);
  } else {
    if (!isDotAtom(input)) {
      return {
        ok: false,
        error:
          "the local part may contain letters, digits and !#$%&'*+-/=?^_`{|}~, with dots only between them " +
          '(or be a quoted string)',
      };
    }
    canonical = input;
  }
  if (utf8Length(canonical) > MAX_LOCAL_PART_LENGTH) {
    return { ok: false, error: `the local part is longer than ${MAX_LOCAL_PART_LENGTH} octets` };
  }
  return { ok: true, value: canonical };
}

/** Validates a domain name, IDN allowed, and returns it as lowercase A-labels. */
export function parseDomain(input: string): AddressResult<string> {
  if (input === '') return { ok: false, error: 'the domain is empty' };
  if (input.startsWith('[')) return { ok: false, error: 'address literals ([1.2.3.4]) are not accepted' };
  for (const char of input) {
    if (char.charCodeAt(0) < 0x80 && !DOMAIN_INPUT_ASCII.test(char)) {
      return {
        ok: false,
        error: `the domain contains ${JSON.stringify(char)}, which is not allowed in a domain name`,
      };
    }
  }
  const ascii = domainToASCII(input);
  if (ascii === '')
    return { ok: false, error: `${JSON.stringify(input)} is not a valid (internationalised) domain name` };
  const lower = ascii.toLowerCase();
  if (lower.length > MAX_DOMAIN_LENGTH) {
    return { ok: false, error: `the domain is longer than ${MAX_DOMAIN_LENGTH} characters` };
  }
  const labels = lower.split('.');
  for (const label of labels) {
    if (label === '')
      return { ok: false, error: 'the domain has an empty label (leading, trailing or double dot)' };
    if (label.length > MAX_LABEL_LENGTH) {
      return { ok: false, error: `a domain label is longer than ${MAX_LABEL_LENGTH} characters` };
    }
    if (!LDH_LABEL.test(label)) {
      return {
        ok: false,
        error: `the domain label ${JSON.stringify(label)} must not start or end with a hyphen`,
      };
    }
  }
  // RFC 3696 section 2: a top-level domain is never all-numeric, so 1.2.3.4 is an IP address, not a domain.
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) {
    return { ok: false, error: 'the domain looks like an IP address; its last label must not be all digits' };
  }
  return { ok: true, value: lower };
}

/** Splits at the @ that ends the local part: the last one, since only a quoted local part may contain @. */
function splitAddress(input: string): AddressResult<{ local: string; domain: string }> {
  const at = input.lastIndexOf('@');
  if (at < 0) return { ok: false, error: 'an address needs an @ between local part and domain' };
  return { ok: true, value: { local: input.slice(0, at), domain: input.slice(at + 1) } };
}

/** Parses and normalises `local@domain` (no angle brackets, no display name, no source route). */
export function parseAddress(input: string): AddressResult<ParsedAddress> {
  const parts = splitAddress(input);
  if (!parts.ok) return parts;
  const localPart = parseLocalPart(parts.value.local);
  if (!localPart.ok) return localPart;
  const domain = parseDomain(parts.value.domain);
  if (!domain.ok) return domain;
  const address = `${localPart.value}@${domain.value}`;
  if (utf8Length(address) > MAX_ADDRESS_LENGTH) {
    return { ok: false, error: `the address is longer than ${MAX_ADDRESS_LENGTH} octets` };
  }
  return {
    ok: true,
    value: {
      localPart: localPart.value,
      domain: domain.value,
      address,
      unicodeDomain: domainToUnicode(domain.value),
    },
  };
}

export function isValidAddress(input: string): boolean {
  return parseAddress(input).ok;
}

/** The canonical form of an address, or null when it is not valid. */
export function normaliseAddress(input: string): string | null {
  const parsed = parseAddress(input);
  return parsed.ok ? parsed.value.address : null;
}

/** The canonical form of a domain (lowercase A-labels), or null when it is not valid. */
export function normaliseDomain(input: string): string | null {
  const parsed = parseDomain(input);
  return parsed.ok ? parsed.value : null;
}

/** A lookup key: addresses match case-insensitively throughout the directory. */
export function addressKey(address: string): string {
  return address.toLowerCase();
}

/**
 * `user+tag` -> { base: 'user', tag: 'tag' } (RFC 5233 subaddressing, "+" separator); null when there is
 * no tag to strip. Quoted local parts are left alone: their "+" is just a character.
 */
export function splitSubaddress(localPart: string): { base: string; tag: string } | null {
  if (localPart.startsWith('"')) return null;
  const plus = localPart.indexOf('+');
  if (plus <= 0) return null;
  return { base: localPart.slice(0, plus), tag: localPart.slice(plus + 1) };
}

export type AliasSource =
  | { kind: 'address'; address: ParsedAddress }
  /** `@domain`: every address of the domain nobody else takes. */
  | { kind: 'catch-all'; domain: string };

/** An alias source: an exact address, or `@domain` for the domain's catch-all. */
export function parseAliasSource(input: string): AddressResult<AliasSource> {
  if (input.startsWith('@')) {
    const domain = parseDomain(input.slice(1));
    return domain.ok ? { ok: true, value: { kind: 'catch-all', domain: domain.value } } : domain;
  }
  const address = parseAddress(input);
  return address.ok ? { ok: true, value: { kind: 'address', address: address.value } } : address;
}
