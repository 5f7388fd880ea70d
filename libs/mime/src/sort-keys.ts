import libmime from 'libmime';
import type { ImapAddress } from './types.js';

/**
 * What SORT (RFC 5256, RFC 5957) and THREAD (RFC 5256) compare, computed once per stored message so
 * that neither reads a body or a header block.
 */
export interface SortKeys {
  /** RFC 5256 2.1 base subject (decoded, leaders/trailers removed, whitespace collapsed). */
  subject: string;
  /** addr-mailbox of the first From/To/Cc mailbox; "" when there is none. */
  from: string;
  to: string;
  cc: string;
  /** RFC 5957: the first From/To mailbox's decoded display name, else its addr-spec. */
  displayFrom: string;
  displayTo: string;
  /** The first msg-id of Message-ID, null without one. */
  messageId: string | null;
  /**
   * The parents THREAD=REFERENCES links through, oldest first: the msg-ids of References, or without
   * any the first msg-id of In-Reply-To (RFC 5256 4, step 1A).
   */
  references: string[];
}

/** The raw and decoded fields sortKeys reads: what delivery has and what a stored row keeps. */
export interface SortKeySource {
  /** Decoded Subject. */
  subject: string | null;
  /** ENVELOPE address lists (group markers included). */
  from: ImapAddress[] | null;
  to: ImapAddress[] | null;
  cc: ImapAddress[] | null;
  /** Raw Message-ID, In-Reply-To and References values. */
  messageId: string | null;
  inReplyTo: string | null;
  references: string | null;
}

const MSG_ID = /<[^<>\s]+>/g;

function msgIds(value: string | null): string[] {
  if (!value) return [];
  return (value.match(MSG_ID) ?? []).slice(0, 1000);
}

/** The first real mailbox of a list: group start and end markers (NIL host) are skipped. */
function firstMailbox(list: ImapAddress[] | null): ImapAddress | null {
  return list?.find((a) => a[3] !== null) ?? null;
}

function decodeName(name: string): string {
  try {
    return libmime.decodeWords(name);
  } catch {
    return name;
  }
}

function displayName(list: ImapAddress[] | null): string {
  const first = firstMailbox(list);
  if (!first) return '';
  const name = first[0] ? decodeName(first[0]).replace(/\s+/g, ' ').trim() : '';
  if (name) return name;
  const [, , mailbox, host] = first;
  return host ? `${mailbox ?? ''}@${host}` : (mailbox ?? '');
}

// subj-blob = "[" *BLOBCHAR "]" *WSP; subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":".
const BLOB = /^\[[^[\]]*\][ \t]*/;
const LEADER = /^(?:\[[^[\]]*\][ \t]*)*(?:re|fwd?)[ \t]*(?:\[[^[\]]*\][ \t]*)?:[ \t]*/i;
const TRAILER = /(?:\(fwd\)|[ \t])+$/i;

/**
 * RFC 5256 2.1: the base subject, and whether extracting it removed a reply or forward marker (which
 * THREAD=REFERENCES step 5 asks).
 */
export function baseSubject(decoded: string | null): { base: string; replyOrForward: boolean } {
  // (1) decoded already; runs of whitespace become one space.
  let subject = (decoded ?? '').replace(/[ \t\r\n]+/g, ' ');
  let replyOrForward = false;
  for (;;) {
    // (2) trailing "(fwd)" and whitespace.
    const trimmed = subject.replace(TRAILER, '');
    if (trimmed !== subject && /\(fwd\)/i.test(subject.slice(trimmed.length))) replyOrForward = true;
    subject = trimmed;
    // (3)-(5) leaders ("Re:", "Fwd:", "[blob] Re:", whitespace) and a leading blob that leaves text.
    for (;;) {
      const before = subject;
      subject = subject.replace(/^[ \t]+/, '');
      const leader = LEADER.exec(subject);
      if (leader) {
        subject = subject.slice(leader[0].length);
        replyOrForward = true;
      }
      const blob = BLOB.exec(subject);
      if (blob && blob[0].length < subject.length) subject = subject.slice(blob[0].length);
      if (subject === before) break;
    }
    // (6) "[fwd: ...]" around all of it.
    if (/^\[fwd:/i.test(subject) && subject.endsWith(']')) {
      subject = subject.slice(5, -1);
      replyOrForward = true;
      continue;
    }
    return { base: subject, replyOrForward };
  }
}

export function sortKeys(source: SortKeySource): SortKeys {
  const references = msgIds(source.references);
  return {
    subject: baseSubject(source.subject).base,
    from: firstMailbox(source.from)?.[2] ?? '',
    to: firstMailbox(source.to)?.[2] ?? '',
    cc: firstMailbox(source.cc)?.[2] ?? '',
    displayFrom: displayName(source.from),
    displayTo: displayName(source.to),
    messageId: msgIds(source.messageId)[0] ?? null,
    references: references.length ? references : msgIds(source.inReplyTo).slice(0, 1),
  };
}
