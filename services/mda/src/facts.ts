import type { BlobStore } from '@correo/blobs';
import { analyzeMessage, messageSummary } from '@correo/mime';
import { timestampDate } from '@correo/proto';
import type { MailAccepted } from '@correo/proto';
import type { MessageFacts } from '@correo/store';

/**
 * Streams the blob through the MIME analyzer once; every recipient's row is built from the result,
 * so IMAP FETCH ENVELOPE/BODYSTRUCTURE, SORT, SEARCH and POP3 LIST never re-read the body.
 */
export async function readMessageFacts(blobs: BlobStore, event: MailAccepted): Promise<MessageFacts> {
  const analysis = await analyzeMessage(await blobs.get(event.blobKey));
  if (event.sha256 && analysis.sha256 !== event.sha256) {
    // Content addressing makes this impossible unless the store is corrupt: refuse rather than file it.
    throw new Error(`blob ${event.blobKey} hashes to ${analysis.sha256}, the event says ${event.sha256}`);
  }
  return {
    blobKey: event.blobKey,
    internalDate: event.receivedAt ? timestampDate(event.receivedAt) : new Date(),
    ...messageSummary(analysis),
  };
}
