import type { LoginLimiter } from '@correo/auth';
import type { BlobStore } from '@correo/blobs';
import type { Directory } from '@correo/directory';
import type { MailboxChangeFeed } from '@correo/notify';
import type { CompletionStatus, ResponseCode } from '@correo/imap-proto';
import type { Pool } from '@correo/store';
import type { Logger } from '@correo/telemetry';
import type { ImapGatewayConfig } from './config.js';
import type { ByteBudget, ConnectionCounter } from '@correo/limits';
import type { StreamedUpload } from './message-facts.js';
import type { ImapSession } from './session.js';

/** Everything commands use beyond the session: the backends and the gateway-wide settings. */
export interface GatewayServices {
  config: ImapGatewayConfig;
  pool: Pool;
  blobs: BlobStore;
  directory: Pick<Directory, 'loginKey' | 'authenticate'>;
  loginLimiter: LoginLimiter;
  /** The account's mailbox changes: the store's write paths publish, sessions subscribe. */
  changes: MailboxChangeFeed;
  /** Logged-in sessions per account on this gateway process. */
  userConnections: ConnectionCounter;
  /** Literal octets held by all connections (IMAP_LITERAL_MEMORY). */
  literalBudget: ByteBudget;
  logger: Logger;
}

/** The connection side a command may use. */
export interface SessionIo {
  write(...data: Buffer[]): Promise<void>;
  /** The next raw client line (AUTHENTICATE responses, IDLE's DONE), without CRLF. */
  readLine(): Promise<Buffer>;
  /** After the tagged OK to STARTTLS: the handshake; resolves once the session is encrypted. */
  startTls(): Promise<void>;
  /** IDLE: the autologout timer pauses while idling (the client is waiting, not gone). */
  setIdling(idling: boolean): void;
  /** Drops the connection after what was written. */
  close(): void;
}

export interface CommandContext {
  tag: string;
  session: ImapSession;
  services: GatewayServices;
  io: SessionIo;
  /** The command's streamed literals in order (APPEND bodies already on their way to the blob store). */
  uploads: StreamedUpload[];
}

export interface Completion {
  status: CompletionStatus;
  text: string;
  code?: ResponseCode | null;
  /** LOGOUT: close after the tagged response. STARTTLS: negotiate after it. */
  then?: 'close' | 'starttls';
}

/**
 * A response is half written and cannot be completed (a blob shorter than its record after "{n}"
 * went out): the session does not answer NO, the connection is cut.
 */
export class BrokenResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrokenResponseError';
  }
}

export const ok = (text: string, code?: ResponseCode | null): Completion => ({ status: 'OK', text, code });
export const no = (text: string, code?: ResponseCode | null): Completion => ({ status: 'NO', text, code });
export const bad = (text: string, code?: ResponseCode | null): Completion => ({ status: 'BAD', text, code });
