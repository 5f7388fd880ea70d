import type { Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import { createLoginLimiter } from '@correo/auth';
import type { LoginLimiter } from '@correo/auth';
import type { BlobStore } from '@correo/blobs';
import type { Directory } from '@correo/directory';
import { untaggedStatus } from '@correo/imap-proto';
import { ByteBudget, ConnectionCounter, ConnectionGate } from '@correo/limits';
import type { Limits } from '@correo/limits';
import { MailboxChangeFeed, type Notifier } from '@correo/notify';
import type { Listener } from '@correo/runtime';
import type { Pool } from '@correo/store';
import type { Logger } from '@correo/telemetry';
import { listenPair } from '@correo/tls';
import type { GatewayServices } from './command-context.js';
import type { ImapGatewayConfig } from './config.js';
import { ImapConnection } from './connection.js';
import { imapMetrics } from './metrics.js';

export type ImapListenerName = 'imap' | 'imaps';

export interface ImapGatewayDeps {
  config: ImapGatewayConfig;
  pool: Pool;
  blobs: BlobStore;
  directory: Pick<Directory, 'loginKey' | 'authenticate'>;
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
    changes: new MailboxChangeFeed(deps.notifier, logger),
    userConnections: new ConnectionCounter(config.maxConnectionsPerUser),
    literalBudget: new ByteBudget(config.literalMemory),
    logger,
  };
  const gate = new ConnectionGate({ maxTotal: config.maxConnections, maxPerIp: config.maxConnectionsPerIp });
  const connections = new Set<ImapConnection>();

  function serve(listener: ImapListenerName, socket: Socket): void {
    const release = gate.admitSocket(socket, (text) => untaggedStatus('BYE', text, { code: 'LIMIT' }));
    if (!release) return;
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
      release();
      imapMetrics.activeConnections.dec({ listener });
    });
  }

  const { ports, stopAccepting } = await listenPair({
    names: { plain: 'imap', tls: 'imaps' },
    ports: { plain: config.ports.imap, tls: config.ports.imaps },
    host: config.bindHost,
    tls: deps.tls,
    maxConnections: gate.socketCap,
    onSocket: serve,
    onHandshakeError: (error) => logger.debug({ error: error.message }, 'IMAPS handshake failed'),
  });
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
        const stopped = stopAccepting();
        await Promise.all([...connections].map((connection) => connection.shutdown()));
        await stopped;
      })();
      return closing;
    },
  };
}
