import {
  existsResponse,
  expungeResponse,
  fetchResponse,
  flagsResponse,
  recentResponse,
  resolveSequenceSet,
  untaggedStatus,
  vanishedResponse,
} from '@correo/imap-proto';
import type { FetchItem, SequenceSet } from '@correo/imap-proto';
import { claimImapRecent, readImapChanges } from '@correo/store';
import type { ImapMailboxChanges, ImapMailboxSnapshot, ImapMessageState, Pool } from '@correo/store';
import type { UpdateContext } from './search-contexts.js';

/** The system flags every mailbox has (\\Recent is not stored, so not among them). */
export const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

export interface ViewReportOptions {
  /** RFC 9051 7.5.1: no EXPUNGE while answering FETCH, STORE or SEARCH (their UID forms are fine). */
  expungesAllowed: boolean;
  /** CONDSTORE is on: flag updates carry MODSEQ. */
  condstore: boolean;
  /** QRESYNC is on: expunges are reported as VANISHED. */
  qresync: boolean;
  /** An IMAP4rev1 session: EXISTS updates come with `* n RECENT`. */
  recent: boolean;
}

/**
 * The selected mailbox as this session has told the client about it: the message-number <-> UID map,
 * each message's flags and MODSEQ, and what changed in the store since (found on refresh) but was
 * not reported yet. Message numbers only change when report() sends the EXPUNGEs, so commands that
 * arrive in between still address the messages the client means.
 */
export class MailboxView {
  /** UIDs in message-number order (number = index + 1), including expunged-but-unreported ones. */
  private uids: number[];
  private readonly messages = new Map<number, ImapMessageState>();
  /** Gone from the store, not yet reported. */
  private readonly expunged = new Set<number>();
  /** Flags changed by others, not yet reported. */
  private readonly flagChanges = new Set<number>();
  /** The keywords the client was told of in FLAGS: a message showing another one needs FLAGS first. */
  private readonly knownKeywords: Set<string>;
  /** Keywords refresh found that the client was not told of yet. */
  private readonly unannouncedKeywords = new Set<string>();
  /**
   * The messages that are \Recent for this session (RFC 3501 2.3.2): claimed in the store by SELECT
   * or by a refresh, or, in a read-only (EXAMINE) view, not claimed by anyone yet. Never stored as a
   * flag; empty for IMAP4rev2 sessions, which have no \Recent.
   */
  private recent = new Set<number>();
  /** UIDs this session claimed as \Recent with its APPEND, recent once a re-read brings them in. */
  private readonly claimedAhead = new Set<number>();
  /** Messages added by refresh, not yet reported with EXISTS. */
  private unreportedExists = false;
  /**
   * The SEARCHRES result variable "$" (RFC 5182), ascending UIDs. It lives with the view, so a new
   * SELECT or EXAMINE starts it empty and CLOSE or UNSELECT drop it; expunged messages leave it.
   */
  private saved: number[] = [];
  /** Everything up to this MODSEQ has been read from the store. */
  private syncedModseq: number;
  /**
   * Counts changes to what the view holds (arrivals, flags, expunges, the session's own STORE): the
   * SEARCH / SORT RETURN (UPDATE) contexts (RFC 5267) are re-evaluated when it moved past theirs.
   */
  generation = 0;
  /** SEARCH / SORT RETURN (UPDATE) results kept updated, by the tag of their command; dropped with the view. */
  readonly updateContexts = new Map<string, UpdateContext>();
  uidnext: number;

  constructor(
    readonly mailboxId: string,
    readonly name: string,
    readonly readOnly: boolean,
    readonly uidvalidity: number,
    snapshot: ImapMailboxSnapshot,
    keywords: readonly string[],
  ) {
    this.knownKeywords = new Set(keywords);
    this.uids = snapshot.messages.map((m) => m.uid);
    for (const m of snapshot.messages) this.messages.set(m.uid, m);
    this.syncedModseq = snapshot.highestmodseq;
    this.uidnext = snapshot.uidnext;
  }

  /** The HIGHESTMODSEQ this view has read up to. */
  get highestModseq(): number {
    return this.syncedModseq;
  }

