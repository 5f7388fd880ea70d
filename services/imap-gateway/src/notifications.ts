import {
  listResponse,
  MESSAGE_EVENTS,
  metadataEntriesResponse,
  statusResponse,
  untaggedStatus,
} from '@correo/imap-proto';
import type {
  EncodeOptions,
  FetchAttribute,
  NotifyEvent,
  NotifyEventGroup,
  NotifyFilter,
  StatusItem,
} from '@correo/imap-proto';
import type { MailboxChange } from '@correo/notify';
import { MAILBOX_DELIMITER, listImapMailboxes, readImapStatus } from '@correo/store';
import type { Pool } from '@correo/store';
import type { AuthenticatedContext } from './command-context.js';
import { statusItems } from './mailbox-status.js';

/** The events this server can report (RFC 5465 5); AnnotationChange needs ANNOTATE, which it lacks. */
export const SUPPORTED_EVENTS = [
  'MessageNew',
  'MessageExpunge',
  'FlagChange',
  'MailboxName',
  'SubscriptionChange',
  'MailboxMetadataChange',
  'ServerMetadataChange',
] as const;
type EventName = (typeof SUPPORTED_EVENTS)[number];

/** What NOTIFY SET asked for the selected mailbox (the SELECTED or SELECTED-DELAYED group). */
export interface SelectedNotify {
  /** SELECTED-DELAYED: EXPUNGEs wait for a command during which they are allowed (RFC 5465 6). */
  delayed: boolean;
  events: ReadonlySet<EventName>;
  /** MessageNew's fetch attributes: new messages are sent with these right after EXISTS. */
  fetch: FetchAttribute[];
}

interface OtherGroup {
  filter: NotifyFilter;
  events: ReadonlySet<EventName>;
}

interface KnownMailbox {
  name: string;
  subscribed: boolean;
}

/** A NOTIFY SET the server can take, or why not: BAD for a wrong combination, BADEVENT for events it lacks. */
export type NotifyCheck =
  | { kind: 'ok'; selected: SelectedNotify | null; others: OtherGroup[] }
  | { kind: 'bad'; text: string }
  | { kind: 'badevent' };

/** Checks NOTIFY SET's event groups against RFC 5465 5 and 6. */
export function checkNotify(groups: readonly NotifyEventGroup[]): NotifyCheck {
  let selected: SelectedNotify | null = null;
  const others: OtherGroup[] = [];
  for (const group of groups) {
    const names = group.events.map((e: NotifyEvent) => (e.name === 'unknown' ? e.atom : e.name));
    if (names.some((name) => !(SUPPORTED_EVENTS as readonly string[]).includes(name)))
      return { kind: 'badevent' };
    const events = new Set(names as EventName[]);
    if (events.has('MessageNew') !== events.has('MessageExpunge')) {
      return { kind: 'bad', text: 'MessageNew and MessageExpunge go together' };
    }
    if (events.has('FlagChange') && !events.has('MessageNew')) {
      return { kind: 'bad', text: 'FlagChange needs MessageNew and MessageExpunge' };
    }
    const fetch = group.events.flatMap((e) => (e.name === 'MessageNew' ? e.fetch : []));
    const { filter } = group;
    if (filter.kind === 'SELECTED' || filter.kind === 'SELECTED-DELAYED') {
      if (selected) return { kind: 'bad', text: 'Only one SELECTED or SELECTED-DELAYED group' };
      if (names.some((name) => !(MESSAGE_EVENTS as readonly string[]).includes(name))) {
        return { kind: 'bad', text: 'The selected mailbox takes message events only' };
      }
      // MessageNew's attributes are read as BODY.PEEK: a notification must not set \Seen.
      const peeked = fetch.map((a) => ('peek' in a ? { ...a, peek: true } : a));
      selected = { delayed: filter.kind === 'SELECTED-DELAYED', events, fetch: peeked };
    } else {
      if (fetch.length)
        return { kind: 'bad', text: 'MessageNew takes fetch attributes for the selected mailbox only' };
      others.push({ filter, events });
    }
  }
  return { kind: 'ok', selected, others };
}

/** The event a message change of a non-selected mailbox is. */
function messageEvent(kind: MailboxChange['kind']): EventName | null {
  if (kind === 'append' || kind === 'copy') return 'MessageNew';
  if (kind === 'expunge' || kind === 'move') return 'MessageExpunge';
  if (kind === 'flags') return 'FlagChange';
  return null;
}

