import type { SMTPServer } from 'smtp-server';
import type { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { Readable } from 'node:stream';
import { isLoopbackAddress as isLoopback } from '@correo/auth';
import { TransferRateGuard } from '@correo/limits';
import { replies } from './smtp-reply.js';

export interface ConnectionHookOptions {
  /** The embedded default's allowance: AUTH without TLS from loopback clients only. */
  allowPlaintextAuthOnLoopback: boolean;
  sessionTimeoutMs: number;
  /** DATA must average this many octets per second over each window (slowloris); 0 turns it off. */
  minTransferRate: number;
  transferRateWindowMs: number;
}

const ENHANCED_CODE = /^[245]\.\d{1,3}\.\d{1,3} /;
const SMTP_SERVER_SHUTDOWN_TEXT = 'Server shutting down';

/**
 * smtp-server has no per-connection hooks for three things we need, so every new connection is adjusted
 * as smtp-server registers it (the only point before its greeting):
 * - smtp-server's shutdown reply gets 4.3.2 (a drain, not a lost connection);
 * - replies whose text already starts with an enhanced status code (ours, see smtp-reply.ts) are sent
 *   as they are; smtp-server would otherwise prepend the code it derives from the reply code alone;
 * - before TLS, AUTH is not advertised, and AUTH is answered 530 5.7.0 (RFC 3207) instead of
 *   smtp-server's non-standard 538; loopback clients get AUTH without TLS when the allowance is on,
 *   through a per-connection view of the server options (smtp-server reads them at every command);
 * - a whole-session time limit, which smtp-server lacks (its timeout is for idleness only);
 * - a minimum transfer rate during DATA: a client trickling a byte now and then is never idle, and
 *   smtp-server answers a DATA only after the final dot, so the cut-off is sent from here.
 * Relies on SMTPConnection#send, #close, #secure, #remoteAddress and #_server of smtp-server 3.x.
 */
export function installConnectionHooks(server: SMTPServer, options: ConnectionHookOptions): ConnectionHooks {
  const sessionTimers = new Map<string, NodeJS.Timeout>();
  const open = new Map<string, SMTPConnection>();
  const connections = server.connections;
  const register = connections.add.bind(connections);
  connections.add = (connection: SMTPConnection) => {
    adjust(server, connection, options);
    const timer = setTimeout(() => {
      const reply = replies.sessionTimeout();
      connection.send(reply.responseCode, reply.message);
    }, options.sessionTimeoutMs);
    timer.unref();
    sessionTimers.set(connection.id, timer);
    open.set(connection.id, connection);
    return register(connection);
  };
  return {
    sessionClosed(sessionId) {
      clearTimeout(sessionTimers.get(sessionId));
      sessionTimers.delete(sessionId);
      open.delete(sessionId);
    },
    watchData(sessionId, data) {
      const guard = new TransferRateGuard({
        minBytesPerSecond: options.minTransferRate,
        windowMs: options.transferRateWindowMs,
        onTooSlow: () => {
          const reply = replies.dataTooSlow();
          // A 421 makes smtp-server close the connection after sending it.
          open.get(sessionId)?.send(reply.responseCode, reply.message);
        },
      });
      data.on('data', (chunk: Buffer) => guard.received(chunk.length));
      data.once('end', () => guard.stop());
      data.once('close', () => guard.stop());
      guard.setActive(true);
    },
  };
}

export interface ConnectionHooks {
  /** Call from onClose: stops the session's time limit. */
  sessionClosed(sessionId: string): void;
  /** Call at the start of DATA: the session is cut (421) when the data arrives too slowly. */
  watchData(sessionId: string, data: Readable): void;
}

function adjust(server: SMTPServer, connection: SMTPConnection, options: ConnectionHookOptions): void {
  // The listener never allows insecure AUTH itself (allowInsecureAuth: false); only this hook
  // lifts it, per connection, for loopback clients under the embedded default's allowance.
  const plaintextAuth = options.allowPlaintextAuthOnLoopback && isLoopback(connection.remoteAddress);
  if (plaintextAuth) {
    connection._server = Object.create(server, {
      options: { value: { ...server.options, allowInsecureAuth: true } },
    }) as SMTPServer;
  }

  const send = connection.send.bind(connection);
  connection.send = (code, data, context) => {
    // smtp-server's own shutdown reply (to every command once close() was called, and to the
    // sessions still open when the grace period ends) says 4.4.2; a drain is 4.3.2.
    if (code === 421 && data === SMTP_SERVER_SHUTDOWN_TEXT) {
      const reply = replies.shuttingDown();
      return send(reply.responseCode, reply.message, false);
    }
    if (code === 538) {
      return send(530, '5.7.0 Must issue a STARTTLS command first', false);
    }
    if (code === 250 && Array.isArray(data) && !connection.secure && !plaintextAuth) {
      return send(
        code,
        data.filter((line) => !line.startsWith('AUTH ')),
        context,
      );
    }
    if (typeof data === 'string' && ENHANCED_CODE.test(data)) return send(code, data, false);
    return send(code, data, context);
  };
}
