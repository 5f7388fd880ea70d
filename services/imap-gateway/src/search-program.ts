import type { ImapDate, SearchKey } from '@correo/imap-proto';
import type { SearchCondition } from '@correo/store';
import type { MailboxView } from './mailbox-view.js';
import { rowOfObjectId } from './object-ids.js';

const FLAG_KEYS = {
  ANSWERED: ['\\Answered', true],
  DELETED: ['\\Deleted', true],
  DRAFT: ['\\Draft', true],
  FLAGGED: ['\\Flagged', true],
  SEEN: ['\\Seen', true],
  UNANSWERED: ['\\Answered', false],
  UNDELETED: ['\\Deleted', false],
  UNDRAFT: ['\\Draft', false],
  UNFLAGGED: ['\\Flagged', false],
  UNSEEN: ['\\Seen', false],
} satisfies Record<string, [flag: string, set: boolean]>;

/**
 * HEADER fields the store answers from its summary columns (decoded Subject and address lists, raw
 * Message-ID, In-Reply-To and Date). Every other field, Bcc, Sender and Reply-To included, is read from
 * the message's header block: the store keeps those three only as ENVELOPE address tuples (mailbox and
 * host apart, Sender and Reply-To defaulting to From), where a substring test would go wrong.
 */
const COLUMN_HEADER_FIELDS = new Set(['subject', 'from', 'to', 'cc', 'message-id', 'in-reply-to', 'date']);

/**
 * A test answered by reading the message, not by SQL: a HEADER field (`field` lowercased) from the
 * header block, or BODY/TEXT of a message whose decoded text the store did not keep (`field` is
 * '' and `part` says which), from the whole message.
 */
export interface HeaderScanKey {
  part: 'field' | 'body' | 'text';
  field: string;
  value: string;
}

/**
 * What stands for a scanned HEADER test in the SQL. `negated` is true under an odd number of NOTs, so
 * a first pass can stand in a condition that only widens the result (see search-header-scan.ts).
 */
export type HeaderScanLeaf = (key: HeaderScanKey, negated: boolean) => SearchCondition;

