import { Readable } from 'node:stream';
import type { BlobStore } from '@correo/blobs';
import { addressListText, analyzeMessage } from '@correo/mime';
import type { AddressEntry } from '@correo/mime';
import type { MessageFacts } from '@correo/store';

/**
 * Stores an APPENDed message as smtp-ingress and the mda store a delivery: the blob first (content
 * addressed), then the facts one MIME pass gives, in the shape the mda's readMessageFacts builds.
 */
export async function storeAppendedMessage(
  blobs: BlobStore,
  content: Buffer,
  internalDate: Date,
  maxBytes: number,
): Promise<MessageFacts> {
  const [blob, analysis] = await Promise.all([
    blobs.put(Readable.from([content]), { maxBytes }),
    analyzeMessage(Readable.from([content])),
  ]);
  const { headers } = analysis;
  return {
    blobKey: blob.key,
    sha256: analysis.sha256,
    size: analysis.size,
    internalDate,
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

function addressList(entries: AddressEntry[]): string | null {
  const text = addressListText(entries);
  return text === '' ? null : text;
}
