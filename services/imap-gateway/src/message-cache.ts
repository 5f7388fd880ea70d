import type { ImapMessageRow } from '@correo/store';

/** What never changes about a message once it is in a mailbox under one UID (flags and MODSEQ do). */
export type ImmutableFacts = Omit<ImapMessageRow, 'uid' | 'modseq' | 'flags'>;

/** How many messages' facts one gateway process keeps (a few KB each with envelope and structure). */
export const MESSAGE_CACHE_ENTRIES = 20_000;

/**
 * The immutable facts FETCH reads about messages (blob key, size, INTERNALDATE, and ENVELOPE and
 * BODYSTRUCTURE once read), shared by every session of the gateway process, least recently used out
 * first. A (mailbox, UIDVALIDITY, UID) never names another message, so an entry is never stale; flags
 * and MODSEQ come from the session's view instead. Dovecot answers the same from its index and cache
 * files: here a FETCH of ENVELOPE or of a body that was read before needs no statement.
 */
export class MessageCache {
  private readonly entries = new Map<string, ImmutableFacts>();

  constructor(private readonly capacity = MESSAGE_CACHE_ENTRIES) {}

  private static key(mailboxId: string, uidvalidity: number, uid: number): string {
    return `${mailboxId}/${uidvalidity}/${uid}`;
  }

  /** The facts of `uid` when every part asked for is held (envelope, structure: read at least once). */
  get(
    mailboxId: string,
    uidvalidity: number,
    uid: number,
    wants: { envelope: boolean; bodystructure: boolean },
  ): ImmutableFacts | undefined {
    const key = MessageCache.key(mailboxId, uidvalidity, uid);
    const facts = this.entries.get(key);
    if (!facts) return undefined;
    if (
      (wants.envelope && facts.envelope === undefined) ||
      (wants.bodystructure && facts.bodystructure === undefined)
    )
      return undefined;
    // Most recently used last: Map keeps insertion order.
    this.entries.delete(key);
    this.entries.set(key, facts);
    return facts;
  }

  /** Keeps what a read of the store gave (merged with what was held: another FETCH may have read more). */
  put(mailboxId: string, uidvalidity: number, row: ImapMessageRow): void {
    const key = MessageCache.key(mailboxId, uidvalidity, row.uid);
    const held = this.entries.get(key);
    const { uid: _uid, modseq: _modseq, flags: _flags, ...facts } = row;
    this.entries.delete(key);
    // A row read without ENVELOPE or BODYSTRUCTURE has no such key: what was held of them stays.
    this.entries.set(key, { ...held, ...facts });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}
