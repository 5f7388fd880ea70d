import type { Readable } from 'node:stream';

/**
 * The blob port: message bodies, content-addressed by SHA-256 (hex, lowercase), so the same
 * bytes stored twice are one blob. Adapters: S3 (@aws-sdk/client-s3) and filesystem.
 * One contract suite (test/contract.ts) runs against both.
 */
export interface StoredBlob {
  /** The blob's key: its SHA-256 in lowercase hex. */
  key: string;
  sha256: string;
  size: number;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive (HTTP Range semantics). Omitted: to the end. */
  end?: number;
}

export interface PutOptions {
  /** Refuse (and store nothing) when the stream exceeds this many bytes: BlobTooLargeError. */
  maxBytes?: number;
}

export interface BlobStore {
  readonly kind: 's3' | 'fs';
  /**
   * Streams `source` into the store while hashing it; never buffers the whole body.
   * Resolves only when the blob is durable under its final key. If the stream fails or is
   * too large, nothing is left under a final key.
   */
  put(source: Readable | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<StoredBlob>;
  /** Streams the blob (or a byte range of it). Rejects with BlobNotFoundError. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Size of the blob, or null when it does not exist. */
  stat(key: string): Promise<{ size: number } | null>;
  /**
   * Idempotent: deleting a missing blob is not an error. Only the blob collector deletes (libs/store
   * blob-collection.ts): a content-addressed blob may be shared by many messages.
   */
  delete(key: string): Promise<void>;
  /**
   * Every stored blob's key, as put() returned it, in no particular order; never a temporary upload.
   * A blob put or deleted while the listing runs may or may not appear.
   */
  list(): AsyncIterable<string>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class BlobNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`blob not found: ${key}`);
    this.name = 'BlobNotFoundError';
  }
}

export class BlobTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`blob exceeds ${maxBytes} bytes`);
    this.name = 'BlobTooLargeError';
  }
}
