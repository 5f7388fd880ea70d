import { WebmailError } from './webmail-error.js';

/** An IMAP SEARCH key as imapflow's low-level exec takes it. */
export type SearchToken = { type: 'ATOM'; value: string } | { type: 'STRING'; value: string };

const MAX_TERMS = 8;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const atom = (value: string): SearchToken => ({ type: 'ATOM', value });
const text = (value: string): SearchToken => ({ type: 'STRING', value });

/**
 * The search box's words as IMAP SEARCH criteria, in the field syntax webmail users know from
 * Gmail and Fastmail: a bare word (or "a quoted phrase") must appear in the subject, a sender or
 * recipient, or the text; `from:`, `to:` (To or Cc), `subject:` and `body:` look in one field;
 * `after:YYYY-MM-DD` and `before:YYYY-MM-DD` bound the day the message arrived (SINCE/BEFORE, so
 * `after:` includes that day and `before:` excludes it). Every term must match. Written by hand:
 * the grammar is five prefixes, and the output is IMAP's own search keys.
 */
export function searchCriteria(query: string | undefined): SearchToken[] {
  const terms = splitTerms(query ?? '');
  if (terms.length === 0) return [atom('ALL')];
  if (terms.length > MAX_TERMS) {
    throw new WebmailError(400, 'search_too_long', `A search takes at most ${MAX_TERMS} terms.`);
  }
  return terms.flatMap(({ field, value }) => {
    switch (field) {
      case 'from':
        return [atom('FROM'), text(value)];
      case 'to':
        return [atom('OR'), atom('TO'), text(value), atom('CC'), text(value)];
      case 'subject':
        return [atom('SUBJECT'), text(value)];
      case 'body':
        return [atom('BODY'), text(value)];
      case 'after':
        return [atom('SINCE'), atom(imapDate(value, field))];
      case 'before':
        return [atom('BEFORE'), atom(imapDate(value, field))];
      default:
        return [
          atom('OR'),
          atom('OR'),
          atom('SUBJECT'),
          text(value),
          atom('FROM'),
          text(value),
          atom('OR'),
          atom('TO'),
          text(value),
          atom('TEXT'),
          text(value),
        ];
    }
  });
}

type Field = 'from' | 'to' | 'subject' | 'body' | 'after' | 'before' | undefined;
const FIELDS = new Set(['from', 'to', 'subject', 'body', 'after', 'before']);

/** `from:"Ana Pérez" report` -> [{from, Ana Pérez}, {-, report}]; an unknown prefix is part of the word. */
function splitTerms(query: string): { field: Field; value: string }[] {
  const terms: { field: Field; value: string }[] = [];
  const pattern = /(?:([a-z]+):)?(?:"([^"]*)"?|(\S+))/giy;
  let at = 0;
  while (at < query.length) {
    const space = /\s+/y;
    space.lastIndex = at;
    if (space.exec(query)) {
      at = space.lastIndex;
      continue;
    }
    pattern.lastIndex = at;
    const match = pattern.exec(query);
    if (!match) break;
    at = pattern.lastIndex;
    const prefix = match[1]?.toLowerCase();
    const known = prefix !== undefined && FIELDS.has(prefix);
    const value = match[2] ?? match[3] ?? '';
    const word = known || prefix === undefined ? value : `${match[1]}:${value}`;
    if (word !== '') terms.push({ field: known ? (prefix as Field) : undefined, value: word });
  }
  return terms;
}

/** 2026-03-07 -> 7-Mar-2026 (RFC 3501 date); anything else is the user's mistake, said in words. */
function imapDate(value: string, field: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const [year, month, day] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [0, 0, 0];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (
    !match ||
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day
  ) {
    throw new WebmailError(400, 'bad_search_date', `Write the date after ${field}: as YYYY-MM-DD.`);
  }
  return `${day}-${MONTHS[month - 1]}-${year}`;
}
