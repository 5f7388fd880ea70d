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
 * COMPRESS=DEFLATE (RFC 4978 4): raw deflate both ways, each reply flushed with Z_SYNC_FLUSH. Level 6 and
 * a 32 KiB window, zlib's defaults. An inflated chunk is bounded by zlib's chunk size (16 KiB): the
 * connection pauses `inbound` with the socket, so a small compressed burst cannot flood the framer.
 */
export function deflateLayer(): StreamLayer {
  const outbound = createDeflateRaw();
  return {
    inbound: createInflateRaw(),
    outbound,
    flush: (done) => outbound.flush(constants.Z_SYNC_FLUSH, done),
  };
}
