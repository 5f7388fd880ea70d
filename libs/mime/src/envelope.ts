import libmime from 'libmime';
import type { HeaderField } from './header-block.js';
import { firstField } from './header-block.js';
import { decodedAddressList, imapAddressList } from './address.js';
import type { DecodedHeaders, Envelope, RawHeaders } from './types.js';

export function readRawHeaders(fields: HeaderField[]): RawHeaders {
  return {
    subject: firstField(fields, 'subject'),
    from: firstField(fields, 'from'),
    sender: firstField(fields, 'sender'),
    replyTo: firstField(fields, 'reply-to'),
    to: firstField(fields, 'to'),
    cc: firstField(fields, 'cc'),
    bcc: firstField(fields, 'bcc'),
    date: firstField(fields, 'date'),
    messageId: firstField(fields, 'message-id'),
    inReplyTo: firstField(fields, 'in-reply-to'),
    references: firstField(fields, 'references'),
  };
}

/** The IMAP ENVELOPE (RFC 3501 7.4.2 / RFC 9051 7.5.2) from the raw fields of one message header. */
export function buildEnvelope(raw: RawHeaders): Envelope {
  const from = imapAddressList(raw.from);
  return {
    date: raw.date,
    subject: raw.subject,
    from,
    sender: imapAddressList(raw.sender) ?? from,
    replyTo: imapAddressList(raw.replyTo) ?? from,
    to: imapAddressList(raw.to),
    cc: imapAddressList(raw.cc),
    bcc: imapAddressList(raw.bcc),
    inReplyTo: raw.inReplyTo,
    messageId: raw.messageId,
  };
}

function decodeText(value: string | null): string | null {
  if (value === null) return null;
  // No encoded word, nothing to decode: most fields (Received, DKIM-Signature...) are long and have
  // none, and libmime scans each with five regular expressions (~1% of the MX's busy time).
  if (!value.includes('=?')) return value;
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

function parseDate(value: string | null): Date | null {
  // A real date is ~40 characters; the length guard keeps junk from costing time.
  if (!value || value.length > 200) return null;
  // Date.parse reads RFC 5322 dates; a trailing comment such as "(UTC)" is dropped first.
  const ms = Date.parse(value.replace(/\([^()]*\)\s*$/, '').trim());
  return Number.isFinite(ms) ? new Date(ms) : null;
}

/** Zones RFC 5322 4.3 still allows by name, in minutes east of UTC. */
const NAMED_ZONES: Record<string, number> = {
  UT: 0,
  UTC: 0,
  GMT: 0,
  Z: 0,
  EST: -300,
  EDT: -240,
  CST: -360,
  CDT: -300,
  MST: -420,
  MDT: -360,
  PST: -480,
  PDT: -420,
};

/** The zone a Date value was written in, in minutes east of UTC; 0 when it names none we know. */
function dateZone(value: string): number {
  const text = value.replace(/\([^()]*\)\s*$/, '').trim();
  const numeric = /([+-])(\d{2})(\d{2})$/.exec(text);
  if (numeric) return (numeric[1] === '-' ? -1 : 1) * (Number(numeric[2]) * 60 + Number(numeric[3]));
  const named = /([A-Za-z]+)$/.exec(text);
  return named ? (NAMED_ZONES[named[1]!.toUpperCase()] ?? 0) : 0;
}

/**
 * The calendar day (YYYY-MM-DD) of a Date value in its own time zone, which SENTBEFORE/SENTON/SENTSINCE
 * compare (RFC 3501 6.4.4: "disregarding time and timezone"); null when the date does not parse.
 */
export function sentDay(value: string | null): string | null {
  const instant = parseDate(value);
  if (!instant) return null;
  const day = new Date(instant.getTime() + dateZone(value!) * 60_000).toISOString().slice(0, 10);
  return /^\d{4}-\d{2}-\d{2}$/.test(day) ? day : null;
}

/** The most characters of decoded header text kept for SEARCH TEXT. */
const MAX_HEADER_TEXT = 64 * 1024;

/**
 * The top-level header as SEARCH TEXT reads it: every field unfolded, encoded words decoded, one field
 * a line.
 */
export function headerSearchText(fields: HeaderField[]): string {
  let text = '';
  for (const field of fields) {
    if (text.length >= MAX_HEADER_TEXT) break;
    text += `${field.name}: ${decodeText(field.value) ?? ''}\n`;
  }
  return text.slice(0, MAX_HEADER_TEXT);
}

function messageIds(value: string | null): string[] {
  if (!value) return [];
  return value.match(/<[^<>\s]+>/g) ?? [];
}

export function decodeHeaders(raw: RawHeaders): DecodedHeaders {
  return {
    subject: decodeText(raw.subject),
    from: decodedAddressList(raw.from),
    sender: decodedAddressList(raw.sender),
    replyTo: decodedAddressList(raw.replyTo),
    to: decodedAddressList(raw.to),
    cc: decodedAddressList(raw.cc),
    bcc: decodedAddressList(raw.bcc),
    date: parseDate(raw.date),
    sentDay: sentDay(raw.date),
    messageId: raw.messageId,
    inReplyTo: raw.inReplyTo,
    references: messageIds(raw.references),
  };
}
