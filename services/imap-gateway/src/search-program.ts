import type { ImapDate, SearchKey } from '@correo/imap-proto';
import { readImapMessages } from '@correo/store';
import type { ImapSearchFacts, Pool, SearchCondition } from '@correo/store';
import type { MailboxView } from './mailbox-view.js';
import type { MessageCache } from './message-cache.js';
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

/** What SEARCH tests of one message beside the view: its size and summary columns (message-cache.ts). */
export interface HeldFacts {
  size: number;
  /** The summary columns; null when too long to hold: the store answers tests of them. */
  summary?: ImapSearchFacts | null;
}

export interface HeldSearchServices {
  pool: Pool;
  messageCache: MessageCache;
  /** Messages read from the store per query (IMAP_FETCH_BATCH). */
  batchSize: number;
}

const SEARCH_FACTS = { envelope: false, bodystructure: false, search: true };

/**
 * `criteria` as a SearchCondition when every key tests what the selected mailbox's view holds (flags,
 * keywords, UIDs, message numbers, \Recent, MODSEQ) or a message's immutable facts (size, the summary
 * columns FROM, SUBJECT, TO, CC and HEADER test, the internal and sent days), and NOT/OR/AND of those;
 * null when a key needs the store (BODY, TEXT, other HEADER fields, SAVEDATE, OBJECTID...). Built
 * before the view catches up, as the store's condition is: message numbers mean what the client was
 * told.
 */
export function heldCondition(view: MailboxView, criteria: readonly SearchKey[]): SearchCondition | null {
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
  return scanned || !inMemory(condition) ? null : condition;
}

/**
 * SEARCH answered in the gateway, as Dovecot answers it from its index and cache files: the UIDs
 * (ascending) and MODSEQs of the live messages matching `condition` (from heldCondition), or null
 * whenever a message's answer cannot be told in memory (see `matches`): the store answers then. Facts
 * of messages that the view alone does not decide and the process's MessageCache does not hold are
 * read in one named statement per batch and kept, so the next SEARCH needs no statement. The caller
 * brings the view up to date first, as FETCH FLAGS does.
 */
export async function searchHeld(
  services: HeldSearchServices,
  accountId: string,
  view: MailboxView,
  condition: SearchCondition,
): Promise<{ uid: number; modseq: number }[] | null> {
  const { messageCache: cache } = services;
  const states = view.liveStates();
  if (hasSubstringTest(condition) && !(await foldsAscii(services.pool))) return null;
  // The messages the view alone does not decide (none for SEARCH UNSEEN and the like).
  const open = states.filter((state) => matches(condition, state) === undefined);
  // Facts of more messages than the cache keeps would push each other out on every SEARCH.
  if (open.length > cache.capacity / 2) return null;
  const facts = new Map<number, HeldFacts>();
  const missing: number[] = [];
  for (const { uid } of open) {
    const held = cache.get(view.mailboxId, view.uidvalidity, uid, SEARCH_FACTS);
    if (held) facts.set(uid, held);
    else missing.push(uid);
  }
  for (let i = 0; i < missing.length; i += services.batchSize) {
    const batch = missing.slice(i, i + services.batchSize);
    for (const row of await readImapMessages(services.pool, accountId, view.mailboxId, batch, {
      search: true,
    })) {
      cache.put(view.mailboxId, view.uidvalidity, row);
      facts.set(row.uid, { size: row.size, summary: row.search });
    }
  }
  const found: { uid: number; modseq: number }[] = [];
  for (const state of states) {
    // Not read: expunged since the view last looked; the store answers without it.
    const result = matches(condition, state, facts.get(state.uid));
    if (result === undefined) return null;
    if (result) found.push({ uid: state.uid, modseq: state.modseq });
  }
  return found;
}

/** Whether the database's lower() folds A-Z to a-z, as `contains` does, per pool (checked once). */
const asciiFolding = new WeakMap<Pool, Promise<boolean>>();

/**
 * correo's databases are made with the C.UTF-8 locale (scripts/backends/postgres.sh), where it does;
 * under a Turkish one lower('I') is a dotless i, and substring tests are left to the store there.
 */
function foldsAscii(pool: Pool): Promise<boolean> {
  let folds = asciiFolding.get(pool);
  if (!folds) {
    const upper = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    folds = pool
      .query<{ folded: string }>('SELECT lower($1::text) AS folded', [upper])
      .then(({ rows }) => rows[0]?.folded === upper.toLowerCase());
    // A failed check (the database unreachable) is tried again by the next SEARCH.
    folds.catch(() => asciiFolding.delete(pool));
    asciiFolding.set(pool, folds);
  }
  return folds;
}

function hasSubstringTest(c: SearchCondition): boolean {
  switch (c.kind) {
    case 'text':
    case 'header':
      return c.value !== '';
    case 'not':
      return hasSubstringTest(c.operand);
    case 'or':
      return hasSubstringTest(c.left) || hasSubstringTest(c.right);
    case 'and':
      return c.operands.some(hasSubstringTest);
    default:
      return false;
  }
}

function inMemory(c: SearchCondition): boolean {
  switch (c.kind) {
    case 'all':
    case 'none':
    case 'flag':
    case 'uid':
    case 'modseq':
    case 'size':
    case 'internal-date':
    case 'sent-date':
      return true;
    case 'text':
    case 'header':
      return factColumn(c) !== undefined;
    case 'not':
      return inMemory(c.operand);
    case 'or':
      return inMemory(c.left) && inMemory(c.right);
    case 'and':
      return c.operands.every(inMemory);
    default:
      return false;
  }
}

