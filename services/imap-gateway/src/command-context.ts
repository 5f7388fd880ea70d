import { createLoginLimiter, LoginPolicy } from '@correo/auth';
import type { BlobStore } from '@correo/blobs';
import type { AccountRef, Directory } from '@correo/directory';
import type { CompletionStatus, ResponseCode } from '@correo/imap-proto';
import { ByteBudget } from '@correo/limits';
import { MailboxChangeFeed } from '@correo/notify';
import { withStoredBodies, type Pool } from '@correo/store';
import type { Logger } from '@correo/telemetry';
import type { ImapGatewayConfig } from './config.js';
import type { ImapGatewayDeps } from './gateway.js';
import type { MailboxView } from './mailbox-view.js';
import type { StreamedUpload } from './message-facts.js';
import type { ImapSession } from './session.js';
import { MessageCache } from './message-cache.js';
import { BodyCache } from './body-cache.js';

/** Everything commands use beyond the session: the backends and the gateway-wide settings. */
export interface GatewayServices {
  config: ImapGatewayConfig;
  pool: Pool;
  blobs: BlobStore;
  directory: Pick<Directory, 'loginKey' | 'authenticate'>;
  loginPolicy: LoginPolicy;
  /** The account's mailbox changes: the store's write paths publish, sessions subscribe. */
  changes: MailboxChangeFeed;
  /** Literal octets held by all connections (IMAP_LITERAL_MEMORY). */
  literalBudget: ByteBudget;
  /** What FETCH read about messages that never changes, for every session of the process. */
  messageCache: MessageCache;
  /** Small message bodies FETCH and APPEND had, for every session of the process. */
  bodyCache: BodyCache;
  logger: Logger;
}

/** What a gateway process is given (its main.ts, or a test) to build GatewayServices from. */
export type GatewayBackends = Omit<ImapGatewayDeps, 'tls'>;

/** The services every session of one gateway process shares. */
export function gatewayServices(backends: GatewayBackends): GatewayServices {
  const { config, logger } = backends;
  return {
    config,
    pool: backends.pool,
    // APPEND keeps small bodies in message_bodies: every read must find them (a no-op when wired already).
    blobs: withStoredBodies(backends.blobs, backends.pool),
    directory: backends.directory,
    loginPolicy: backends.loginPolicy ?? new LoginPolicy(createLoginLimiter(backends.limits), { logger }),
    changes: new MailboxChangeFeed(backends.notifier, logger),
    literalBudget: new ByteBudget(config.literalMemory),
    messageCache: new MessageCache(),
    bodyCache: new BodyCache(),
    logger,
  };
}

/** The connection side a command may use. */
export interface SessionIo {
  write(...data: Buffer[]): Promise<void>;
  /** The next raw client line (AUTHENTICATE responses, IDLE's DONE), without CRLF. */
  readLine(): Promise<Buffer>;
  /** IDLE: the autologout timer pauses while idling (the client is waiting, not gone). */
  setIdling(idling: boolean): void;
  /** Drops the connection after what was written. */
  close(): void;
  /** Logged in: the connection layer's per-user caps (see LineConnectionIo.admitUser). */
  admitUser(accountId: string): Promise<boolean>;
}

/** What every command gets, in any state. */
export interface CommandContext {
  tag: string;
  session: ImapSession;
  services: GatewayServices;
  io: SessionIo;
  /** The command's streamed literals in order (APPEND bodies already on their way to the blob store). */
  uploads: StreamedUpload[];
}

/** A command of the authenticated state (valid in the selected state too, RFC 9051 6.3): the account is known. */
export interface AuthenticatedContext extends CommandContext {
  account: AccountRef;
  /** The mailbox selected when the command started, if any (SELECT closes it, APPEND into it refreshes it). */
  view: MailboxView | null;
}

/** A command of the selected state: the mailbox it acts on is there. */
export interface SelectedContext extends AuthenticatedContext {
  view: MailboxView;
}

export interface Completion {
  status: CompletionStatus;
  text: string;
  code?: ResponseCode | null;
  /** LOGOUT: close after the tagged response. STARTTLS: negotiate after it. COMPRESS: deflate after it. */
  then?: 'close' | 'starttls' | 'compress';
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
