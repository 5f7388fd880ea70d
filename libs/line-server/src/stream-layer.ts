import type { Transform } from 'node:stream';
import { constants, createDeflateRaw, createInflateRaw } from 'node:zlib';

/**
 * A layer both directions of a connection pass through once a session turned it on (IMAP COMPRESS,
 * RFC 4978; any protocol may add one): the octets from the wire go through `inbound` before the
 * framer reads them, the session's writes through `outbound` before they reach the wire.
 */
export interface StreamLayer {
  readonly inbound: Transform;
  readonly outbound: Transform;
  /** Pushes out all `outbound` holds, so the client can read the reply in full before it answers. */
  flush(done: () => void): void;
}

/**
 * COMPRESS=DEFLATE (RFC 4978 4): raw deflate both ways, each reply flushed with Z_SYNC_FLUSH. Inflating
 * takes any window the client chose (up to 32 KiB); our deflate uses an 8 KiB window and memLevel 6,
 * some 64 KiB of zlib state instead of the default 256 KiB, since every compressed connection holds
 * it for its life (RFC 4978 4 allows a smaller window). An inflated chunk is bounded by zlib's chunk
 * size (16 KiB) and the connection pauses `inbound` with the socket, so a small compressed burst
 * cannot flood the framer.
 */
export function deflateLayer(): StreamLayer {
  const outbound = createDeflateRaw({ windowBits: 13, memLevel: 6 });
  return {
    inbound: createInflateRaw(),
    outbound,
    flush: (done) => outbound.flush(constants.Z_SYNC_FLUSH, done),
  };
}
