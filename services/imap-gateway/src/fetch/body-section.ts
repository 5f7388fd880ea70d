import type { BlobStore } from '@correo/blobs';
import type { LiteralStream, PartialRange, Section } from '@correo/imap-proto';
import { sectionRange } from '@correo/mime';
import type { BodyStructure } from '@correo/mime';
import type { BodyCache } from '../body-cache.js';
import { filterHeaderFields } from './header-fields.js';

/** [start, end) in the blob. */
interface Span {
  start: number;
  end: number;
}

/** Reads [start, end) of a blob with one ranged GET; the blob store streams it. */
export async function readSpan(blobs: BlobStore, key: string, span: Span): Promise<Buffer> {
  if (span.end <= span.start) return Buffer.alloc(0);
  const stream = await blobs.get(key, { start: span.start, end: span.end - 1 });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The blob span of a section (HEADER.FIELDS reads the HEADER span), or null when the message has none. */
function sectionSpan(structure: BodyStructure | null, size: number, section: Section): Span | null {
  const text =
    section.text === 'HEADER.FIELDS' || section.text === 'HEADER.FIELDS.NOT' ? 'HEADER' : section.text;
  if (section.part.length === 0 && text === null) return { start: 0, end: size };
  if (!structure) return null;
  return sectionRange(structure, section.part, text ?? undefined);
}

function clip(data: Buffer, partial: PartialRange | null): Buffer {
  if (!partial) return data;
  return data.subarray(
    Math.min(partial.offset, data.length),
    Math.min(partial.offset + partial.length, data.length),
  );
}

/**
 * Sections up to this size are read into memory (one write with the rest of the response); larger
 * ones are streamed from the blob store to the socket, so a FETCH holds at most this much per body.
 */
export const STREAM_SECTIONS_FROM = 64 * 1024;

/**
 * The bytes of BODY[section]<partial>. Only the bytes asked for are read: a partial of a plain
 * section is one ranged read of exactly that slice. A section the message lacks is an empty string.
 * Spans past STREAM_SECTIONS_FROM come back as a LiteralStream the connection pipes with backpressure.
 * A small message's sections come from its whole body, held in `bodies` (read whole once).
 */
export async function readSection(
  blobs: BlobStore,
  message: { blobKey: string; size: number; structure: BodyStructure | null },
  section: Section,
  partial: PartialRange | null,
  bodies?: BodyCache,
): Promise<Buffer | LiteralStream> {
  const span = sectionSpan(message.structure, message.size, section);
  if (!span) return Buffer.alloc(0);
  const whole = await bodies?.whole(blobs, message.blobKey, message.size);
  const read = (wanted: Span) =>
    whole
      ? Promise.resolve(whole.subarray(Math.min(wanted.start, wanted.end), wanted.end))
      : readSpan(blobs, message.blobKey, wanted);
  if (section.text === 'HEADER.FIELDS' || section.text === 'HEADER.FIELDS.NOT') {
    const header = await read(span);
    return clip(filterHeaderFields(header, section.fields, section.text === 'HEADER.FIELDS.NOT'), partial);
  }
  let wanted = span;
  if (partial) {
    const start = Math.min(span.start + partial.offset, span.end);
    wanted = { start, end: Math.min(start + partial.length, span.end) };
  }
  if (wanted.end - wanted.start <= STREAM_SECTIONS_FROM) return read(wanted);
  return {
    size: wanted.end - wanted.start,
    open: () => blobs.get(message.blobKey, { start: wanted.start, end: wanted.end - 1 }),
  };
}
