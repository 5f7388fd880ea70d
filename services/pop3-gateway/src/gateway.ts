import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer } from 'node:tls';
import { createLoginLimiter } from '@correo/auth';
import type { LoginLimiter } from '@correo/auth';
import type { BlobStore } from '@correo/blobs';
import type { Directory } from '@correo/directory';
import type { Limits } from '@correo/limits';
import type { Notifier } from '@correo/notify';
import type { Pool } from '@correo/store';
import type { Logger } from '@correo/telemetry';
import type { Pop3GatewayConfig } from './config.js';
import { Pop3Connection } from './connection.js';
import { createMaildropLocks } from './maildrop-lock.js';
import { createMaildropStore } from './maildrop-store.js';
import type { MaildropStore } from './maildrop-store.js';
import { pop3Metrics } from './metrics.js';

export type Pop3ListenerName = 'pop3' | 'pop3s';

export interface Pop3GatewayDeps {
  config: Pop3GatewayConfig;
  pool: Pool;
  blobs: BlobStore;
  directory: Pick<Directory, 'authenticate'>;
  /** The one-session-per-maildrop lock and the failed-login counters, shared by every pod. */
  limits: Limits;
  /** Mailbox-changed notifications after an expunge (IMAP IDLE listens). */
  notifier: Notifier;
  logger: Logger;
  /** PEM key and certificate (see @correo/tls loadTlsMaterial) for STLS and port 995. */
  tls: { key: string; cert: string };
  /** Defaults to createLoginLimiter(limits). */
  loginLimiter?: LoginLimiter;
  /** Defaults to the Postgres + blob store maildrop; replaceable to study the session alone. */
  store?: MaildropStore;
}

export interface Pop3Gateway {
  /** The ports really bound (differs from the config when it asked for 0). */
  ports: Record<Pop3ListenerName, number>;
  /** Stops listening and ends every session without UPDATE (nothing is deleted), freeing their locks. */
  close(): Promise<void>;
}

/** Starts POP3 (STLS) and POP3S (implicit TLS) listeners. */
export async function startPop3Gateway(deps: Pop3GatewayDeps): Promise<Pop3Gateway> {
  const { config, logger } = deps;
  const secureContext = createSecureContext({ key: deps.tls.key, cert: deps.tls.cert });
  const sessionDeps = {
    directory: deps.directory,
    loginLimiter: deps.loginLimiter ?? createLoginLimiter(deps.limits),
    store:
      deps.store ??
      createMaildropStore({ pool: deps.pool, blobs: deps.blobs, notifier: deps.notifier, logger }),
    locks: createMaildropLocks(deps.limits, config.lockTtlMs),
    logger,
  };
  const settings = {
    hostname: config.hostname,
    tlsAvailable: true,
    allowPlaintextAuthOnLoopback: config.allowPlaintextAuthOnLoopback,
    maxAuthFailures: config.maxAuthFailures,
    maxLineLength: config.maxLineLength,
  };
  const connections = new Set<Pop3Connection>();

  function serve(listener: Pop3ListenerName, socket: Socket): void {
    pop3Metrics.connections.inc({ listener });
    pop3Metrics.activeConnections.inc({ listener });
    const connection = new Pop3Connection(socket, {
      deps: sessionDeps,
      settings,
      secureContext: listener === 'pop3' ? secureContext : undefined,
      secure: listener === 'pop3s',
      idleTimeoutMs: config.idleTimeoutMs,
      logger,
    });
    connections.add(connection);
    void connection.finished.then(() => {
      connections.delete(connection);
      pop3Metrics.activeConnections.dec({ listener });
    });
  }

  const plain = createServer((socket) => serve('pop3', socket));
  const implicit = createTlsServer({ key: deps.tls.key, cert: deps.tls.cert }, (socket) =>
    serve('pop3s', socket),
  );
  // A failed handshake on 995 never reaches serve(); it is the client's problem, not a server error.
  implicit.on('tlsClientError', (error) => logger.debug({ error: error.message }, 'POP3S handshake failed'));
  const servers: Server[] = [plain, implicit];
  for (const server of servers) server.maxConnections = config.maxConnections;

  let ports: Record<Pop3ListenerName, number>;
  try {
    ports = {
      pop3: await listen(plain, config.ports.pop3, config.bindHost),
      pop3s: await listen(implicit, config.ports.pop3s, config.bindHost),
    };
  } catch (error) {
    await Promise.all(servers.map(closeServer));
    throw error;
  }
  logger.info({ ports, bindHost: config.bindHost }, 'pop3-gateway listening');

  let closing: Promise<void> | undefined;
  return {
    ports,
    close() {
      closing ??= (async () => {
        const stopped = Promise.all(servers.map(closeServer));
        await Promise.all([...connections].map((connection) => connection.shutdown()));
        await stopped;
      })();
      return closing;
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(address && typeof address === 'object' ? address.port : port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}
