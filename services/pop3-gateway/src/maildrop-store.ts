import type { Readable } from 'node:stream';
import { BlobNotFoundError } from '@correo/blobs';
import type { BlobStore } from '@correo/blobs';
import { MailboxChangeFeed, type Notifier } from '@correo/notify';
import { countWireOctets } from '@correo/pop3-proto';
import { expungeMessages, readPop3Maildrop, recordPop3Octets } from '@correo/store';
import type { ExpungeResult, Pool } from '@correo/store';
import type { Logger } from '@correo/telemetry';

export interface MaildropEntry {
  uid: number;
  blobKey: string;
  /** What RETR sends before dot-stuffing: the size LIST and STAT report. */
  octets: number;
}

export interface MaildropContents {
  mailboxId: string;
  uidvalidity: number;
  /** Ascending UID order. */
  messages: MaildropEntry[];
}

/** What a POP3 session needs from the backends; sessions never touch SQL or blobs directly. */
export interface MaildropStore {
  /** The account's INBOX as it is now. */
  open(accountId: string): Promise<MaildropContents>;
  /** Rejects with BlobNotFoundError when the body is gone. */
  read(blobKey: string): Promise<Readable>;
  /** UPDATE state: removes the messages as an IMAP expunge does and tells other sessions. */
  expunge(accountId: string, mailboxId: string, uids: readonly number[]): Promise<ExpungeResult>;
}

export interface MaildropStoreDeps {
  pool: Pool;
  blobs: BlobStore;
  notifier: Notifier;
  logger: Logger;
}

/** Blobs read at once when a login finds messages whose POP3 size was never computed. */
const OCTET_COUNT_CONCURRENCY = 8;

export function createMaildropStore(deps: MaildropStoreDeps): MaildropStore {
  const { pool, blobs, notifier, logger } = deps;
  const writer = { pool, changes: new MailboxChangeFeed(notifier, logger) };

  async function octetsOf(blobKey: string): Promise<number | null> {
    try {
      return await countWireOctets(await blobs.get(blobKey));
    } catch (error) {
      // Listing must not fail for one lost body; RETR of it answers -ERR.
      if (error instanceof BlobNotFoundError) {
        logger.error({ blobKey }, 'message body missing from the blob store');
        return null;
      }
      throw error;
    }
  }

  return {
    async open(accountId) {
      const snapshot = await readPop3Maildrop(pool, accountId);
      const unknown = [...new Set(snapshot.messages.filter((m) => m.octets === null).map((m) => m.blobKey))];
      const counted = new Map<string, number>();
      for (let i = 0; i < unknown.length; i += OCTET_COUNT_CONCURRENCY) {
        const batch = unknown.slice(i, i + OCTET_COUNT_CONCURRENCY);
        const results = await Promise.all(batch.map((key) => octetsOf(key)));
        batch.forEach((key, j) => {
          const octets = results[j];
          if (octets !== null && octets !== undefined) counted.set(key, octets);
        });
      }
      await recordPop3Octets(
        pool,
        [...counted].map(([blobKey, octets]) => ({ blobKey, octets })),
      );
      return {
        mailboxId: snapshot.mailboxId,
        uidvalidity: snapshot.uidvalidity,
        messages: snapshot.messages.map((m) => ({
          uid: m.uid,
          blobKey: m.blobKey,
          octets: m.octets ?? counted.get(m.blobKey) ?? m.size,
        })),
      };
    },

    read(blobKey) {
      return blobs.get(blobKey);
    },

    async expunge(accountId, mailboxId, uids) {
      return expungeMessages(writer, { accountId, mailboxId, uids });
    },
  };
}
