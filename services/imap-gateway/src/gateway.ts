import type { MailboxGateway, MailboxGatewayDeps } from '@correo/backends';
import { startLineServer } from '@correo/line-server';
import { gatewayServices } from './command-context.js';
import type { ImapGatewayConfig } from './config.js';
import { imapProtocol } from './connection.js';
import { imapMetrics } from './metrics.js';

export type ImapListenerName = 'imap' | 'imaps';

export type ImapGatewayDeps = MailboxGatewayDeps<ImapGatewayConfig>;

/** close() stops listening and ends every session with BYE (after the command under way). */
export interface ImapGateway extends MailboxGateway {
  /** The ports really bound (differs from the config when it asked for 0). */
  ports: Record<ImapListenerName, number>;
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
