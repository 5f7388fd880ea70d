import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';

export interface SmtpTarget {
  /** The MX host name: TLS server name and Remote-MTA of DSNs. */
  host: string;
  address: string;
  port: number;
  requireTls: boolean;
}

export interface SessionSettings {
  ehloName: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /** The local address to connect from (RELAY_SOURCE_ADDRESS); used for MX addresses of its own family. */
  sourceAddress?: string | undefined;
}

/** An SMTP client connection, EHLO (and STARTTLS) done, with how many messages it carried. */
export interface OpenSession {
  target: SmtpTarget;
  connection: SMTPConnection;
  sent: number;
}

export type SmtpError = SMTPConnection.SMTPError & {
  rejectedErrors?: (SMTPConnection.SMTPError & { recipient?: string })[];
};

/**
 * Connects through nodemailer's SMTP client: EHLO with our name, STARTTLS whenever the server offers
 * it (opportunistic: a failed upgrade falls back to plaintext, and certificates are not verified,
 * since RFC 7435 opportunistic encryption beats none); for require-TLS domains a server without
 * STARTTLS is a failed attempt.
 */
export function openSession(target: SmtpTarget, settings: SessionSettings): Promise<OpenSession> {
  // Binding an IPv4 source to an IPv6 destination (or the reverse) cannot connect at all.
  const source = settings.sourceAddress;
  const localAddress = source && isIP(source) === isIP(target.address) ? source : undefined;
  const connection = new SMTPConnection({
    host: target.address,
    port: target.port,
    ...(localAddress ? { localAddress } : {}),
    name: settings.ehloName,
    secure: false,
    requireTLS: target.requireTls,
    opportunisticTLS: !target.requireTls,
    tls: {
      rejectUnauthorized: false,
      ...(isIP(target.host) ? {} : { servername: target.host }),
    },
    connectionTimeout: settings.connectTimeoutMs,
    greetingTimeout: settings.commandTimeoutMs,
    socketTimeout: settings.commandTimeoutMs,
    logger: false,
  });
  // A late socket error after a finished exchange must not crash the process.
  connection.on('error', () => {});
  return settle<OpenSession>(connection, (resolve, reject) =>
    connection.connect((error) => (error ? reject(error) : resolve({ target, connection, sent: 0 }))),
  ).catch((error: unknown) => {
    connection.close();
    throw error;
  });
}

/**
 * nodemailer reports a broken socket (refused, reset, timeout) through the 'error' and 'end'
 * events, not the pending callback; this settles on whichever comes first.
 */
function settle<T>(
  connection: SMTPConnection,
  start: (resolve: (value: T) => void, reject: (error: unknown) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (action: () => void) => {
      if (done) return;
      done = true;
      connection.off('error', onError);
      connection.off('end', onEnd);
      action();
    };
    const onError = (error: Error) => finish(() => reject(error));
    const onEnd = () =>
      finish(() =>
        reject(Object.assign(new Error('connection closed by the server'), { code: 'ECONNECTION' })),
      );
    connection.once('error', onError);
    connection.once('end', onEnd);
    start(
      (value) => finish(() => resolve(value)),
      (error) => finish(() => reject(error)),
    );
  });
}

export interface Envelope {
  from: string;
  to: string[];
  size: number;
  use8BitMime: boolean;
  dsn?: { ret?: 'FULL' | 'HDRS'; envid?: string };
}

/** One SMTP transaction; rejects with nodemailer's SMTPError (responseCode, rejectedErrors). */
export function sendMessage(
  session: OpenSession,
  envelope: Envelope,
  message: Readable,
): Promise<SMTPConnection.SentMessageInfo> {
  return settle(session.connection, (resolve, reject) => {
    session.connection.send(envelope as unknown as SMTPConnection.Envelope, message, (error, info) => {
      session.sent += 1;
      if (error) reject(error);
      else resolve(info);
    });
  });
}

/** RSET, so the session can carry another transaction; false when the server is gone. */
export function resetSession(session: OpenSession): Promise<boolean> {
  return settle<boolean>(session.connection, (resolve) =>
    session.connection.reset((error) => resolve(!error)),
  ).catch(() => false);
}

/**
 * QUIT; resolves once the connection is over: the server answered QUIT (nodemailer then closes
 * and emits 'end'), or the socket failed or timed out. Until then the server still counts the
 * session against its per-client limit. Never rejects.
 */
export function closeSession(session: OpenSession): Promise<void> {
  const { connection } = session;
  if (connection.destroyed) return Promise.resolve();
  const ended = new Promise<void>((resolve) => connection.once('end', () => resolve()));
  try {
    connection.quit();
  } catch {
    connection.close();
  }
  return ended;
}

export function isOpen(session: OpenSession): boolean {
  return !session.connection.destroyed && session.connection.stage === 'connected';
}
