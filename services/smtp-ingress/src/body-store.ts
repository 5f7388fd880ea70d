import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BlobStore, StoredBlob } from '@correo/blobs';

/**
 * Messages up to this size ride in the MailAccepted event itself (MailAccepted.body) instead of
 * going to the blob store before the 250: the event is then the one durable write of the accept
 * (one WAL flush or produce request, shared by every session through the bus's group commit),
 * where a blob file cost its fsync and its directory's fsync first, one after the other. The mda
 * stores the bytes under the same content-addressed key before it files the message. Most mail is
 * under this; the cap bounds the event (Kafka's default record limit is 1 MB) and the memory held
 * per session while DATA is read (the MX spool holds up to 256 KiB anyway).
 */
export const INLINE_BODY_MAX_BYTES = 128 * 1024; // SMTP_INLINE_BODY_BYTES's default

/** A stored message: in the blob store, or held for the event (`body`), named by the same key. */
export interface AcceptedBody {
  blob: StoredBlob;
  /** The bytes, when they ride in the event; the blob store has not seen them. */
  body?: Buffer;
}

/**
 * Reads `source` up to `inlineBytes`: a message that ends within that is returned whole with its
 * content address (its SHA-256, as the blob store would name it); a longer one is streamed into the
 * blob store (what was read first, then the rest), which resolves only when it is durable.
 */
export async function storeBody(
  blobs: BlobStore,
  source: AsyncIterable<Uint8Array>,
  options: { maxBytes: number; inlineBytes?: number },
): Promise<AcceptedBody> {
  const inlineBytes = Math.min(options.inlineBytes ?? INLINE_BODY_MAX_BYTES, options.maxBytes);
  const iterator = source[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    head.push(next.value);
    size += next.value.byteLength;
    if (size > inlineBytes || inlineBytes === 0) {
      async function* everything(): AsyncIterable<Uint8Array> {
        yield* head.splice(0);
        for (;;) {
          const more = await iterator.next();
          if (more.done) return;
          yield more.value;
        }
      }
      // The generator itself, not Readable.from(it): a Readable reads ahead up to 16 chunks, and
      // the MX spool hands over chunks of 1 MiB.
      return { blob: await blobs.put(everything(), { maxBytes: options.maxBytes }) };
    }
  }
  return heldBody(blobs, Buffer.concat(head, size));
}

/** storeBody for a message already held whole in one Buffer (the MX spool's): no stream, no copy. */
export async function storeWholeBody(
  blobs: BlobStore,
  message: Buffer,
  options: { maxBytes: number; inlineBytes?: number },
): Promise<AcceptedBody> {
  const inlineBytes = Math.min(options.inlineBytes ?? INLINE_BODY_MAX_BYTES, options.maxBytes);
  if (message.length > inlineBytes || inlineBytes === 0) {
    return { blob: await blobs.put(Readable.from([message]), { maxBytes: options.maxBytes }) };
  }
  return heldBody(blobs, message);
}

/** A body that rides in the event, named by its content address as the blob store would name it. */
async function heldBody(blobs: BlobStore, body: Buffer): Promise<AcceptedBody> {
  // An empty body would read as "not in the event" (proto3 bytes): the blob store takes it.
  if (body.length === 0) return { blob: await blobs.put(Readable.from([])) };
  const sha256 = createHash('sha256').update(body).digest('hex');
  return { blob: { key: sha256, sha256, size: body.length }, body };
}
