import type { ImapMessageRow, ImapSearchFacts } from '@correo/store';

/** What never changes about a message once it is in a mailbox under one UID (flags and MODSEQ do). */
export type ImmutableFacts = Omit<ImapMessageRow, 'uid' | 'modseq' | 'flags' | 'search'> & {
  /** The row's `search` columns once read (null: too long to hold). */
  summary?: HeldSearchFacts;
};

/**
 * How many messages' facts one gateway process keeps: about 500 bytes each with blob key, size and
 * INTERNALDATE alone, a few KB with envelope and structure. The SEARCH summary columns add their text:
 * about 400 bytes for a usual message (measured: 486 -> 870 bytes an entry over 20,000 entries), at
 * most MAX_SEARCH_FACTS_CHARS UTF-16 units (4 KB) for any.
 */
export const MESSAGE_CACHE_ENTRIES = 20_000;

/**
 * The most characters of SEARCH summary columns one entry keeps: a message whose Subject and address
 * lists are longer (a long Cc list, a hostile Subject) is held as `summary: null`, and a SEARCH testing
 * them asks the store; so the summaries of a full cache stay under 80 MB even when every message is
 * such a one.
 */
export const MAX_SEARCH_FACTS_CHARS = 2048;

/** The SEARCH summary columns held, or null when too long to hold (the store answers for them). */
export type HeldSearchFacts = ImapSearchFacts | null;

/**
 * The immutable facts FETCH reads about messages (blob key, size, INTERNALDATE, and ENVELOPE and
 * BODYSTRUCTURE once read), shared by every session of the gateway process, least recently used out
 * first. A (mailbox, UIDVALIDITY, UID) never names another message, so an entry is never stale; flags
 * and MODSEQ come from the session's view instead. Dovecot answers the same from its index and cache
 * files: here a FETCH of ENVELOPE or of a body that was read before needs no statement, nor a SEARCH
 * of FROM, SUBJECT and the like over messages whose summary columns were read once (search-program.ts).
 */
export class MessageCache {
  private readonly entries = new Map<string, { facts: ImmutableFacts; refreshed: number }>();
  /** Counts gets and puts: an entry's `refreshed` is this count when it was last moved to the newest end. */
  private operations = 0;

  constructor(readonly capacity = MESSAGE_CACHE_ENTRIES) {}

  private static key(mailboxId: string, uidvalidity: number, uid: number): string {
    return `${mailboxId}/${uidvalidity}/${uid}`;
  }

  /** The facts of `uid` when every part asked for is held (envelope, structure, summary: read once). */
  get(
    mailboxId: string,
    uidvalidity: number,
    uid: number,
    wants: { envelope: boolean; bodystructure: boolean; search?: boolean },
  ): ImmutableFacts | undefined {
    const key = MessageCache.key(mailboxId, uidvalidity, uid);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const { facts } = entry;
    if (
      (wants.envelope && facts.envelope === undefined) ||
      (wants.bodystructure && facts.bodystructure === undefined) ||
      (wants.search && facts.summary === undefined)
    )
      return undefined;
    // Most recently used last: Map keeps insertion order. An entry is moved there only when a quarter of
    // the capacity in operations has passed since it last was, not on every use: a SEARCH reads a whole
    // mailbox's entries, and a delete and an insert per entry were most of the cache's cost in the IMAP
    // benchmark's profile. Fewer than `capacity` insertions can happen in that quarter, so an entry used
    // at least once every three quarters of the capacity in operations is never the one evicted.
    const now = ++this.operations;
    if (now - entry.refreshed > this.capacity / 4) {
      entry.refreshed = now;
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return facts;
  }

  /** Keeps what a read of the store gave (merged with what was held: another FETCH may have read more). */
  put(mailboxId: string, uidvalidity: number, row: ImapMessageRow): void {
    const key = MessageCache.key(mailboxId, uidvalidity, row.uid);
    const held = this.entries.get(key)?.facts;
    const { uid: _uid, modseq: _modseq, flags: _flags, search, ...facts } = row;
    this.entries.delete(key);
    // A row read without ENVELOPE, BODYSTRUCTURE or the SEARCH columns has no such key: what was held
    // of them stays.
    this.entries.set(key, {
      facts: {
        ...held,
        ...facts,
        ...(search === undefined
          ? {}
          : { summary: searchLength(search) > MAX_SEARCH_FACTS_CHARS ? null : search }),
      },
      refreshed: ++this.operations,
    });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}

function searchLength(search: ImapSearchFacts): number {
  return Object.values(search).reduce((sum: number, value) => sum + (value?.length ?? 0), 0);
}