const day = (d: ImapDate): string =>
  `${String(d.year).padStart(4, '0')}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;

/**
 * IMAP search keys as a store SearchCondition. Message numbers become the UIDs they stand for in this
 * session's view; RECENT, NEW and OLD test the view's own \Recent messages (none under IMAP4rev2). HEADER tests the store has no column for (and BCC) become
 * whatever `scanLeaf` says: search-header-scan.ts decides that.
 */
export function searchCondition(
  key: SearchKey,
  view: MailboxView,
  scanLeaf: HeaderScanLeaf,
  negated = false,
): SearchCondition {
  switch (key.key) {
    case 'ALL':
      return { kind: 'all' };
    case 'RECENT':
      return { kind: 'uid', ranges: view.recentRanges() };
    case 'NEW':
      return {
        kind: 'and',
        operands: [
          { kind: 'uid', ranges: view.recentRanges() },
          { kind: 'flag', flag: '\\Seen', set: false },
        ],
      };
    case 'OLD':
      return { kind: 'not', operand: { kind: 'uid', ranges: view.recentRanges() } };
    case 'ANSWERED':
    case 'DELETED':
    case 'DRAFT':
    case 'FLAGGED':
    case 'SEEN':
    case 'UNANSWERED':
    case 'UNDELETED':
    case 'UNDRAFT':
    case 'UNFLAGGED':
    case 'UNSEEN': {
      const [flag, set] = FLAG_KEYS[key.key];
      return { kind: 'flag', flag, set };
    }
    case 'KEYWORD':
      return { kind: 'flag', flag: key.flag, set: true };
    case 'UNKEYWORD':
      return { kind: 'flag', flag: key.flag, set: false };
    case 'BCC':
      return scanLeaf({ part: 'field', field: 'bcc', value: key.value }, negated);
    case 'BODY':
    case 'TEXT': {
      // Substring tests over decoded text (RFC 3501 6.4.4), in SQL where the store kept the text.
      const part = key.key === 'BODY' ? 'body' : 'text';
      const kept: SearchCondition = { kind: 'text-kept' };
      return {
        kind: 'or',
        left: { kind: 'and', operands: [kept, { kind: 'text', field: part, value: key.value }] },
        right: {
          kind: 'and',
          operands: [
            { kind: 'not', operand: kept },
            scanLeaf({ part, field: '', value: key.value }, negated),
          ],
        },
      };
    }
    case 'CC':
    case 'FROM':
    case 'SUBJECT':
    case 'TO':
      return { kind: 'text', field: key.key.toLowerCase() as 'body', value: key.value };
    case 'HEADER': {
      const field = key.field.toLowerCase();
      if (COLUMN_HEADER_FIELDS.has(field)) return { kind: 'header', field, value: key.value };
      return scanLeaf({ part: 'field', field, value: key.value }, negated);
    }
    case 'BEFORE':
      return { kind: 'internal-date', op: 'before', date: day(key.date) };
    case 'ON':
      return { kind: 'internal-date', op: 'on', date: day(key.date) };
    case 'SINCE':
      return { kind: 'internal-date', op: 'since', date: day(key.date) };
    case 'SENTBEFORE':
      return { kind: 'sent-date', op: 'before', date: day(key.date) };
    case 'SENTON':
      return { kind: 'sent-date', op: 'on', date: day(key.date) };
    case 'SENTSINCE':
      return { kind: 'sent-date', op: 'since', date: day(key.date) };
    case 'SAVEDBEFORE':
      return { kind: 'saved-date', op: 'before', date: day(key.date) };
    case 'SAVEDON':
      return { kind: 'saved-date', op: 'on', date: day(key.date) };
    case 'SAVEDSINCE':
      return { kind: 'saved-date', op: 'since', date: day(key.date) };
    // Every mailbox keeps the save date of every message (RFC 8514 4.3).
    case 'SAVEDATESUPPORTED':
      return { kind: 'all' };
    case 'EMAILID':
    case 'THREADID': {
      const row = rowOfObjectId(key.key === 'EMAILID' ? 'M' : 'T', key.id);
      if (row === null) return { kind: 'none' };
      return { kind: key.key === 'EMAILID' ? 'message-row' : 'thread-root', id: row };
    }
    case 'LARGER':
      return { kind: 'size', op: 'larger', size: key.size };
    case 'SMALLER':
      return { kind: 'size', op: 'smaller', size: key.size };
    case 'OLDER':
      return { kind: 'age', op: 'older', seconds: key.seconds };
    case 'YOUNGER':
      return { kind: 'age', op: 'younger', seconds: key.seconds };
    case 'UID':
      return { kind: 'uid', ranges: view.uidRanges(key.set) };
    case 'SEQUENCE': {
      // "$" is the same saved UIDs as a message set or a UID set (RFC 5182 2.1).
      if (key.set.kind === 'saved') return { kind: 'uid', ranges: view.uidRanges(key.set) };
      const uids = view.resolve(key.set, false);
      return { kind: 'uid', ranges: uids.map((uid) => [uid, uid]) };
    }
    case 'MODSEQ':
      return { kind: 'modseq', modseq: Number(key.modseq) };
    case 'NOT':
      return { kind: 'not', operand: searchCondition(key.operand, view, scanLeaf, !negated) };
    case 'OR':
      return {
        kind: 'or',
        left: searchCondition(key.left, view, scanLeaf, negated),
        right: searchCondition(key.right, view, scanLeaf, negated),
      };
    case 'AND':
      return { kind: 'and', operands: key.operands.map((k) => searchCondition(k, view, scanLeaf, negated)) };
  }
}

/** True when a MODSEQ key appears: the answer then carries the highest MODSEQ found (RFC 7162 3.1.5). */
export function usesModseq(key: SearchKey): boolean {
  if (key.key === 'MODSEQ') return true;
  if (key.key === 'NOT') return usesModseq(key.operand);
  if (key.key === 'OR') return usesModseq(key.left) || usesModseq(key.right);
  if (key.key === 'AND') return key.operands.some(usesModseq);
  return false;
}

/** Keys the view answers: see searchView. */
const VIEW_KEYS = new Set([
  ...Object.keys(FLAG_KEYS),
  'ALL',
  'NEW',
  'OLD',
  'RECENT',
  'KEYWORD',
  'UNKEYWORD',
  'UID',
  'SEQUENCE',
  'MODSEQ',
]);

/** True when every key of `criteria` tests only what the selected mailbox's view holds. */
export function viewAnswers(criteria: readonly SearchKey[]): boolean {
  return criteria.every(function held(key: SearchKey): boolean {
    if (key.key === 'NOT') return held(key.operand);
    if (key.key === 'OR') return held(key.left) && held(key.right);
    if (key.key === 'AND') return key.operands.every(held);
    return VIEW_KEYS.has(key.key);
  });
}

/**
 * SEARCH answered from the selected mailbox's view, as Dovecot answers it from its index: the UIDs
 * (ascending) and MODSEQs of the live messages matching `criteria`, when every key tests only what the
 * view holds (flags, keywords, UIDs, message numbers, \Recent, MODSEQ, and NOT/OR/AND of those); null
 * otherwise (the store answers). The caller brings the view up to date first, as FETCH FLAGS does.
 */
export function searchView(
  view: MailboxView,
  criteria: readonly SearchKey[],
): { uid: number; modseq: number }[] | null {
  let scanned = false;
  const condition: SearchCondition = {
    kind: 'and',
    operands: criteria.map((key) =>
      searchCondition(key, view, () => {
        scanned = true;
        return { kind: 'none' };
      }),
    ),
  };
  if (scanned || !inView(condition)) return null;
  return view.liveStates().filter((state) => matches(condition, state));
}

function inView(c: SearchCondition): boolean {
  switch (c.kind) {
    case 'all':
    case 'none':
    case 'flag':
    case 'uid':
    case 'modseq':
      return true;
    case 'not':
      return inView(c.operand);
    case 'or':
      return inView(c.left) && inView(c.right);
    case 'and':
      return c.operands.every(inView);
    default:
      return false;
  }
}

/** The store's SQL for these conditions (libs/store imap/search.ts), over one message of the view. */
function matches(
  c: SearchCondition,
  state: { uid: number; modseq: number; flags: readonly string[] },
): boolean {
  switch (c.kind) {
    case 'all':
      return true;
    case 'flag':
      return state.flags.includes(c.flag) === c.set;
    case 'uid':
      return c.ranges.some(([low, high]) => state.uid >= low && state.uid <= high);
    case 'modseq':
      return state.modseq >= c.modseq;
    case 'not':
      return !matches(c.operand, state);
    case 'or':
      return matches(c.left, state) || matches(c.right, state);
    case 'and':
      return c.operands.every((operand) => matches(operand, state));
    default:
      return false;
  }
}