function matches(filter: OtherGroup['filter'], mailbox: KnownMailbox): boolean {
  switch (filter.kind) {
    case 'PERSONAL':
      return true;
    case 'INBOXES':
      // Deliveries go to INBOX; Sieve fileinto targets are the user's choice, not known here.
      return mailbox.name === 'INBOX';
    case 'SUBSCRIBED':
      return mailbox.subscribed;
    case 'MAILBOXES':
      return filter.mailboxes.includes(mailbox.name);
    case 'SUBTREE':
      return filter.mailboxes.some(
        (m) => mailbox.name === m || mailbox.name.startsWith(m + MAILBOX_DELIMITER),
      );
    default:
      return false; // SELECTED and SELECTED-DELAYED groups are kept apart
  }
}

/** STATUS items a message event of a non-selected mailbox is reported with (RFC 5465 5.2-5.3). */
const STATUS_ITEMS: StatusItem[] = ['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN'];

/**
 * One session's NOTIFY (RFC 5465): which changes of the account's change feed it reports, and those
 * waiting to be reported. Changes are coalesced per mailbox (one STATUS tells the latest state), so
 * what waits is bounded by the account's mailboxes and the metadata entries changed; past
 * IMAP_NOTIFY_MAX_PENDING the session gets [NOTIFICATIONOVERFLOW] and notifications stop (5.8).
 */
export class SessionNotifications {
  /** Mailboxes to send STATUS for, with the event that made them due. */
  private readonly statusDue = new Map<string, EventName>();
  /** Metadata entries changed, by mailbox id ('' for the server). */
  private readonly metadataDue = new Map<string, Set<string>>();
  private mailboxListDue = false;
  private pendingCount = 0;
  overflowed = false;

  private constructor(
    readonly selected: SelectedNotify | null,
    private readonly others: OtherGroup[],
    /** The account's mailboxes as last told, by id: what MailboxName / SubscriptionChange diff against. */
    private mailboxes: Map<string, KnownMailbox>,
    private readonly maxPending: number,
  ) {}

  static async start(
    pool: Pool,
    accountId: string,
    check: Extract<NotifyCheck, { kind: 'ok' }>,
    maxPending: number,
  ): Promise<SessionNotifications> {
    return new SessionNotifications(
      check.selected,
      check.others,
      await knownMailboxes(pool, accountId),
      maxPending,
    );
  }

  /** The first non-selected group that covers `mailbox` and wants `event` (the leftmost filter wins). */
  private wants(mailbox: KnownMailbox, event: EventName): boolean {
    const group = this.others.find((g) => matches(g.filter, mailbox));
    return group !== undefined && group.events.has(event);
  }

  private anyWants(event: EventName): boolean {
    return this.others.some((g) => g.events.has(event));
  }

  /** Takes note of a change from the feed; true when it is something to report (outside the selected mailbox). */
  note(change: MailboxChange | null, selectedMailboxId: string | null): boolean {
    if (this.overflowed || change === null) return false;
    let due = false;
    if (change.kind === 'mailboxes') {
      // The list is re-read even when no LIST is to be sent: message events of new mailboxes need it.
      this.mailboxListDue = true;
      due = this.anyWants('MailboxName') || this.anyWants('SubscriptionChange');
    } else if (change.kind === 'metadata') {
      const server = change.mailboxId === '';
      const mailbox = this.mailboxes.get(change.mailboxId);
      due = server
        ? this.anyWants('ServerMetadataChange')
        : mailbox !== undefined && this.wants(mailbox, 'MailboxMetadataChange');
      if (due) {
        const entries = this.metadataDue.get(change.mailboxId) ?? new Set<string>();
        for (const entry of change.entries ?? []) {
          if (entries.has(entry)) continue;
          entries.add(entry);
          this.pendingCount++;
        }
        this.metadataDue.set(change.mailboxId, entries);
      }
    } else if (change.mailboxId !== selectedMailboxId) {
      const event = messageEvent(change.kind);
      const mailbox = this.mailboxes.get(change.mailboxId);
      // A mailbox made on another pod may be heard of before its 'mailboxes' change: re-read the list.
      if (event !== null && mailbox === undefined) this.mailboxListDue = true;
      due = event !== null && (mailbox === undefined || this.wants(mailbox, event));
      if (due && event !== null && !this.statusDue.has(change.mailboxId)) {
        this.statusDue.set(change.mailboxId, event);
        this.pendingCount++;
      }
    }
    if (this.pendingCount > this.maxPending) this.overflowed = true;
    return due || this.overflowed;
  }

  /** Something was noted that take() has not reported yet. */
  get pending(): boolean {
    return this.overflowed || this.mailboxListDue || this.statusDue.size > 0 || this.metadataDue.size > 0;
  }

  /** STATUS for every mailbox a message-event filter covers (NOTIFY SET STATUS, RFC 5465 3.1). */
  initialStatus(selectedMailboxId: string | null): void {
    for (const [id, mailbox] of this.mailboxes) {
      if (id !== selectedMailboxId && this.wants(mailbox, 'MessageNew')) this.statusDue.set(id, 'MessageNew');
    }
  }

