import { Readable } from 'node:stream';
import { BlobNotFoundError } from '@correo/blobs';
import { countWireOctets } from '@correo/pop3-proto';
import type { ExpungeResult } from '@correo/store';
import type { MaildropContents, MaildropStore } from '../../src/maildrop-store.js';

interface StoredMessage {
  uid: number;
  blobKey: string;
}

/**
 * MaildropStore in memory, keeping its contract as the Postgres one does: INBOX in ascending UID
 * order with the octets RETR sends, bodies by blob key (BlobNotFoundError when gone), and an expunge
 * that removes only UIDs still there and raises the MODSEQ once per change.
 */
export class MemoryMaildrop implements MaildropStore {
  readonly mailboxId = 'inbox-1';
  readonly uidvalidity = 1_700_000_000;
  private readonly inboxes = new Map<string, StoredMessage[]>();
  private readonly bodies = new Map<string, Buffer>();
  private nextUid = 1;
  private modseq = 1;
  /** Every expunge asked for, in order: what UPDATE did. */
  readonly expunges: { accountId: string; mailboxId: string; uids: number[] }[] = [];

  /** Files a message into the account's INBOX; returns its UID. */
  deliver(accountId: string, raw: string | Buffer): number {
    const uid = this.nextUid++;
    const blobKey = `blob-${uid}`;
    this.bodies.set(blobKey, Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8'));
    const inbox = this.inboxes.get(accountId) ?? [];
    inbox.push({ uid, blobKey });
    this.inboxes.set(accountId, inbox);
    return uid;
  }

  /** The body is lost from the blob store (the row stays). */
  loseBody(uid: number): void {
    this.bodies.delete(`blob-${uid}`);
  }

  uids(accountId: string): number[] {
    return (this.inboxes.get(accountId) ?? []).map((m) => m.uid);
  }

  async open(accountId: string): Promise<MaildropContents> {
    const messages = [];
    for (const { uid, blobKey } of this.inboxes.get(accountId) ?? []) {
      const body = this.bodies.get(blobKey);
      // As the Postgres store: a lost body is still listed (RETR of it answers -ERR).
      messages.push({ uid, blobKey, octets: body ? await countWireOctets([body]) : 0 });
    }
    return { mailboxId: this.mailboxId, uidvalidity: this.uidvalidity, messages };
  }

  async read(blobKey: string): Promise<Readable> {
    const body = this.bodies.get(blobKey);
    if (!body) throw new BlobNotFoundError(blobKey);
    return Readable.from([body]);
  }

  async expunge(accountId: string, mailboxId: string, uids: readonly number[]): Promise<ExpungeResult> {
    this.expunges.push({ accountId, mailboxId, uids: [...uids] });
    const inbox = this.inboxes.get(accountId) ?? [];
    const wanted = new Set(uids);
    const expunged = inbox.filter((m) => wanted.has(m.uid)).map((m) => m.uid);
    this.inboxes.set(
      accountId,
      inbox.filter((m) => !wanted.has(m.uid)),
    );
    if (expunged.length === 0) return { expunged, modseq: null };
    return { expunged, modseq: ++this.modseq };
  }
}
