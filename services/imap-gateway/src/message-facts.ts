import { Readable } from 'node:stream';
import type { BlobStore } from '@correo/blobs';
import { analyzeMessage, messageSummary } from '@correo/mime';
import type { MessageFacts } from '@correo/store';

/**
 * Stores an APPENDed message as smtp-ingress and the mda store a delivery: the blob first (content
 * addressed), then the facts one MIME pass gives, summarised the same way (messageSummary).
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
  return { blobKey: blob.key, internalDate, ...messageSummary(analysis) };
}
