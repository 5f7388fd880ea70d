import { readAtom } from '../lexer/atom.js';
import type { ImapDate } from '../lexer/date.js';
import { readDate } from '../lexer/date.js';
import { readModSeq, readNumber64, readNzNumber } from '../lexer/number.js';
import type { Reader } from '../lexer/reader.js';
import type { SequenceSet } from '../lexer/sequence-set.js';
import { readSequenceSet } from '../lexer/sequence-set.js';
import { decodeUtf8, readAstringText, readQuoted } from '../lexer/string.js';

/** Keys that test a flag (RECENT, NEW and OLD are IMAP4rev1 only but still accepted). */
export type FlagSearchKey =
  | 'ALL'
  | 'ANSWERED'
  | 'DELETED'
  | 'DRAFT'
  | 'FLAGGED'
  | 'NEW'
  | 'OLD'
  | 'RECENT'
  | 'SEEN'
  | 'UNANSWERED'
  | 'UNDELETED'
  | 'UNDRAFT'
  | 'UNFLAGGED'
  | 'UNSEEN';

export type TextSearchKey = 'BCC' | 'BODY' | 'CC' | 'FROM' | 'SUBJECT' | 'TEXT' | 'TO';
export type DateSearchKey =
  | 'BEFORE'
  | 'ON'
  | 'SINCE'
  | 'SENTBEFORE'
  | 'SENTON'
  | 'SENTSINCE'
  /** SAVEDATE (RFC 8514): the day the message was put in the mailbox. */
  | 'SAVEDBEFORE'
  | 'SAVEDON'
  | 'SAVEDSINCE';

export type SearchKey =
  | { key: FlagSearchKey }
  /** SAVEDATE (RFC 8514): every message of a mailbox that keeps save dates. */
  | { key: 'SAVEDATESUPPORTED' }
  /** OBJECTID (RFC 8474). */
  | { key: 'EMAILID' | 'THREADID'; id: string }
  | { key: TextSearchKey; value: string }
  | { key: 'HEADER'; field: string; value: string }
  | { key: 'KEYWORD' | 'UNKEYWORD'; flag: string }
  | { key: DateSearchKey; date: ImapDate }
  | { key: 'LARGER' | 'SMALLER'; size: number }
  /** WITHIN (RFC 5032): internal date older / younger than `seconds`. */
  | { key: 'OLDER' | 'YOUNGER'; seconds: number }
  | { key: 'UID'; set: SequenceSet }
  | { key: 'SEQUENCE'; set: SequenceSet }
  | { key: 'MODSEQ'; modseq: bigint; entry: { name: string; type: 'priv' | 'shared' | 'all' } | null }
  | { key: 'NOT'; operand: SearchKey }
  | { key: 'OR'; left: SearchKey; right: SearchKey }
  /** A parenthesised group: all must match. */
  | { key: 'AND'; operands: SearchKey[] };

const FLAG_KEYS: ReadonlySet<string> = new Set<FlagSearchKey>([
  'ALL',
  'ANSWERED',
  'DELETED',
  'DRAFT',
  'FLAGGED',
  'NEW',
  'OLD',
  'RECENT',
  'SEEN',
  'UNANSWERED',
  'UNDELETED',
  'UNDRAFT',
  'UNFLAGGED',
  'UNSEEN',
]);
const TEXT_KEYS: ReadonlySet<string> = new Set<TextSearchKey>([
  'BCC',
  'BODY',
  'CC',
  'FROM',
  'SUBJECT',
  'TEXT',
  'TO',
]);
const DATE_KEYS: ReadonlySet<string> = new Set<DateSearchKey>([
  'BEFORE',
  'ON',
  'SINCE',
  'SENTBEFORE',
  'SENTON',
  'SENTSINCE',
  'SAVEDBEFORE',
  'SAVEDON',
  'SAVEDSINCE',
]);

/** Deeper nesting than any client needs; the bound keeps a hostile NOT NOT NOT ... off the stack. */
const MAX_DEPTH = 64;

