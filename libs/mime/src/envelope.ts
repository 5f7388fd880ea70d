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
    messageId: raw.messageId,
    inReplyTo: raw.inReplyTo,
    references: messageIds(raw.references),
  };
}
