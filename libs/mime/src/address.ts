import addressparser from 'nodemailer/lib/addressparser';
import type { Address } from 'nodemailer/lib/addressparser';
import libmime from 'libmime';
import { parseHeaderBlock } from './header-block.js';
import type { AddressEntry, ImapAddress } from './types.js';

/**
 * The last few address fields parsed, by raw value: an analysis reads each address field twice (the
 * decoded lists for search and the ENVELOPE), and addressparser was ~2% of the MX intake's CPU
 * (docs/performance.md, "Fifth round"). Callers only read what it returns.
 */
const recentlyParsed = new Map<string, readonly Address[]>();
const RECENTLY_PARSED_MAX = 8;

function parse(raw: string): readonly Address[] {
  const known = recentlyParsed.get(raw);
  if (known) return known;
  let parsed: readonly Address[];
  try {
    parsed = addressparser(raw);
  } catch {
    parsed = [];
  }
  if (recentlyParsed.size >= RECENTLY_PARSED_MAX) recentlyParsed.delete(recentlyParsed.keys().next().value!);
  recentlyParsed.set(raw, parsed);
  return parsed;
}

/** RFC 2047 encoded words decoded; a value libmime cannot decode stays as it is. */
export function decodeHeaderText(name: string): string {
  try {
    return libmime.decodeWords(name);
  } catch {
    return name;
  }
}

/**
 * One mailbox as an ENVELOPE address (RFC 3501 7.4.2). A missing local part or domain is "", never
 * NIL: a NIL host marks a group, and invented names would show up in the client as if they were real.
 */
function imapMailbox(name: string, address: string, routes: Map<string, string>): ImapAddress {
  if (!address) {
    // addressparser reads a bare local part ("undisclosed") as a name.
    if (name && /^[^\s@"<>()]+$/.test(name) && !name.includes('=?')) return [null, null, name, ''];
    return [name || null, null, '', ''];
  }
  const adl = routes.get(address.toLowerCase()) ?? null;
  const at = address.lastIndexOf('@');
  if (at < 0) return [name || null, adl, address, ''];
  return [name || null, adl, address.slice(0, at), address.slice(at + 1)];
}

/**
 * Source routes (RFC 5322 obs-route, `<@relay1,@relay2:user@host>`) by the address they lead to:
 * addressparser drops them, ENVELOPE keeps them as the "at-domain-list".
 */
function sourceRoutes(raw: string): Map<string, string> {
  const routes = new Map<string, string>();
  if (!raw.includes('<@')) return routes;
  for (const match of raw.matchAll(/<\s*(@[^<>:"]{1,998}):\s*([^<>\s"]{1,998})\s*>/g)) {
    routes.set(match[2]!.toLowerCase(), match[1]!.replace(/\s+/g, ''));
  }
  return routes;
}

/** ENVELOPE address list from a raw field value; null (NIL) when it holds no address at all. */
export function imapAddressList(raw: string | null): ImapAddress[] | null {
  if (raw === null || !raw.trim()) return null;
  const out: ImapAddress[] = [];
  const routes = sourceRoutes(raw);
  const add = (entry: Address): void => {
    if (entry.group) {
      out.push([null, null, entry.name || '', null]);
      for (const member of entry.group) {
        if (member.group) member.group.forEach(add);
        else out.push(imapMailbox(member.name, member.address, routes));
      }
      out.push([null, null, null, null]);
    } else if (entry.name || entry.address) {
      out.push(imapMailbox(entry.name, entry.address, routes));
    }
  };
  parse(raw).forEach(add);
  return out.length ? out : null;
}

/** Decoded address list for search and webmail. */
export function decodedAddressList(raw: string | null): AddressEntry[] {
  if (raw === null || !raw.trim()) return [];
  const convert = (entry: Address): AddressEntry =>
    entry.group
      ? { name: decodeHeaderText(entry.name), group: entry.group.map(convert) }
      : { name: decodeHeaderText(entry.name), address: entry.address };
  return parse(raw).map(convert);
}

/** "Name <a@b>, c@d" for search text and summary columns. */
export function addressListText(list: AddressEntry[]): string {
  return list
    .map((e) =>
      'group' in e
        ? `${e.name}: ${addressListText(e.group)};`
        : e.name && e.address
          ? `${e.name} <${e.address}>`
          : e.name || e.address,
    )
    .join(', ');
}

/**
 * Every mailbox the From fields of a raw header block name, groups flattened, one entry per mailbox:
 * the bare address, or '' for an entry that names nobody (a display name or an empty group). What
 * submission checks against the account's send-as rights and what DKIM signs for (RFC 5322 3.6.2).
 */
export function authorAddresses(headerBlock: Buffer): string[] {
  const out: string[] = [];
  const add = (entry: Address): void => {
    if (entry.group) {
      if (entry.group.length === 0) out.push('');
      entry.group.forEach(add);
    } else {
      out.push(entry.address.trim());
    }
  };
  for (const field of parseHeaderBlock(headerBlock)) {
    if (field.name !== 'from') continue;
    const entries = parse(field.value);
    if (entries.length === 0) out.push('');
    entries.forEach(add);
  }
  return out;
}
