import type { LoginPolicy } from '@correo/auth';
import type { BlobStore } from '@correo/blobs';
import type { Directory } from '@correo/directory';
import type { LeaseTiming, Limits } from '@correo/limits';
import { startLineServer } from '@correo/line-server';
import type { Notifier } from '@correo/notify';
import type { Listener } from '@correo/runtime';
import type { Pool } from '@correo/store';
import type { Logger } from '@correo/telemetry';
import { gatewayServices } from './command-context.js';
import type { ImapGatewayConfig } from './config.js';
import { imapProtocol } from './connection.js';
import { imapMetrics } from './metrics.js';

export type ImapListenerName = 'imap' | 'imaps';

export interface ImapGatewayDeps {
  config: ImapGatewayConfig;
  pool: Pool;
  blobs: BlobStore;
  directory: Pick<Directory, 'loginKey' | 'authenticate'>;
  /** The failed-login counters and the connection leases, shared by every pod. */
  limits: Limits;
  /** How long a killed pod's connections still count, how long an accept waits for `limits`. */
  leaseTiming?: LeaseTiming;
  /** Mailbox-changed notifications: IDLE listens, every change publishes. */
  notifier: Notifier;
  logger: Logger;
  /** PEM key and certificate (see @correo/tls loadTlsMaterial) for STARTTLS and port 993. */
  tls: { key: string; cert: string };
  /** Load balancers that open connections with a PROXY header (PROXY_TRUSTED_CIDRS). */
  trustedProxies?: readonly string[];
  /** Defaults to the standard policy over createLoginLimiter(limits). */
  loginPolicy?: LoginPolicy;
}

export interface ImapGateway {
  /** What a person connects to, for the service banner. */
  listeners: Listener[];
  /** The ports really bound (differs from the config when it asked for 0). */
  ports: Record<ImapListenerName, number>;
  /** Stops listening and ends every session with BYE (after the command under way). */
  close(): Promise<void>;
  /** A renewed certificate (watchTlsMaterial): new connections and STARTTLS get it, open ones keep theirs. */
  updateTls(material: { key: string; cert: string }): void;
}

/** Starts the IMAP (STARTTLS) and IMAPS (implicit TLS) listeners. */
export async function startImapGateway(deps: ImapGatewayDeps): Promise<ImapGateway> {
  const { config, logger } = deps;
  const services = gatewayServices(deps);
  const server = await startLineServer({
    protocol: imapProtocol(services),
    listeners: [
      { name: 'imap', port: config.ports.imap, implicitTls: false },
      { name: 'imaps', port: config.ports.imaps, implicitTls: true },
    ],
    host: config.bindHost,
    tls: deps.tls,
    maxConnections: config.maxConnections,
    maxConnectionsPerIp: config.maxConnectionsPerIp,
    maxConnectionsPerUser: config.maxConnectionsPerUser,
    maxConnectionsPerUserIp: config.maxConnectionsPerUserIp,
    limits: deps.limits,
    leaseTiming: deps.leaseTiming,
    timers: {
      idleTimeoutMs: config.autologoutMs,
      preAuthTimeoutMs: config.preAuthTimeoutMs,
      minTransferRate: config.minTransferRate,
      transferRateWindowMs: config.transferRateWindowMs,
    },
    trustedProxies: deps.trustedProxies,
    metrics: {
      connections: imapMetrics.connections,
      activeConnections: imapMetrics.activeConnections,
      refused: imapMetrics.connectionsRefused,
    },
    logger,
  });
  const { ports } = server;
  logger.info({ ports, bindHost: config.bindHost }, 'imap-gateway listening');
  return {
    ports,
    listeners: [
      { name: 'IMAP (STARTTLS)', address: `imap://${config.bindHost}:${ports.imap}` },
      { name: 'IMAPS (implicit TLS)', address: `imaps://${config.bindHost}:${ports.imaps}` },
    ],
    close: () => server.close(),
    updateTls: (material) => server.updateTls(material),
  };
}