  get exists(): number {
    return this.uids.length;
  }

  /** The message number of `uid`, or 0 when the view does not hold it. */
  numberOf(uid: number): number {
    const index = this.lowerBound(uid);
    return this.uids[index] === uid ? index + 1 : 0;
  }

  /** The UID, flags and MODSEQ the view holds for `uid` (as last read or set by this session). */
  stateOf(uid: number): ImapMessageState | undefined {
    return this.messages.get(uid);
  }

  /** Held and not known to be expunged. */
  isLive(uid: number): boolean {
    return this.messages.has(uid) && !this.expunged.has(uid);
  }

  /** The UID, flags and MODSEQ of every message held and not known to be expunged, in UID order. */
  liveStates(): ImapMessageState[] {
    // A loop, not flatMap: SEARCH and SELECT walk the whole mailbox with it, and an array per message
    // showed in the IMAP benchmark's profile.
    const states: ImapMessageState[] = [];
    for (const uid of this.uids) {
      const state = this.expunged.has(uid) ? undefined : this.messages.get(uid);
      if (state) states.push(state);
    }
    return states;
  }

  /** The UIDs held, not known to be expunged, whose flags (as the view holds them) include `flag`. */
  liveUidsFlagged(flag: string): number[] {
    return this.uids.filter((uid) => !this.expunged.has(uid) && this.messages.get(uid)?.flags.includes(flag));
  }

  get largestUid(): number {
    return this.uids[this.uids.length - 1] ?? 0;
  }

  /** Saves the result of SEARCH RETURN (SAVE) for "$"; UIDs, whichever form the SEARCH took. */
  saveSearchResult(uids: readonly number[]): void {
    this.saved = [...new Set(uids)].sort((a, b) => a - b);
  }

  /**
   * The UIDs (ascending) a sequence set names: message numbers, or UIDs when `byUid`. "$" names the
   * saved UIDs in either form: they are turned into message numbers only when the answer is written.
   */
  resolve(set: SequenceSet, byUid: boolean): number[] {
    if (set.kind === 'saved') return this.saved.filter((uid) => this.messages.has(uid));
    const out: number[] = [];
    if (!byUid) {
      for (const [low, high] of resolveSequenceSet(set, this.uids.length)) {
        for (const uid of this.uids.slice(low - 1, high)) out.push(uid);
      }
      return out;
    }
    // "*" in a UID set is the largest UID in the mailbox; with none, "n:*" still means n (RFC 9051 6.4.8).
    const largest = this.largestUid;
    const ranges = set.ranges.map(({ start, end }) => ({
      start: start === '*' ? Math.max(largest, 1) : start,
      end: end === '*' ? Math.max(largest, 1) : end,
    }));
    for (const [low, high] of resolveSequenceSet({ ranges }, largest)) {
      for (const uid of this.uids.slice(this.lowerBound(low), this.lowerBound(high + 1))) out.push(uid);
    }
    return out;
  }

  /** [low, high] UID ranges of a UID set or "$", "*" as the largest UID (for store queries over all UIDs). */
  uidRanges(set: SequenceSet): Array<[number, number]> {
    // Merged into runs, so the store query gets a few ranges rather than one per saved message.
    if (set.kind === 'saved')
      return resolveSequenceSet({ ranges: this.saved.map((uid) => ({ start: uid, end: uid })) }, 0);
    const largest = Math.max(this.largestUid, this.uidnext - 1, 1);
    return resolveSequenceSet(set, largest);
  }

