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
export type DateSearchKey = 'BEFORE' | 'ON' | 'SINCE' | 'SENTBEFORE' | 'SENTON' | 'SENTSINCE';

export type SearchKey =
  | { key: FlagSearchKey }
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
