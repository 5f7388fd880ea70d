import type { BlobStore } from '@correo/blobs';
import { analyzeMessage, decodeSummaryWire, messageSummary } from '@correo/mime';
import type { MessageSummary } from '@correo/mime';
import { timestampDate } from '@correo/proto';
import type { MailAccepted } from '@correo/proto';
import type { MessageFacts } from '@correo/store';

/**
 * The message's analysis as smtp-ingress made it while storing the bytes (carried in the event),
 * when it is there and describes exactly this blob; undefined otherwise (too large to carry, an
 * event from another version): then the blob is read and analysed here.
 */
export function carriedSummary(event: MailAccepted): MessageSummary | undefined {
  const summary = decodeSummaryWire(event.analysis);
  if (!summary || summary.sha256 !== event.sha256 || BigInt(summary.size) !== event.size) return undefined;
  return summary;
}

/**
 * Every recipient's row is built from one analysis, so IMAP FETCH ENVELOPE/BODYSTRUCTURE, SORT,
 * SEARCH and POP3 LIST never re-read the body; the analysis is the one carried in the event when it
 * fits, else the blob streamed through the MIME analyzer once.
 */
export async function readMessageFacts(blobs: BlobStore, event: MailAccepted): Promise<MessageFacts> {
  const summary = carriedSummary(event) ?? (await analyseBlob(blobs, event));
  return {
    blobKey: event.blobKey,
    internalDate: event.receivedAt ? timestampDate(event.receivedAt) : new Date(),
    ...summary,
  };
}

async function analyseBlob(blobs: BlobStore, event: MailAccepted): Promise<MessageSummary> {
  const analysis = await analyzeMessage(await blobs.get(event.blobKey));
  if (event.sha256 && analysis.sha256 !== event.sha256) {
    // Content addressing makes this impossible unless the store is corrupt: refuse rather than file it.
    throw new Error(`blob ${event.blobKey} hashes to ${analysis.sha256}, the event says ${event.sha256}`);
  }
  return messageSummary(analysis);
}
