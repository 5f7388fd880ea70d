import type { BlobStore } from '@correo/blobs';

/** Octets of message bodies one gateway process keeps in memory. */
export const BODY_CACHE_BYTES = 32 * 1024 * 1024;
/** The largest body kept: a FETCH of a bigger one reads (or streams) only the span it asked for. */
export const BODY_CACHE_LARGEST = 64 * 1024;

/**
 * Small message bodies by blob key, shared by every session of the gateway process, least recently
 * used out first, at most BODY_CACHE_BYTES. A key names its bytes (SHA-256, content addressed), so an
 * entry is never stale. Filled by APPEND (the bytes were just received) and by the first FETCH that
 * reads a body; a FETCH of a held body then needs no file open nor statement (with small bodies in
 * PostgreSQL, message_bodies, a file store's miss cost both). Dovecot gets the same from the page
 * cache of its mail files.
 */
export class BodyCache {
  private readonly entries = new Map<string, Buffer>();
  private held = 0;

  constructor(
    private readonly capacity = BODY_CACHE_BYTES,
    readonly largest = BODY_CACHE_LARGEST,
  ) {}

  /** Octets held now. */
  get bytes(): number {
    return this.held;
  }

  get(key: string): Buffer | undefined {
    const bytes = this.entries.get(key);
    if (!bytes) return undefined;
    // Most recently used last: Map keeps insertion order.
    this.entries.delete(key);
    this.entries.set(key, bytes);
    return bytes;
  }

  /** Keeps a copy of `bytes` (never a view into a bigger buffer it would keep alive). */
  put(key: string, bytes: Uint8Array): void {
    if (bytes.byteLength > this.largest || this.entries.has(key)) return;
    // Memory of its own (Buffer.from would take a slice of a shared pool slab for small ones).
    const copy = Buffer.allocUnsafeSlow(bytes.byteLength);
    copy.set(bytes);
    this.entries.set(key, copy);
    this.held += bytes.byteLength;
    while (this.held > this.capacity) {
      const [oldest, evicted] = this.entries.entries().next().value!;
      this.entries.delete(oldest);
      this.held -= evicted.byteLength;
    }
  }

  /**
   * The whole body of a message of `size` octets, from memory or read once from `blobs` and kept;
   * undefined when it is too big to keep (the caller reads only its span).
   */
  async whole(blobs: BlobStore, key: string, size: number): Promise<Buffer | undefined> {
    if (size > this.largest) return undefined;
    const held = this.get(key);
    if (held) return held;
    const chunks: Buffer[] = [];
    for await (const chunk of await blobs.get(key)) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    this.put(key, bytes);
    return bytes;
  }
}
