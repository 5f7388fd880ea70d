import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { BlobTooLargeError } from './port.js';

/**
 * Passes bytes through while hashing (SHA-256) and counting them, so a body is addressed by
 * its content without ever being held whole in memory. Fails the stream with
 * BlobTooLargeError as soon as the count passes maxBytes.
 */
export class DigestMeter extends Transform {
  private readonly hash = createHash('sha256');
  private count = 0;

  constructor(private readonly maxBytes?: number) {
    super();
  }

  override _transform(
    chunk: Buffer | Uint8Array | string,
    _encoding: BufferEncoding,
    done: TransformCallback,
  ) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.count += bytes.byteLength;
    if (this.maxBytes !== undefined && this.count > this.maxBytes) {
      done(new BlobTooLargeError(this.maxBytes));
      return;
    }
    this.hash.update(bytes);
    done(null, bytes);
  }

  /** Only meaningful once the stream has ended. */
  result(): { sha256: string; size: number } {
    return { sha256: this.hash.digest('hex'), size: this.count };
  }
}