  /** The untagged responses for everything noted since the last call; they may be written at any time. */
  async take(
    pool: Pool,
    accountId: string,
    options: { encode: EncodeOptions; condstore: boolean; selectedMailboxId: string | null },
  ): Promise<Buffer[]> {
    if (this.overflowed) {
      this.clear();
      return [
        untaggedStatus('OK', 'Too many changes, notifications stopped', { code: 'NOTIFICATIONOVERFLOW' }),
      ];
    }
    const out: Buffer[] = [];
    if (this.mailboxListDue) {
      this.mailboxListDue = false;
      out.push(...(await this.mailboxListChanges(pool, accountId, options.encode)));
    }
    const ids = [...this.statusDue]
      .filter(([id, event]) => {
        const mailbox = this.mailboxes.get(id);
        return id !== options.selectedMailboxId && mailbox !== undefined && this.wants(mailbox, event);
      })
      .map(([id]) => id);
    this.statusDue.clear();
    if (ids.length) {
      const items: StatusItem[] = options.condstore ? [...STATUS_ITEMS, 'HIGHESTMODSEQ'] : STATUS_ITEMS;
      const found = await readImapStatus(pool, accountId, ids);
      for (const id of ids) {
        const status = found.get(id);
        const mailbox = this.mailboxes.get(id);
        if (status && mailbox)
          out.push(statusResponse(mailbox.name, statusItems(items, status, 0, id), options.encode));
      }
    }
    for (const [id, entries] of this.metadataDue) {
      const name = id === '' ? '' : this.mailboxes.get(id)?.name;
      if (name !== undefined && entries.size)
        out.push(metadataEntriesResponse(name, [...entries].sort(), options.encode));
    }
    this.metadataDue.clear();
    this.pendingCount = 0;
    return out;
  }

  /** What this session itself changed in the mailbox list: known now, so not told back to it. */
  async forgetOwnMailboxChanges(pool: Pool, accountId: string): Promise<void> {
    this.mailboxes = await knownMailboxes(pool, accountId);
    this.mailboxListDue = false;
  }

  private clear(): void {
    this.statusDue.clear();
    this.metadataDue.clear();
    this.mailboxListDue = false;
    this.pendingCount = 0;
  }

  /**
   * MailboxName and SubscriptionChange (RFC 5465 5.4, 5.5) as LIST responses, by comparing the list with
   * the one last seen: a new id was created, a missing one deleted (\NonExistent), a new name on a known
   * id renamed (OLDNAME), a changed subscription (\Subscribed or not).
   */
  private async mailboxListChanges(pool: Pool, accountId: string, encode: EncodeOptions): Promise<Buffer[]> {
    const now = await knownMailboxes(pool, accountId);
    const before = this.mailboxes;
    this.mailboxes = now;
    const out: Buffer[] = [];
    const list = (name: string, attributes: string[], oldName?: string) =>
      listResponse(
        { name, delimiter: MAILBOX_DELIMITER, attributes, ...(oldName === undefined ? {} : { oldName }) },
        encode,
      );
    for (const [id, old] of before) {
      const current = now.get(id);
      if (!current) {
        if (this.wants(old, 'MailboxName')) out.push(list(old.name, ['\\NonExistent']));
      } else if (current.name !== old.name) {
        if (this.wants(current, 'MailboxName') || this.wants(old, 'MailboxName'))
          out.push(list(current.name, current.subscribed ? ['\\Subscribed'] : [], old.name));
      } else if (current.subscribed !== old.subscribed && this.wants(current, 'SubscriptionChange')) {
        out.push(list(current.name, current.subscribed ? ['\\Subscribed'] : []));
      }
    }
    for (const [id, current] of now) {
      if (!before.has(id) && this.wants(current, 'MailboxName')) out.push(list(current.name, []));
    }
    return out;
  }
}

async function knownMailboxes(pool: Pool, accountId: string): Promise<Map<string, KnownMailbox>> {
  const mailboxes = await listImapMailboxes(pool, accountId);
  return new Map(mailboxes.map((m) => [m.id, { name: m.name, subscribed: m.subscribed }]));
}

/**
 * CREATE, DELETE, RENAME and (UN)SUBSCRIBE tell the account's other sessions (any pod) that the
 * mailbox list changed, for their NOTIFY MailboxName / SubscriptionChange. The session that made the
 * change knows it already: its own NOTIFY state takes the new list without reporting it back.
 */
export async function announceMailboxListChange(ctx: AuthenticatedContext): Promise<void> {
  const { pool, changes } = ctx.services;
  await changes.publish(ctx.account.accountId, { mailboxId: '', modseq: 0, kind: 'mailboxes' });
  await ctx.session.notifications?.forgetOwnMailboxChanges(pool, ctx.account.accountId);
}
