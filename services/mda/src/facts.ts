import type { BlobStore } from '@correo/blobs';
import { addressListText, analyzeMessage } from '@correo/mime';
import type { AddressEntry } from '@correo/mime';
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
  const { headers } = analysis;
  return {
    blobKey: event.blobKey,
    sha256: analysis.sha256,
    size: analysis.size,
    internalDate: event.receivedAt ? timestampDate(event.receivedAt) : new Date(),
    subject: headers.subject,
    from: addressList(headers.from),
    to: addressList(headers.to),
    cc: addressList(headers.cc),
    messageId: headers.messageId,
    date: headers.date,
    inReplyTo: headers.inReplyTo,
    envelope: analysis.envelope,
    bodystructure: analysis.bodystructure,
    searchText: analysis.searchText,
  };
}

/** Decoded `Name <mailbox>` entries, as the summary columns hold them; null when the field is empty. */
function addressList(entries: AddressEntry[]): string | null {
  const text = addressListText(entries);
  return text === '' ? null : text;
}