  /** The index of the first UID >= `uid` (uids.length when none is). */
  private lowerBound(uid: number): number {
    let low = 0;
    let high = this.uids.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      const at = this.uids[mid];
      if (at !== undefined && at < uid) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Marks the messages of UIDs [from, to) recent for this session (a claim, or unclaimed in EXAMINE). */
  markRecent(from: number, to: number): void {
    for (const uid of this.uids.slice(this.lowerBound(from), this.lowerBound(to))) this.recent.add(uid);
  }

  /** The recent UIDs from `from` up, ascending. */
  recentFrom(from: number): number[] {
    return [...this.recent].filter((uid) => uid >= from).sort((a, b) => a - b);
  }

  /**
   * What SELECT would read from the store, from what this view holds (it must be up to date: see
   * Session.catchUp): the messages not expunged, their keywords, and no UID left unclaimed as \Recent.
   */
  reopened(): ImapMailboxSnapshot {
    const messages = this.liveStates();
    const keywords = new Set<string>();
    for (const { flags } of messages)
      for (const flag of flags) if (!flag.startsWith('\\')) keywords.add(flag);
    return {
      uidvalidity: this.uidvalidity,
      uidnext: this.uidnext,
      highestmodseq: this.syncedModseq,
      firstRecentUid: this.uidnext,
      messages,
      keywords: [...keywords].sort(),
    };
  }

  /** ENABLE IMAP4rev2 while selected: the session has no \Recent from now on. */
  forgetRecent(): void {
    this.recent.clear();
  }

  get recentCount(): number {
    return this.recent.size;
  }

  /** The recent UIDs as [low, high] ranges (SEARCH RECENT, NEW and OLD). */
  recentRanges(): Array<[number, number]> {
    return resolveSequenceSet(
      { ranges: [...this.recent].sort((a, b) => a - b).map((uid) => ({ start: uid, end: uid })) },
      0,
    );
  }

  /** A message's flags as the client sees them: the stored ones, plus \Recent when it is this session's. */
  shownFlags(uid: number, flags: string[]): string[] {
    return this.recent.has(uid) ? [...flags, '\\Recent'] : flags;
  }

  /** Records flags this session itself set (already reported to the client by STORE or FETCH). */
  noteOwnFlags(states: ImapMessageState[]): void {
    if (states.length) this.generation++;
    for (const s of states) {
      if (this.messages.has(s.uid)) {
        this.messages.set(s.uid, s);
        this.flagChanges.delete(s.uid);
      }
    }
  }

  /**
   * The session's own write got MODSEQ `modseq` and the view already holds its effect (noteOwnFlags,
   * markExpunged). When nothing else changed the mailbox in between (every change takes the next
   * MODSEQ under the account lock, so `modseq` follows the view's directly), the view is up to date
   * to it: the notification of that write, echoed back to this session, then asks for no re-read.
   */
  noteOwnChange(modseq: number | null | undefined): void {
    if (modseq != null && modseq === this.syncedModseq + 1) this.syncedModseq = modseq;
  }

  /**
   * Messages this session APPENDed to this mailbox, as stored (UIDs, one MODSEQ, flags): held and
   * reported with the next EXISTS without a re-read, when nothing else changed the mailbox since the
   * view's last read (the APPEND took the next MODSEQ and the next UID). False otherwise: re-read.
   */
  noteOwnAppend(
    uids: readonly number[],
    modseq: number,
    flags: readonly string[][],
    recent: boolean,
  ): boolean {
    if (modseq !== this.syncedModseq + 1 || uids[0] !== this.uidnext) return false;
    for (const [i, uid] of uids.entries()) {
      const state = { uid, modseq, flags: [...flags[i]!] };
      for (const flag of state.flags) {
        if (!flag.startsWith('\\') && !this.knownKeywords.has(flag)) this.unannouncedKeywords.add(flag);
      }
      this.uids.push(uid);
      this.messages.set(uid, state);
      if (recent) this.recent.add(uid);
    }
    this.unreportedExists = true;
    this.generation++;
    this.syncedModseq = modseq;
    this.uidnext = uids[uids.length - 1]! + 1;
    return true;
  }

  /** UIDs this session claimed as \Recent (its APPEND) that the view does not hold yet. */
  noteClaimedAhead(uids: readonly number[]): void {
    for (const uid of uids) this.claimedAhead.add(uid);
  }

  /** Marks messages this session expunged itself; expungeResponses() then reports them. */
  markExpunged(uids: number[]): void {
    for (const uid of uids) if (this.messages.has(uid)) this.expunged.add(uid);
    if (uids.length) this.generation++;
  }

  /** Expunges found but not yet reported to the client (message numbers are still the old ones). */
  get expungesPending(): boolean {
    return this.expunged.size > 0;
  }

  private takeExpunged(): { numbers: number[]; uids: number[] } {
    const uids = [...this.expunged].sort((a, b) => a - b);
    // Descending, so each number is still right when the client reads it.
    const numbers = uids.map((uid) => this.numberOf(uid)).reverse();
    const gone = new Set(uids);
    this.uids = this.uids.filter((uid) => !gone.has(uid));
    for (const uid of uids) {
      this.messages.delete(uid);
      this.flagChanges.delete(uid);
      this.recent.delete(uid);
    }
    if (this.saved.length) this.saved = this.saved.filter((uid) => !gone.has(uid));
    this.expunged.clear();
    return { numbers, uids };
  }

  /**
   * Reads what changed in the store since the last refresh. False when the mailbox is gone.
   * `trackRecent` (IMAP4rev1 sessions): new messages no other session claimed first become this
   * session's \Recent ones, claimed in the store unless the view is read-only. `sharedAfter`: the
   * MODSEQ the session heard of, to share the read with other views that heard the same (see
   * readChangesShared); undefined for a read of its own.
   */
  async refresh(pool: Pool, accountId: string, trackRecent = false, sharedAfter?: number): Promise<boolean> {
    const changes =
      sharedAfter === undefined
        ? await readImapChanges(pool, accountId, this.mailboxId, this.syncedModseq)
        : await readChangesShared(pool, accountId, this.mailboxId, this.syncedModseq, sharedAfter);
    if (!changes || changes.uidvalidity !== this.uidvalidity) return false;
    const uidnextBefore = this.uidnext;
    for (const uid of changes.expunged) if (this.messages.has(uid)) this.expunged.add(uid);
    const largest = this.largestUid;
    for (const shared of changes.changed) {
      for (const flag of shared.flags) {
        if (!flag.startsWith('\\') && !this.knownKeywords.has(flag)) this.unannouncedKeywords.add(flag);
      }
      // The changes may be shared with other views (readChangesShared): each keeps its own copy.
      const state = { ...shared };
      const known = this.messages.get(state.uid);
      if (known) {
        if (!sameFlags(known.flags, state.flags)) this.flagChanges.add(state.uid);
        this.messages.set(state.uid, state);
      } else if (state.uid > largest) {
        this.uids.push(state.uid);
        this.messages.set(state.uid, state);
        this.unreportedExists = true;
        if (this.claimedAhead.delete(state.uid)) this.recent.add(state.uid);
      }
    }
    if (changes.changed.length || changes.expunged.length) this.generation++;
    this.syncedModseq = Math.max(this.syncedModseq, changes.highestmodseq);
    this.uidnext = changes.uidnext;
    if (trackRecent && changes.uidnext > uidnextBefore) {
      if (this.readOnly) this.markRecent(Math.max(changes.firstRecentUid, uidnextBefore), changes.uidnext);
      else if (changes.firstRecentUid < changes.uidnext) {
        const claimed = await claimRecentOnce(pool, accountId, this.mailboxId, changes);
        this.markRecent(claimed.from, claimed.to);
      }
    }
    return true;
  }

  /** The untagged responses for everything refreshed but unreported, in an order that keeps numbers right. */
  report(options: ViewReportOptions): Buffer[] {
    const out: Buffer[] = this.announceKeywords([[...this.unannouncedKeywords]]);
    this.unannouncedKeywords.clear();
    if (options.expungesAllowed && this.expunged.size) out.push(...this.expungeResponses(options.qresync));
    if (this.unreportedExists) {
      out.push(existsResponse(this.uids.length));
      if (options.recent) out.push(recentResponse(this.recent.size));
      this.unreportedExists = false;
    }
    for (const uid of [...this.flagChanges].sort((a, b) => a - b)) {
      const n = this.numberOf(uid);
      const state = this.messages.get(uid);
      if (!n || !state || this.expunged.has(uid)) continue;
      const items: FetchItem[] = [
        { item: 'UID', uid },
        { item: 'FLAGS', flags: this.shownFlags(uid, state.flags) },
      ];
      if (options.condstore) items.push({ item: 'MODSEQ', modseq: state.modseq });
      out.push(fetchResponse(n, items));
    }
    this.flagChanges.clear();
    return out;
  }

  /**
   * `* FLAGS` and `* OK [PERMANENTFLAGS]` again when these flags bring a keyword the client was not told
   * of (RFC 9051 7.3.5): clients drop flags they never saw in FLAGS. Empty when nothing is new; to be
   * written before the FETCH responses that show them.
   */
  announceKeywords(flagLists: Iterable<readonly string[]>): Buffer[] {
    let added = false;
    for (const flags of flagLists) {
      for (const flag of flags) {
        if (flag.startsWith('\\') || this.knownKeywords.has(flag)) continue;
        this.knownKeywords.add(flag);
        added = true;
      }
    }
    if (!added) return [];
    const flags = [...SYSTEM_FLAGS, ...this.knownKeywords];
    return [
      flagsResponse(flags),
      untaggedStatus('OK', this.readOnly ? 'No permanent flags' : 'Flags permitted', {
        code: 'PERMANENTFLAGS',
        flags: this.readOnly ? [] : [...flags, '\\*'],
      }),
    ];
  }

  /** EXPUNGE (or VANISHED) responses for the pending expunges, removing them from the view. */
  expungeResponses(qresync: boolean): Buffer[] {
    const { numbers, uids } = this.takeExpunged();
    if (uids.length === 0) return [];
    if (qresync) return [vanishedResponse(uids, false)];
    return numbers.map((n) => expungeResponse(n));
  }
}

/** Reads in flight, per pool, by mailbox, MODSEQ read up to and MODSEQ heard of. */
const readsInFlight = new WeakMap<Pool, Map<string, Promise<ImapMailboxChanges | null>>>();

/**
 * readImapChanges, one query for every view of this process that asks the same question at the same
 * time: a delivery wakes all sessions of the mailbox at once (100 on one account in bench-imap-idle),
 * and each would otherwise send the same query and queue for the same pool. A view joins only a read
 * asked for with the same MODSEQs, so the read it joins began after the notification it heard (whoever
 * asked had heard it too): it cannot miss that change.
 */
function readChangesShared(
  pool: Pool,
  accountId: string,
  mailboxId: string,
  since: number,
  heardModseq: number,
): Promise<ImapMailboxChanges | null> {
  let reads = readsInFlight.get(pool);
  if (!reads) readsInFlight.set(pool, (reads = new Map()));
  const key = `${accountId}/${mailboxId}/${since}/${heardModseq}`;
  const inFlight = reads.get(key);
  if (inFlight) return inFlight;
  const read = readImapChanges(pool, accountId, mailboxId, since).finally(() => reads.delete(key));
  reads.set(key, read);
  return read;
}

/** \Recent claims in flight, per pool, by mailbox, first unclaimed UID and UIDNEXT. */
const claimsInFlight = new WeakMap<Pool, Set<string>>();

/**
 * claimImapRecent, once per process for one range: when a delivery wakes every session of a mailbox,
 * all of them read the same unclaimed range, and only one can win it. The first of this process asks
 * the store (and retries until the range is claimed by it or by another pod's session); the others
 * claim nothing at once, without a query, as they would have lost the compare-and-set anyway.
 */
async function claimRecentOnce(
  pool: Pool,
  accountId: string,
  mailboxId: string,
  changes: ImapMailboxChanges,
): Promise<{ from: number; to: number }> {
  let claims = claimsInFlight.get(pool);
  if (!claims) claimsInFlight.set(pool, (claims = new Set()));
  const key = `${accountId}/${mailboxId}/${changes.firstRecentUid}/${changes.uidnext}`;
  if (claims.has(key)) return { from: changes.uidnext, to: changes.uidnext };
  claims.add(key);
  try {
    return await claimImapRecent(pool, accountId, mailboxId, changes.uidnext, changes.firstRecentUid);
  } finally {
    claims.delete(key);
  }
}

function sameFlags(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((flag) => set.has(flag));
}
