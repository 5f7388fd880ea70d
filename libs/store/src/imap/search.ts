import type { Pool } from '../pool.js';

/**
 * Fields IMAP SEARCH tests as substrings. BODY and TEXT test the decoded text kept at delivery
 * (body_text, header_text); rows without it match neither here, and the caller reads their blobs
 * (see `text-kept`).
 */
export type SearchTextField = 'subject' | 'from' | 'to' | 'cc' | 'bcc' | 'body' | 'text';

/**
 * A SEARCH program in store terms: the gateway turns IMAP search keys into this (message numbers
 * already turned into UIDs), and this file alone turns it into SQL.
 */
export type SearchCondition =
  | { kind: 'all' }
  | { kind: 'none' }
  | { kind: 'flag'; flag: string; set: boolean }
  | { kind: 'text'; field: SearchTextField; value: string }
  | { kind: 'header'; field: string; value: string }
  /** True for messages whose decoded body text is kept, so BODY and TEXT are answered in SQL. */
  | { kind: 'text-kept' }
  /**
   * `date` is a calendar day, YYYY-MM-DD, compared with the day of the internal date in the zone it
   * was given in, or of the Date header in its own zone (RFC 3501 6.4.4).
   */
  | { kind: 'internal-date' | 'sent-date'; op: 'before' | 'on' | 'since'; date: string }
  /** SAVEDATE (RFC 8514): the UTC day the message was put in this mailbox. */
  | { kind: 'saved-date'; op: 'before' | 'on' | 'since'; date: string }
  /** OBJECTID (RFC 8474): the message row (EMAILID) or the thread's root row (THREADID). */
  | { kind: 'message-row' | 'thread-root'; id: string }
  | { kind: 'size'; op: 'larger' | 'smaller'; size: number }
  | { kind: 'age'; op: 'older' | 'younger'; seconds: number }
  | { kind: 'uid'; ranges: Array<[number, number]> }
  | { kind: 'modseq'; modseq: number }
  | { kind: 'not'; operand: SearchCondition }
  | { kind: 'or'; left: SearchCondition; right: SearchCondition }
  | { kind: 'and'; operands: SearchCondition[] };

/** The day BEFORE, ON and SINCE compare: the internal date's day in the zone it was given in. */
export const INTERNAL_DAY_SQL = `coalesce(m.internal_day, (m.internal_date AT TIME ZONE 'UTC')::date)`;
/** The Date header as written, from the stored ENVELOPE (HEADER Date). */
export const HEADER_DATE_SQL = `(m.envelope_json->>'date')`;

/** Header fields answered from the summary columns or the stored ENVELOPE. */
const HEADER_COLUMNS: Record<string, string> = {
  subject: 'm.header_subject',
  from: 'm.header_from',
  to: 'm.header_to',
  cc: 'm.header_cc',
  'message-id': 'm.header_message_id',
  'in-reply-to': 'm.header_in_reply_to',
  bcc: `(m.envelope_json->'bcc')::text`,
  sender: `(m.envelope_json->'sender')::text`,
  'reply-to': `(m.envelope_json->'replyTo')::text`,
  date: HEADER_DATE_SQL,
};

const TEXT_COLUMNS: Record<Exclude<SearchTextField, 'body' | 'text'>, string> = {
  subject: 'm.header_subject',
  from: 'm.header_from',
  to: 'm.header_to',
  cc: 'm.header_cc',
  bcc: `(m.envelope_json->'bcc')::text`,
};

class SqlBuilder {
  readonly params: unknown[] = [];
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
}

/** Case-insensitive substring test, as RFC 9051 6.4.4 asks; no LIKE, so no escaping of % and _. */
function contains(sql: SqlBuilder, column: string, value: string): string {
  if (value === '') return `(${column} IS NOT NULL)`;
  return `(position(lower(${sql.param(value)}) in lower(coalesce(${column}, ''))) > 0)`;
}

function dateTest(sql: SqlBuilder, day: string, op: 'before' | 'on' | 'since', date: string): string {
  const value = `${sql.param(date)}::date`;
  if (op === 'before') return `(${day} < ${value})`;
  if (op === 'on') return `(${day} = ${value})`;
  return `(${day} >= ${value})`;
}

