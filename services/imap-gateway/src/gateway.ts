import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer } from 'node:tls';
import { createLoginLimiter } from '@correo/auth';
import type { LoginLimiter } from '@correo/auth';
import type { BlobStore } from '@correo/blobs';
import type { Directory } from '@correo/directory';
import { untaggedStatus } from '@correo/imap-proto';
import type { Limits } from '@correo/limits';
import type { Notifier } from '@correo/notify';
import type { Listener } from '@correo/runtime';
import type { Pool } from '@correo/store';
import type { Logger } from '@correo/telemetry';
import type { GatewayServices } from './command-context.js';
import type { ImapGatewayConfig } from './config.js';
import { ImapConnection } from './connection.js';
import { ConnectionCounter } from './connection-counter.js';
import { MailboxChanges } from './mailbox-changes.js';
import { imapMetrics } from './metrics.js';

export type ImapListenerName = 'imap' | 'imaps';

export interface ImapGatewayDeps {
  config: ImapGatewayConfig;
  pool: Pool;
  blobs: BlobStore;
  directory: Pick<Directory, 'authenticate'>;
  /** The failed-login counters, shared by every pod. */
  limits: Limits;
  /** Mailbox-changed notifications: IDLE listens, every change publishes. */
  notifier: Notifier;
  logger: Logger;
  /** PEM key and certificate (see @correo/tls loadTlsMaterial) for STARTTLS and port 993. */
  tls: { key: string; cert: string };
  /** Defaults to createLoginLimiter(limits). */
  loginLimiter?: LoginLimiter;
}

export interface ImapGateway {
  /** What a person connects to, for the service banner. */
  listeners: Listener[];
  /** The ports really bound (differs from the config when it asked for 0). */
  ports: Record<ImapListenerName, number>;
  /** Stops listening and ends every session with BYE. */
  close(): Promise<void>;
}

/** Starts the IMAP (STARTTLS) and IMAPS (implicit TLS) listeners. */
export async function startImapGateway(deps: ImapGatewayDeps): Promise<ImapGateway> {
  const { config, logger } = deps;
  const secureContext = createSecureContext({ key: deps.tls.key, cert: deps.tls.cert });
  const services: GatewayServices = {
    config,
    pool: deps.pool,
    blobs: deps.blobs,
    directory: deps.directory,
    loginLimiter: deps.loginLimiter ?? createLoginLimiter(deps.limits),
    changes: new MailboxChanges(deps.notifier, logger),
    userConnections: new ConnectionCounter(config.maxConnectionsPerUser),
    logger,
    tlsAvailable: true,
  };
  const perIp = new ConnectionCounter(config.maxConnectionsPerIp);
  const connections = new Set<ImapConnection>();

  function serve(listener: ImapListenerName, socket: Socket): void {
    const ip = socket.remoteAddress ?? '';
    if (!perIp.acquire(ip)) {
      socket.on('error', () => {});
      socket.end(untaggedStatus('BYE', 'Too many connections from your address', { code: 'LIMIT' }));
      return;
    }
    imapMetrics.connections.inc({ listener });
    imapMetrics.activeConnections.inc({ listener });
    const connection = new ImapConnection(socket, {
      services,
      secureContext: listener === 'imap' ? secureContext : undefined,
      secure: listener === 'imaps',
      logger,
    });
    connections.add(connection);
    void connection.finished.then(() => {
      connections.delete(connection);
      perIp.release(ip);
      imapMetrics.activeConnections.dec({ listener });
    });
  }

  const plain = createServer((socket) => serve('imap', socket));
  const implicit = createTlsServer({ key: deps.tls.key, cert: deps.tls.cert }, (socket) =>
    serve('imaps', socket),
  );
  // A failed handshake on 993 never reaches serve(): the client's problem, not a server error.
  implicit.on('tlsClientError', (error) => logger.debug({ error: error.message }, 'IMAPS handshake failed'));
  const servers: Server[] = [plain, implicit];
  for (const server of servers) server.maxConnections = config.maxConnections;

  let ports: Record<ImapListenerName, number>;
  try {
    ports = {
      imap: await listen(plain, config.ports.imap, config.bindHost),
      imaps: await listen(implicit, config.ports.imaps, config.bindHost),
    };
  } catch (error) {
    await Promise.all(servers.map(closeServer));
    throw error;
  }
  logger.info({ ports, bindHost: config.bindHost }, 'imap-gateway listening');

  let closing: Promise<void> | undefined;
  return {
    ports,
    listeners: [
      { name: 'IMAP (STARTTLS)', address: `imap://${config.bindHost}:${ports.imap}` },
      { name: 'IMAPS (implicit TLS)', address: `imaps://${config.bindHost}:${ports.imaps}` },
    ],
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
