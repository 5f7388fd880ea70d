import { pipeline } from 'node:stream';
import type { BlobStore } from '@correo/blobs';
import type { LiteralStream, PartialRange } from '@correo/imap-proto';
import { findPart, sectionRange, transferDecoder, transferDecoding } from '@correo/mime';
import type { BodyStructure } from '@correo/mime';
import { STREAM_SECTIONS_FROM, readSection } from './body-section.js';

/** BINARY of a part whose Content-Transfer-Encoding we cannot undo: NO [UNKNOWN-CTE] (RFC 3516 4.3). */
export class UnknownTransferEncodingError extends Error {
  constructor(readonly encoding: string) {
    super(`Unknown Content-Transfer-Encoding ${encoding}`);
    this.name = 'UnknownTransferEncodingError';
  }
}

interface StoredMessage {
  blobKey: string;
  size: number;
  structure: BodyStructure | null;
}

interface EncodedSpan {
  start: number;
  end: number;
  decoding: 'base64' | 'quoted-printable';
}

/** The part to decode and how; null when the content goes out as stored. */
function encodedPart(message: StoredMessage, part: number[]): EncodedSpan | null {
  if (part.length === 0 || !message.structure) return null;
  const found = findPart(message.structure, part);
  // Multiparts and message/rfc822 parts have no transfer encoding of their own to undo.
  if (!found || found.kind === 'multipart' || found.kind === 'message') return null;
  const decoding = transferDecoding(found.encoding);
  if (decoding === 'unknown') throw new UnknownTransferEncodingError(found.encoding);
  if (decoding === 'identity') return null;
  return { start: found.offsets.bodyStart, end: found.offsets.bodyEnd, decoding };
}

/** The decoded octets of the part, from `skip` on, at most `take` of them, as they are read. */
async function* decodedOctets(
  blobs: BlobStore,
  key: string,
  span: EncodedSpan,
  skip: number,
  take: number,
): AsyncIterable<Buffer> {
  if (span.end <= span.start || take <= 0) return;
  const source = await blobs.get(key, { start: span.start, end: span.end - 1 });
  const decoder = transferDecoder(span.decoding);
  pipeline(source, decoder, () => {});
  let position = 0;
  try {
    for await (const chunk of decoder as AsyncIterable<Buffer>) {
      const from = Math.max(0, skip - position);
      const to = Math.min(chunk.length, skip + take - position);
      position += chunk.length;
      if (to > from) yield chunk.subarray(from, to);
      if (position >= skip + take) return;
    }
  } finally {
    decoder.destroy();
  }
}

async function decodedSize(blobs: BlobStore, key: string, span: EncodedSpan): Promise<number> {
  let size = 0;
  for await (const chunk of decodedOctets(blobs, key, span, 0, Number.MAX_SAFE_INTEGER)) size += chunk.length;
  return size;
}

/**
 * BINARY[part]<partial> (RFC 3516): the part's content with its transfer encoding undone. The whole
 * message, multiparts, message/rfc822 parts and parts in 7bit/8bit/binary are sent as stored. Small
 * parts are decoded in memory; bigger ones are measured by a first decoding pass and then streamed
 * through the decoder a second time, so memory stays bounded whatever the attachment's size.
 */
export async function readBinarySection(
  blobs: BlobStore,
  message: StoredMessage,
  part: number[],
  partial: PartialRange | null,
): Promise<Buffer | LiteralStream> {
  const span = encodedPart(message, part);
  if (!span) return readSection(blobs, message, { part, text: null, fields: [] }, partial);
  const skip = partial?.offset ?? 0;
  const take = partial?.length ?? Number.MAX_SAFE_INTEGER;
  if (span.end - span.start <= STREAM_SECTIONS_FROM) {
    const chunks: Buffer[] = [];
    for await (const chunk of decodedOctets(blobs, message.blobKey, span, skip, take)) chunks.push(chunk);
    return Buffer.concat(chunks);
  }
  const total = await decodedSize(blobs, message.blobKey, span);
  const size = Math.max(0, Math.min(take, total - skip));
  return { size, open: async () => decodedOctets(blobs, message.blobKey, span, skip, size) };
}

/** BINARY.SIZE[part]: the octets BINARY[part] would send. */
export async function binarySectionSize(
  blobs: BlobStore,
  message: StoredMessage,
  part: number[],
): Promise<number> {
  const span = encodedPart(message, part);
  if (span) return decodedSize(blobs, message.blobKey, span);
  if (part.length === 0) return message.size;
  const range = message.structure && sectionRange(message.structure, part);
  return range ? range.end - range.start : 0;
}
