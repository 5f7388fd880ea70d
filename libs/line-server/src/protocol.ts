import type { Logger } from '@correo/telemetry';
import type { StreamLayer } from './stream-layer.js';

/**
 * What a line protocol (IMAP, POP3, ManageSieve) plugs into the line server: a framer that cuts the
 * client's octets into frames, and a session that answers them one at a time. Everything about the
 * socket (listeners, PROXY headers, caps, timers, TLS, backpressure, drain) is the server's.
 */
export interface LineProtocol<F> {
  /** `imap`, `pop3`, `managesieve`: the log field and the metric prefix. */
  readonly name: string;
  /** A new session for an admitted connection. */
  open(connection: LineConnectionIo<F>): LineSession<F>;
  /**
   * The last words before the server closes (IMAP `* BYE`, POP3 `-ERR`). `limit` and `shutdown` are
   * temporary ("try again later"); `timeout` is the client's doing; `protocol` a refused header.
   */
  goodbye(text: string, reason: GoodbyeReason): Buffer | string;
}

export type GoodbyeReason = 'limit' | 'shutdown' | 'timeout' | 'protocol';

/** After a frame: read the next, negotiate TLS (the session already answered "go ahead"), or hang up. */
export type LineAction = 'continue' | 'starttls' | 'close';

export interface Framer<F> {
  push(chunk: Buffer): void;
  /** The next complete frame, or null until more octets arrive. */
  next(): F | null;
  /**
   * STARTTLS: forget every octet received so far. Nothing sent before the handshake may be read as a
   * command after it (RFC 3207 / RFC 2595 4 / RFC 9051 6.2.1: the command-injection attacks).
   */
  discard(): void;
  /** A bulk transfer (an IMAP literal) is under way: it must keep the minimum transfer rate. */
  readonly receivingBulk?: boolean;
}

export interface LineSession<F> {
  readonly framer: Framer<F>;
  greeting(): Buffer | string;
  /** Answers one frame; the server reads nothing else (not even pipelined frames) meanwhile. */
  handle(frame: F): Promise<LineAction>;
  /**
   * Logged in: the pre-auth deadline stops. Read after every frame; back to false while the connection
   * stays open (ManageSieve UNAUTHENTICATE), the deadline runs again in full until the next login and
   * the user's slots (admitUser) go back.
   */
  readonly authenticated: boolean;
  /** The STARTTLS handshake completed. */
  tlsStarted(): void;
  /** The connection is gone: release what the session holds. */
  close(): Promise<void>;
}

/** The connection as a session sees it. */
export interface LineConnectionIo<F> {
  /** The client: the PROXY header's source when a trusted balancer sent one, else the peer. */
  readonly remoteAddress: string;
  /** Which listener accepted it (`imap`, `imaps`...). */
  readonly listener: string;
  /** Encrypted from the start (implicit TLS listener). */
  readonly secure: boolean;
  /** STARTTLS can be offered (a plaintext listener with a certificate). */
  readonly startTlsAvailable: boolean;
  /** Carries protocol, listener and client. */
  readonly logger: Logger;
  /** Resolves once the socket took the octets (backpressure); rejects with ConnectionClosedError. */
  write(...data: (Buffer | string)[]): Promise<void>;
  /** Inside handle(): the next frame (an AUTHENTICATE response, IMAP IDLE's DONE). */
  nextFrame(): Promise<F>;
  /** IMAP IDLE: the client waits for the server, so the idle timer does not run while held. */
  holdIdleTimer(held: boolean): void;
  /** A streamed literal's consumer is full: stop reading the socket until `until` settles. */
  holdReading(until: Promise<unknown>): void;
  /**
   * From now on both directions pass through `layer` (IMAP COMPRESS): called after the reply that
   * agreed to it was written (that reply goes out as it is), while the client waits for it.
   */
  addLayer(layer: StreamLayer): void;
  /** A layer is on (IMAP answers a second COMPRESS with NO [COMPRESSIONACTIVE]). */
  readonly layered: boolean;
  /** Says goodbye (see LineProtocol.goodbye) and closes. */
  goodbye(text: string, reason: GoodbyeReason): void;
  /** Drops the connection after what was written. */
  close(): void;
  /**
   * Logged in as `user` (a stable account id): takes the per-user and per-user+address slots (across
   * pods) until the session logs out (`authenticated` false after a frame) or the connection ends.
   * False when one is full: the session answers with its own error (IMAP `NO [LIMIT]`, ManageSieve
   * `NO (TRYLATER)`) and stays logged out.
   */
  admitUser(user: string): Promise<boolean>;
}

export class ConnectionClosedError extends Error {
  constructor() {
    super('connection closed');
    this.name = 'ConnectionClosedError';
  }
}
