import type { Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import { createLoginLimiter, LoginPolicy } from '@correo/auth';
import type { BlobStore } from '@correo/blobs';
import type { Directory } from '@correo/directory';
import { ConnectionGate } from '@correo/limits';
import type { Limits } from '@correo/limits';
import type { Notifier } from '@correo/notify';
import { errReply } from '@correo/pop3-proto';
import type { Pool } from '@correo/store';
import type { Listener } from '@correo/runtime';
import type { Logger } from '@correo/telemetry';
import { listenPair } from '@correo/tls';
import type { Pop3GatewayConfig } from './config.js';
import { Pop3Connection } from './connection.js';
import { createMaildropLocks } from './maildrop-lock.js';
import { createMaildropStore } from './maildrop-store.js';
import { pop3Metrics } from './metrics.js';

export type Pop3ListenerName = 'pop3' | 'pop3s';

export interface Pop3GatewayDeps {
  config: Pop3GatewayConfig;
  pool: Pool;
  blobs: BlobStore;
  directory: Pick<Directory, 'loginKey' | 'authenticate'>;
  /** The one-session-per-maildrop lock and the failed-login counters, shared by every pod. */
  limits: Limits;
  /** Mailbox-changed notifications after an expunge (IMAP IDLE listens). */
  notifier: Notifier;
  logger: Logger;
  /** PEM key and certificate (see @correo/tls loadTlsMaterial) for STLS and port 995. */
  tls: { key: string; cert: string };
  /** Defaults to the standard policy over createLoginLimiter(limits). */
  loginPolicy?: LoginPolicy;
}

export interface Pop3Gateway {
  /** The ports really bound (differs from the config when it asked for 0). */
  ports: Record<Pop3ListenerName, number>;
  /** What runs where, for banners and logs. */
  listeners: Listener[];
  /** Stops listening and ends every session without UPDATE (nothing is deleted), freeing their locks. */
  close(): Promise<void>;
}

/** Starts POP3 (STLS) and POP3S (implicit TLS) listeners. */
export async function startPop3Gateway(deps: Pop3GatewayDeps): Promise<Pop3Gateway> {
  const { config, logger } = deps;
  const secureContext = createSecureContext({ key: deps.tls.key, cert: deps.tls.cert });
  const sessionDeps = {
    directory: deps.directory,
    loginPolicy: deps.loginPolicy ?? new LoginPolicy(createLoginLimiter(deps.limits), { logger }),
    store: createMaildropStore({ pool: deps.pool, blobs: deps.blobs, notifier: deps.notifier, logger }),
    locks: createMaildropLocks(deps.limits, config.lockTtlMs),
    logger,
  };
  const settings = {
    hostname: config.hostname,
    allowPlaintextAuthOnLoopback: config.allowPlaintextAuthOnLoopback,
    maxAuthFailures: config.maxAuthFailures,
    maxLineLength: config.maxLineLength,
  };
  const connections = new Set<Pop3Connection>();
  const gate = new ConnectionGate({ maxTotal: config.maxConnections, maxPerIp: config.maxConnectionsPerIp });

  function serve(listener: Pop3ListenerName, socket: Socket): void {
    const release = gate.admitSocket(socket, (text) => errReply(text, 'SYS/TEMP'));
    if (!release) return;
    pop3Metrics.connections.inc({ listener });
    pop3Metrics.activeConnections.inc({ listener });
    const connection = new Pop3Connection(socket, {
      deps: sessionDeps,
      settings,
      secureContext: listener === 'pop3' ? secureContext : undefined,
      secure: listener === 'pop3s',
      idleTimeoutMs: config.idleTimeoutMs,
      preAuthTimeoutMs: config.preAuthTimeoutMs,
      logger,
    });
    connections.add(connection);
    void connection.finished.then(() => {
      connections.delete(connection);
      release();
      pop3Metrics.activeConnections.dec({ listener });
    });
  }

  const { ports, stopAccepting } = await listenPair({
    names: { plain: 'pop3', tls: 'pop3s' },
    ports: { plain: config.ports.pop3, tls: config.ports.pop3s },
    host: config.bindHost,
    tls: deps.tls,
    maxConnections: gate.socketCap,
    onSocket: serve,
    onHandshakeError: (error) => logger.debug({ error: error.message }, 'POP3S handshake failed'),
  });
  logger.info({ ports, bindHost: config.bindHost }, 'pop3-gateway listening');

  let closing: Promise<void> | undefined;
  return {
    ports,
    listeners: [
      { name: 'POP3 (STLS)', address: `pop3://${config.bindHost}:${ports.pop3}` },
      { name: 'POP3S (implicit TLS)', address: `pop3s://${config.bindHost}:${ports.pop3s}` },
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