function readModSeqKey(r: Reader): SearchKey {
  r.sp('MODSEQ');
  let entry: { name: string; type: 'priv' | 'shared' | 'all' } | null = null;
  if (r.peek() === 0x22) {
    const name = decodeUtf8(r, readQuoted(r), 'The MODSEQ entry name');
    r.sp('the entry name');
    const type = r.keyword('priv, shared or all').toLowerCase();
    if (type !== 'priv' && type !== 'shared' && type !== 'all') r.fail(`Unknown entry type ${type}`);
    entry = { name, type };
    r.sp('the entry type');
  }
  return { key: 'MODSEQ', modseq: readModSeq(r, true), entry };
}

/** objectid = 1*255(ALPHA / DIGIT / "_" / "-") (RFC 8474 3). */
export function readObjectId(r: Reader): string {
  const start = r.pos;
  for (;;) {
    const b = r.peek();
    const idChar =
      (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x61 && b <= 0x7a) ||
      (b >= 0x30 && b <= 0x39) ||
      b === 0x5f ||
      b === 0x2d;
    if (!idChar) break;
    r.pos++;
  }
  const length = r.pos - start;
  if (length === 0 || length > 255) r.fail(`Expected an object id (1 to 255 letters, digits, "_" or "-")`);
  return r.bytes.subarray(start, r.pos).toString('latin1');
}

export function readSearchKey(r: Reader, depth = 0): SearchKey {
  if (depth > MAX_DEPTH) r.fail('Search criteria are nested too deeply');
  const b = r.peek();
  if (b === 0x28) {
    r.pos++;
    const operands: SearchKey[] = [];
    do operands.push(readSearchKey(r, depth + 1));
    while (r.trySp());
    r.expectChar(0x29, '")" closing the search group');
    return { key: 'AND', operands };
  }
  if ((b >= 0x30 && b <= 0x39) || b === 0x2a || b === 0x24)
    return { key: 'SEQUENCE', set: readSequenceSet(r) };
  const name = r.keyword('a search key such as ALL');
  if (FLAG_KEYS.has(name)) return { key: name as FlagSearchKey };
  if (TEXT_KEYS.has(name)) {
    r.sp(name);
    return { key: name as TextSearchKey, value: readAstringText(r, 'the text to search for') };
  }
  if (DATE_KEYS.has(name)) {
    r.sp(name);
    return { key: name as DateSearchKey, date: readDate(r) };
  }
  switch (name) {
    case 'SAVEDATESUPPORTED':
      return { key: name };
    case 'EMAILID':
    case 'THREADID':
      r.sp(name);
      return { key: name, id: readObjectId(r) };
    case 'HEADER': {
      r.sp(name);
      const field = readAstringText(r, 'a header field name');
      r.sp('the header field name');
      return { key: 'HEADER', field, value: readAstringText(r, 'the text to search for') };
    }
    case 'KEYWORD':
    case 'UNKEYWORD':
      r.sp(name);
      return { key: name, flag: readAtom(r, 'a keyword') };
    case 'LARGER':
    case 'SMALLER':
      r.sp(name);
      return { key: name, size: readNumber64(r, 'a size in octets') };
    case 'OLDER':
    case 'YOUNGER':
      r.sp(name);
      return { key: name, seconds: readNzNumber(r, 'a number of seconds') };
    case 'UID':
      r.sp(name);
      return { key: 'UID', set: readSequenceSet(r) };
    case 'MODSEQ':
      return readModSeqKey(r);
    case 'NOT':
      r.sp(name);
      return { key: 'NOT', operand: readSearchKey(r, depth + 1) };
    case 'OR': {
      r.sp(name);
      const left = readSearchKey(r, depth + 1);
      r.sp('the first OR operand');
      return { key: 'OR', left, right: readSearchKey(r, depth + 1) };
    }
  }
  return r.fail(`Unknown search key ${name}`);
}
