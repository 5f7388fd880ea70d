import { readMailbox } from '../lexer/mailbox.js';
import type { Reader } from '../lexer/reader.js';
import type { FetchAttribute } from './fetch.js';
import { readFetchAttributes } from './fetch.js';

/** The mailboxes an event group watches (RFC 5465 6). */
export type NotifyFilter =
  | { kind: 'SELECTED' | 'SELECTED-DELAYED' | 'INBOXES' | 'PERSONAL' | 'SUBSCRIBED' }
  | { kind: 'SUBTREE' | 'MAILBOXES'; mailboxes: string[] };

export const MESSAGE_EVENTS = ['MessageNew', 'MessageExpunge', 'FlagChange', 'AnnotationChange'] as const;
export const MAILBOX_EVENTS = ['MailboxName', 'SubscriptionChange', 'MailboxMetadataChange'] as const;
export const USER_EVENTS = ['ServerMetadataChange'] as const;

/** An event as the client named it (RFC 5465 5); names are matched case-insensitively. */
export type NotifyEvent =
  | { name: 'MessageNew'; fetch: FetchAttribute[] }
  | {
      name:
        | Exclude<(typeof MESSAGE_EVENTS)[number], 'MessageNew'>
        | (typeof MAILBOX_EVENTS)[number]
        | (typeof USER_EVENTS)[number];
    }
  /** event-ext: a name this parser does not know; the server answers NO [BADEVENT]. */
  | { name: 'unknown'; atom: string };

export interface NotifyEventGroup {
  filter: NotifyFilter;
  /** [] for NONE. */
  events: NotifyEvent[];
}

export type NotifyRequest =
  | { command: 'NOTIFY'; set: null }
  | { command: 'NOTIFY'; set: { status: boolean; groups: NotifyEventGroup[] } };

const KNOWN = new Map<string, Exclude<NotifyEvent['name'], 'unknown'>>(
  [...MESSAGE_EVENTS, ...MAILBOX_EVENTS, ...USER_EVENTS].map((name) => [name.toUpperCase(), name]),
);

/** one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")" */
function readMailboxes(r: Reader): string[] {
  if (!r.tryChar(0x28)) return [readMailbox(r)];
  const names: string[] = [];
  do names.push(readMailbox(r));
  while (r.trySp());
  r.expectChar(0x29, '")" closing the mailbox names');
  return names;
}

function readFilter(r: Reader): NotifyFilter {
  const kind = r.keyword('a mailbox filter such as SELECTED');
  switch (kind) {
    case 'SELECTED':
    case 'SELECTED-DELAYED':
    case 'INBOXES':
    case 'PERSONAL':
    case 'SUBSCRIBED':
      return { kind };
    case 'SUBTREE':
    case 'MAILBOXES':
      r.sp(kind);
      return { kind, mailboxes: readMailboxes(r) };
    default:
      return r.fail(`Unknown mailbox filter ${kind.slice(0, 40)}`);
  }
}

function readEvent(r: Reader): NotifyEvent {
  const word = r.keyword('an event name');
  const name = KNOWN.get(word);
  if (!name) return { name: 'unknown', atom: word };
  if (name !== 'MessageNew') return { name };
  // The fetch attributes are a parenthesised list after a space; a space alone starts the next event.
  if (r.peek() === 0x20 && r.peek(1) === 0x28) {
    r.sp('MessageNew');
    return { name, fetch: readFetchAttributes(r) };
  }
  return { name, fetch: [] };
}

/** "(" filter-mailboxes SP events ")", events = "(" event *(SP event) ")" / "NONE". */
function readGroup(r: Reader): NotifyEventGroup {
  r.expectChar(0x28, '"(" opening an event group');
  const filter = readFilter(r);
  r.sp('the mailbox filter');
  const events: NotifyEvent[] = [];
  if (!r.tryKeyword('NONE')) {
    r.expectChar(0x28, '"(" opening the events');
    do events.push(readEvent(r));
    while (r.trySp());
    r.expectChar(0x29, '")" closing the events');
  }
  r.expectChar(0x29, '")" closing the event group');
  return { filter, events };
}

/** NOTIFY NONE / NOTIFY SET [STATUS] SP event-group *(SP event-group) (RFC 5465 8). */
export function parseNotify(r: Reader): NotifyRequest {
  r.sp('NOTIFY');
  if (r.tryKeyword('NONE')) {
    r.expectEnd('NOTIFY NONE');
    return { command: 'NOTIFY', set: null };
  }
  r.expectKeyword('SET');
  r.sp('SET');
  const status = r.tryKeyword('STATUS');
  if (status) r.sp('STATUS');
  const groups: NotifyEventGroup[] = [];
  do groups.push(readGroup(r));
  while (r.trySp());
  r.expectEnd('NOTIFY');
  return { command: 'NOTIFY', set: { status, groups } };
}
