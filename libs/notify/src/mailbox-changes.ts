import type { Notifier, Unsubscribe } from './port.js';

/**
 * The channel an account's mailbox changes are published on (mda deliveries, IMAP and POP3
 * flag changes, appends and expunges). One name for every publisher and every listener.
 */
export function mailboxChannel(accountId: string): string {
  return `correo.mailbox.${accountId}`;
}

const KINDS = ['append', 'flags', 'expunge', 'copy', 'move', 'mailboxes', 'metadata'] as const;

/** What changed in one mailbox; the store's write paths publish one after each commit. */
export interface MailboxChange {
  mailboxId: string;
  uid?: number;
  modseq: number;
  kind: (typeof KINDS)[number];
  /**
   * 'metadata' (RFC 5464 annotations set or deleted): the entry names; mailboxId is '' for the
   * server's entries. 'mailboxes': a mailbox was created, deleted, renamed or (un)subscribed.
   */
  entries?: string[];
}

/**
 * The write side of the feed, all libs/store's write paths need. Never throws: a change is a hint
 * published after its commit, so a failed publish must not turn a committed write into an error.
 */
export interface MailboxChangePublisher {
  publish(accountId: string, change: MailboxChange): Promise<void>;
}

/**
 * The one wire form of a change (JSON; field names are what every pod of every version reads).
 * `publishedAt` (ms since the epoch, field `at`) lets listeners measure the fan-out; readers that
 * do not know the field ignore it.
 */
export function encodeMailboxChange(change: MailboxChange, publishedAt?: number): string {
  const { mailboxId, uid, modseq, kind, entries } = change;
  return JSON.stringify({
    mailboxId,
    ...(uid === undefined ? {} : { uid }),
    modseq,
    kind,
    ...(entries === undefined ? {} : { entries }),
    ...(publishedAt === undefined ? {} : { at: publishedAt }),
  });
}

/**
 * The one reader of the wire form. null when the payload is not understood (another version, a
 * stray publish): listeners treat that as "something changed" and re-read, never as an error.
 */
export function decodeMailboxChange(payload: string): MailboxChange | null {
  return decodePublished(payload).change;
}

/** The change and, when the publisher said, when it was published (ms since the epoch). */
function decodePublished(payload: string): { change: MailboxChange | null; publishedAt?: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return { change: null };
  }
  if (typeof parsed !== 'object' || parsed === null) return { change: null };
  const { mailboxId, uid, modseq, kind, entries, at } = parsed as Record<string, unknown>;
  const publishedAt = typeof at === 'number' && Number.isFinite(at) ? { publishedAt: at } : {};
  // Mailbox ids are bigint columns: older publishers may have sent them as JSON numbers.
  if (typeof mailboxId !== 'string' && typeof mailboxId !== 'number') return { change: null, ...publishedAt };
  if (typeof modseq !== 'number' || !KINDS.includes(kind as MailboxChange['kind']))
    return { change: null, ...publishedAt };
  const change: MailboxChange = { mailboxId: String(mailboxId), modseq, kind: kind as MailboxChange['kind'] };
  if (typeof uid === 'number') change.uid = uid;
  if (Array.isArray(entries) && entries.every((e) => typeof e === 'string')) change.entries = entries;
  return { change, ...publishedAt };
}

let fanoutObserver: ((seconds: number) => void) | undefined;

/**
 * Told, for every change a listener of this process receives, the seconds from its publish (on
 * any pod) to that listener: the notify fan-out latency. The process's metrics hang here
 * (libs/backends), so this library stays free of them.
 */
export function observeMailboxChangeFanout(observer: (seconds: number) => void): void {
  fanoutObserver = observer;
}

/** Where a failed publish is reported (a pino Logger fits). */
export interface ChangeFeedLog {
  warn(fields: object, message: string): void;
}

/**
 * Typed publish/subscribe of mailbox changes over the notify port (Redis or in-process), the only
 * encoder and decoder of the payload. Changes are hints: readers re-read the store, so a lost one
 * delays an update, never corrupts it.
 */
export class MailboxChangeFeed implements MailboxChangePublisher {
  constructor(
    private readonly notifier: Notifier,
    private readonly log: ChangeFeedLog,
  ) {}

  async publish(accountId: string, change: MailboxChange): Promise<void> {
    try {
      await this.notifier.publish(mailboxChannel(accountId), encodeMailboxChange(change, Date.now()));
    } catch (error) {
      this.log.warn(
        { accountId, mailboxId: change.mailboxId, error: (error as Error).message },
        'mailbox-changed notification not published',
      );
    }
  }

  /** `listener` gets each change of the account's mailboxes, null for a payload it cannot read. */
  subscribe(accountId: string, listener: (change: MailboxChange | null) => void): Promise<Unsubscribe> {
    return this.notifier.subscribe(mailboxChannel(accountId), (payload) => {
      const { change, publishedAt } = decodePublished(payload);
      // Clocks of two pods differ a little: never a negative latency.
      if (publishedAt !== undefined) fanoutObserver?.(Math.max(0, Date.now() - publishedAt) / 1000);
      listener(change);
    });
  }
}
