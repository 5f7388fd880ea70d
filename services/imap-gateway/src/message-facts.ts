import { PassThrough, Readable } from 'node:stream';
import type { Writable } from 'node:stream';
import type { BlobStore, StoredBlob } from '@correo/blobs';
import type { LiteralSink } from '@correo/imap-proto';
import { analyzeMessage, messageSummary } from '@correo/mime';
import type { MessageAnalysis } from '@correo/mime';
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
  return facts(blob, analysis, internalDate);
}

/**
 * The facts of an APPENDed message whose body the APPEND's statement keeps in PostgreSQL (small and
 * held in memory: IMAP_DATABASE_BODY_BYTES): the MIME pass only, no blob. Its key is the SHA-256 the
 * pass computes, the name the blob store would have given it (content addressed).
 */
export async function heldMessageFacts(content: Buffer, internalDate: Date): Promise<MessageFacts> {
  const analysis = await analyzeMessage(Readable.from([content]));
  return { blobKey: analysis.sha256, internalDate, ...messageSummary(analysis) };
}

function facts(blob: StoredBlob, analysis: MessageAnalysis, internalDate: Date): MessageFacts {
  return { blobKey: blob.key, internalDate, ...messageSummary(analysis) };
}

/**
 * An APPEND body stored while the client sends it (a streamed literal): the octets go to the blob
 * store and the MIME analysis as they arrive, never whole into memory.
 */
export interface StreamedUpload {
  size: number;
  /** Some octet was NUL: allowed only in a binary literal (~{n}). */
  containsNul: boolean;
  /** Settles once the last octet is stored and analysed; rejects when the upload failed or was dropped. */
  stored: Promise<{ blob: StoredBlob; analysis: MessageAnalysis }>;
}

export async function streamedMessageFacts(
  upload: StreamedUpload,
  internalDate: Date,
): Promise<MessageFacts> {
  const { blob, analysis } = await upload.stored;
  return facts(blob, analysis, internalDate);
}

/**
 * Starts a streamed upload of `size` octets. `congested` is called with a promise that settles when
 * the blob store and the analysis have taken what they were given: the connection stops reading the
 * socket until then, so a slow blob store holds the client back instead of filling memory.
 */
export function startUpload(
  blobs: BlobStore,
  size: number,
  maxBytes: number,
  congested: (drained: Promise<void>) => void,
): { sink: LiteralSink; upload: StreamedUpload } {
  const toBlob = new PassThrough();
  const toAnalysis = new PassThrough();
  const stored = Promise.all([blobs.put(toBlob, { maxBytes }), analyzeMessage(toAnalysis)]).then(
    ([blob, analysis]) => ({ blob, analysis }),
  );
  // The command may never look at it (it failed to parse, the connection dropped): no unhandled rejection.
  stored.catch(() => {});
  const upload: StreamedUpload = { size, containsNul: false, stored };
  const sink: LiteralSink = {
    write(chunk) {
      if (!upload.containsNul && chunk.includes(0)) upload.containsNul = true;
      const waits = [toBlob, toAnalysis].filter((stream) => !stream.write(chunk)).map(drained);
      if (waits.length) congested(Promise.all(waits).then(() => undefined));
    },
    end() {
      toBlob.end();
      toAnalysis.end();
    },
    abort() {
      const error = new Error('the APPEND literal was abandoned');
      toBlob.destroy(error);
      toAnalysis.destroy(error);
    },
  };
  return { sink, upload };
}

function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    stream.once('drain', resolve);
    stream.once('close', resolve);
  });
}
