import type { ImapDate, SearchKey } from '@correo/imap-proto';
import type { SearchCondition } from '@correo/store';
import type { MailboxView } from './mailbox-view.js';

const FLAG_KEYS: Record<string, [flag: string, set: boolean]> = {
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
};

const day = (d: ImapDate): string =>
  `${String(d.year).padStart(4, '0')}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;

/**
 * IMAP search keys as a store SearchCondition. Message numbers become the UIDs they stand for in this
 * session's view. \Recent is never set here (no session owns new mail first), so RECENT and NEW match
 * nothing and OLD matches everything.
 */
export function searchCondition(key: SearchKey, view: MailboxView): SearchCondition {
  switch (key.key) {
    case 'ALL':
    case 'OLD':
      return { kind: 'all' };
    case 'NEW':
    case 'RECENT':
      return { kind: 'none' };
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
      const [flag, set] = FLAG_KEYS[key.key]!;
      return { kind: 'flag', flag, set };
    }
    case 'KEYWORD':
      return { kind: 'flag', flag: key.flag, set: true };
    case 'UNKEYWORD':
      return { kind: 'flag', flag: key.flag, set: false };
    case 'BCC':
    case 'BODY':
    case 'CC':
    case 'FROM':
    case 'SUBJECT':
    case 'TEXT':
    case 'TO':
      return { kind: 'text', field: key.key.toLowerCase() as 'body', value: key.value };
    case 'HEADER':
      return { kind: 'header', field: key.field, value: key.value };
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
    case 'LARGER':
      return { kind: 'size', op: 'larger', size: key.size };
    case 'SMALLER':
      return { kind: 'size', op: 'smaller', size: key.size };
    case 'OLDER':
      return { kind: 'age', op: 'older', seconds: key.seconds };
    case 'YOUNGER':
      return { kind: 'age', op: 'younger', seconds: key.seconds };
    case 'UID':
      if (key.set.kind === 'saved') throw new SearchResNotSupported();
      return { kind: 'uid', ranges: view.uidRanges(key.set) };
    case 'SEQUENCE': {
      if (key.set.kind === 'saved') throw new SearchResNotSupported();
      const uids = view.resolve(key.set, false);
      return { kind: 'uid', ranges: uids.map((uid) => [uid, uid]) };
    }
    case 'MODSEQ':
      return { kind: 'modseq', modseq: Number(key.modseq) };
    case 'NOT':
      return { kind: 'not', operand: searchCondition(key.operand, view) };
    case 'OR':
      return { kind: 'or', left: searchCondition(key.left, view), right: searchCondition(key.right, view) };
    case 'AND':
      return { kind: 'and', operands: key.operands.map((k) => searchCondition(k, view)) };
  }
}

export class SearchResNotSupported extends Error {
  constructor() {
    super('SEARCHRES ($) is not supported');
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