/** The summary columns of libs/store imap/search.ts TEXT_COLUMNS and HEADER_COLUMNS, as held. */
const TEXT_FACTS: Partial<Record<string, keyof ImapSearchFacts>> = {
  subject: 'subject',
  from: 'from',
  to: 'to',
  cc: 'cc',
};
const HEADER_FACTS: Partial<Record<string, keyof ImapSearchFacts>> = {
  ...TEXT_FACTS,
  'message-id': 'messageId',
  'in-reply-to': 'inReplyTo',
  date: 'date',
};

function factColumn(c: { kind: 'text' | 'header'; field: string }): keyof ImapSearchFacts | undefined {
  const columns = c.kind === 'text' ? TEXT_FACTS : HEADER_FACTS;
  return Object.hasOwn(columns, c.field) ? columns[c.field] : undefined;
}

/** ASCII without NUL (PostgreSQL text cannot hold NUL: the store refuses such a value). */
function ascii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0 || code > 0x7f) return false;
  }
  return true;
}

/**
 * The store's `contains` (libs/store imap/search.ts): `position(lower(value) in lower(coalesce(column,
 * ''))) > 0`, and for '' `column IS NOT NULL`. JavaScript's toLowerCase and PostgreSQL's lower()
 * (glibc towlower under the database's C.UTF-8 locale, or ASCII only under the C locale; foldsAscii
 * checks the database once) agree on ASCII but not beyond, so this answers only for an ASCII value,
 * with ASCII letters folded alone: every other character lowers to non-ASCII in all three, and an
 * ASCII value can only match a run of ASCII; except U+0130 (to "i" in glibc, "i" and a combining dot
 * in JavaScript, itself under C) and U+212A, the Kelvin sign (to "k", or itself), the only two whose
 * lower case has ASCII in it (checked over every code point against JavaScript and PostgreSQL 15
 * under C.UTF-8). Where the value has that letter and the column that character, undefined: the
 * store answers.
 */
function contains(column: string | null, value: string): boolean | undefined {
  if (value === '') return column !== null;
  if (!ascii(value)) return undefined;
  const text = column ?? '';
  const needle = asciiLower(value);
  if (
    (needle.includes('i') && text.includes('\u0130')) ||
    (needle.includes('k') && text.includes('\u212a'))
  ) {
    return undefined;
  }
  return asciiLower(text).includes(needle);
}

/** A day PostgreSQL writes as the string compares (no BC, no year past 9999, DateStyle ISO). */
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The store's `dateTest` over days as YYYY-MM-DD strings, which compare as the days do; undefined for
 * a day written otherwise, and for year 0, which PostgreSQL refuses (the store answers, or fails, as
 * before).
 */
function dateTest(day: string, op: 'before' | 'on' | 'since', date: string): boolean | undefined {
  if (!ISO_DAY.test(day) || !ISO_DAY.test(date) || date.startsWith('0000')) return undefined;
  if (op === 'before') return day < date;
  if (op === 'on') return day === date;
  return day >= date;
}

const asciiLower = (text: string): string => text.replace(/[A-Z]+/g, (run) => run.toLowerCase());

/**
 * The store's SQL for these conditions (libs/store imap/search.ts), over one message of the view and,
 * for size and summary column tests, its held facts: true or false, or undefined when this cannot
 * tell (no facts given, facts too long to hold, or a substring test `contains` leaves to the store).
 * Three-valued as SQL is: NOT undefined is undefined, OR with a true side is true, AND with a false
 * side is false.
 */
function matches(
  c: SearchCondition,
  state: { uid: number; modseq: number; flags: readonly string[] },
  facts?: HeldFacts,
): boolean | undefined {
  switch (c.kind) {
    case 'all':
      return true;
    case 'none':
      return false;
    case 'flag':
      return state.flags.includes(c.flag) === c.set;
    case 'uid':
      return c.ranges.some(([low, high]) => state.uid >= low && state.uid <= high);
    case 'modseq':
      return state.modseq >= c.modseq;
    case 'size':
      if (!facts) return undefined;
      return c.op === 'larger' ? facts.size > c.size : facts.size < c.size;
    case 'internal-date':
      if (!facts?.summary) return undefined;
      return dateTest(facts.summary.internalDay, c.op, c.date);
    case 'sent-date':
      if (!facts?.summary) return undefined;
      return facts.summary.sentDay === null ? false : dateTest(facts.summary.sentDay, c.op, c.date);
    case 'text':
    case 'header': {
      const column = factColumn(c);
      if (!column || !facts?.summary) return undefined;
      return contains(facts.summary[column], c.value);
    }
    case 'not': {
      const operand = matches(c.operand, state, facts);
      return operand === undefined ? undefined : !operand;
    }
    case 'or': {
      const left = matches(c.left, state, facts);
      if (left === true) return true;
      const right = matches(c.right, state, facts);
      if (right === true) return true;
      return left === undefined || right === undefined ? undefined : false;
    }
    case 'and': {
      let known = true;
      for (const operand of c.operands) {
        const result = matches(operand, state, facts);
        if (result === false) return false;
        if (result === undefined) known = false;
      }
      return known ? true : undefined;
    }
    default:
      return undefined;
  }
}