function toSql(sql: SqlBuilder, c: SearchCondition): string {
  switch (c.kind) {
    case 'all':
      return 'TRUE';
    case 'none':
      return 'FALSE';
    case 'flag':
      return c.set ? `(${sql.param(c.flag)} = ANY(mm.flags))` : `(NOT ${sql.param(c.flag)} = ANY(mm.flags))`;
    case 'text':
      if (c.field === 'body') return `(m.body_text IS NOT NULL AND ${contains(sql, 'm.body_text', c.value)})`;
      if (c.field === 'text') {
        return `(m.body_text IS NOT NULL AND (${contains(sql, 'm.header_text', c.value)} OR ${contains(sql, 'm.body_text', c.value)}))`;
      }
      return contains(sql, TEXT_COLUMNS[c.field], c.value);
    case 'text-kept':
      return '(m.body_text IS NOT NULL)';
    case 'header': {
      const column = HEADER_COLUMNS[c.field.toLowerCase()];
      // Other fields are not kept outside the blob: they match nothing rather than everything.
      return column ? contains(sql, column, c.value) : 'FALSE';
    }
    case 'internal-date':
      return dateTest(sql, INTERNAL_DAY_SQL, c.op, c.date);
    case 'sent-date':
      return `(m.sent_day IS NOT NULL AND ${dateTest(sql, 'm.sent_day', c.op, c.date)})`;
    case 'saved-date':
      return dateTest(sql, `(mm.created_at AT TIME ZONE 'UTC')::date`, c.op, c.date);
    case 'message-row':
      return `(mm.message_id = ${sql.param(c.id)}::bigint)`;
    case 'thread-root':
      return `(coalesce(m.thread_id, m.id) = ${sql.param(c.id)}::bigint)`;
    case 'size':
      return c.op === 'larger' ? `(m.size > ${sql.param(c.size)})` : `(m.size < ${sql.param(c.size)})`;
    case 'age': {
      const cutoff = `now() - make_interval(secs => ${sql.param(c.seconds)})`;
      return c.op === 'older' ? `(m.internal_date <= ${cutoff})` : `(m.internal_date >= ${cutoff})`;
    }
    case 'uid': {
      if (c.ranges.length === 0) return 'FALSE';
      const lows = sql.param(c.ranges.map((r) => r[0]));
      const highs = sql.param(c.ranges.map((r) => r[1]));
      return `(EXISTS (SELECT 1 FROM unnest(${lows}::bigint[], ${highs}::bigint[]) AS r(lo, hi)
        WHERE mm.uid BETWEEN r.lo AND r.hi))`;
    }
    case 'modseq':
      return `(mm.modseq >= ${sql.param(c.modseq)})`;
    case 'not':
      return `(NOT ${toSql(sql, c.operand)})`;
    case 'or':
      return `(${toSql(sql, c.left)} OR ${toSql(sql, c.right)})`;
    case 'and':
      return c.operands.length ? `(${c.operands.map((o) => toSql(sql, o)).join(' AND ')})` : 'TRUE';
  }
}

/** The UIDs (ascending) and MODSEQs of the mailbox's messages matching `condition`. */
export async function searchImapMailbox(
  pool: Pool,
  accountId: string,
  mailboxId: string,
  condition: SearchCondition,
): Promise<{ uid: number; modseq: number }[]> {
  const sql = new SqlBuilder();
  const account = sql.param(accountId);
  const mailbox = sql.param(mailboxId);
  const where = toSql(sql, condition);
  const { rows } = await pool.query<{ uid: string; modseq: string }>(
    `SELECT mm.uid, mm.modseq FROM mailbox_messages mm
     JOIN messages m ON m.id = mm.message_id AND m.account_id = mm.account_id
     WHERE mm.account_id = ${account} AND mm.mailbox_id = ${mailbox} AND ${where}
     ORDER BY mm.uid`,
    sql.params,
  );
  return rows.map((row) => ({ uid: Number(row.uid), modseq: Number(row.modseq) }));
}
