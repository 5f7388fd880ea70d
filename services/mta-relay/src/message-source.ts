import { Readable } from 'node:stream';
import type { BlobStore } from '@correo/blobs';
import type { SigningKey } from '@correo/dkim';
import { dkimSignatureHeader } from '@correo/dkim';
import { authorAddresses } from '@correo/mime';

const MAX_HEADER_BYTES = 256 * 1024;

/** The header section of a stored message, read from the start of its blob only. */
export async function readHeaderSection(blobs: BlobStore, blobKey: string): Promise<Buffer> {
  const stream = await blobs.get(blobKey);
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      const sofar = Buffer.concat(chunks, length);
      const end = sofar.indexOf('\r\n\r\n');
      if (end !== -1) return sofar.subarray(0, end + 2);
      if (length >= MAX_HEADER_BYTES) return sofar.subarray(0, MAX_HEADER_BYTES);
    }
    return Buffer.concat(chunks, length);
  } finally {
    stream.destroy();
  }
}

/**
 * The domain DKIM signs for: the From header's (what DMARC aligns with) when it names exactly one
 * mailbox, else the envelope sender's when there is no From at all; undefined otherwise (several or
 * unparsable authors are signed for by nobody).
 */
export function signingDomain(headers: Buffer, mailFrom: string): string | undefined {
  const authors = authorAddresses(headers);
  const address = authors.length === 0 ? mailFrom : authors.length === 1 ? authors[0]! : '';
  const at = address.lastIndexOf('@');
  return at === -1 || at === address.length - 1 ? undefined : address.slice(at + 1).toLowerCase();
}

/**
 * The bytes to send: a DKIM-Signature computed over one streamed pass of the blob, then each send
 * streams the blob again behind that header, so a large message is never held in memory.
 */
export async function signedMessage(
  blobs: BlobStore,
  blobKey: string,
  size: number,
  key: SigningKey | null,
): Promise<{ size: number; open(): Promise<Readable> }> {
  const signature = key
    ? Buffer.from(await dkimSignatureHeader(await blobs.get(blobKey), key))
    : Buffer.alloc(0);
  return {
    size: size + signature.length,
    async open() {
      const body = await blobs.get(blobKey);
      return Readable.from(
        (async function* () {
          if (signature.length > 0) yield signature;
          yield* body;
        })(),
      );
    },
  };
}
