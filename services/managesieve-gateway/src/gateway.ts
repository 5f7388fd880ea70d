import type { MailboxGateway, MailboxGatewayDeps } from '@correo/backends';
import { createLoginLimiter, LoginPolicy } from '@correo/auth';
import { startLineServer } from '@correo/line-server';
import { DEFAULT_MAX_REDIRECTS } from '@correo/sieve';
import type { ManageSieveGatewayConfig } from './config.js';
import { manageSieveProtocol } from './connection.js';
import { manageSieveMetrics } from './metrics.js';
import { createScriptStore, type ScriptStore } from './script-store.js';

export type ManageSieveGatewayDeps = MailboxGatewayDeps<ManageSieveGatewayConfig> & {
  /** Defaults to the sieve_scripts table over `pool`. */
  store?: ScriptStore;
};

export interface ManageSieveGateway extends MailboxGateway {
  /** The port really bound (differs from the config when it asked for 0). */
  port: number;
}

/** Starts the ManageSieve listener (STARTTLS; RFC 5804 has no implicit-TLS port). */
export async function startManageSieveGateway(deps: ManageSieveGatewayDeps): Promise<ManageSieveGateway> {
  const { config, logger } = deps;
  const protocol = manageSieveProtocol(
    {
      directory: deps.directory,
      loginPolicy: deps.loginPolicy ?? new LoginPolicy(createLoginLimiter(deps.limits), { logger }),
      store: deps.store ?? createScriptStore(deps.pool, config.maxScriptBytes),
      logger,
    },
    {
      hostname: config.hostname,
      allowPlaintextAuthOnLoopback: config.allowPlaintextAuthOnLoopback,
      maxAuthFailures: config.maxAuthFailures,
      maxScriptBytes: config.maxScriptBytes,
      maxScripts: config.maxScripts,
      maxRedirects: DEFAULT_MAX_REDIRECTS,
    },
    { maxLineLength: config.maxLineLength, maxLiteralBytes: config.maxLiteralBytes },
  );
  const server = await startLineServer({
    protocol,
    listeners: [{ name: 'managesieve', port: config.port, implicitTls: false }],
    host: config.bindHost,
    tls: deps.tls,
    maxConnections: config.maxConnections,
    maxConnectionsPerIp: config.maxConnectionsPerIp,
    maxConnectionsPerUser: config.maxConnectionsPerUser,
    limits: deps.limits,
    leaseTiming: deps.leaseTiming,
    timers: {
      idleTimeoutMs: config.idleTimeoutMs,
      preAuthTimeoutMs: config.preAuthTimeoutMs,
      minTransferRate: config.minTransferRate,
      transferRateWindowMs: config.transferRateWindowMs,
    },
    trustedProxies: deps.trustedProxies,
    metrics: {
      connections: manageSieveMetrics.connections,
      activeConnections: manageSieveMetrics.activeConnections,
      refused: manageSieveMetrics.connectionsRefused,
    },
    logger,
  });
  const port = server.ports.managesieve;
  logger.info({ port, bindHost: config.bindHost }, 'managesieve-gateway listening');
  return {
    port,
    listeners: [{ name: 'ManageSieve (STARTTLS)', address: `sieve://${config.bindHost}:${port}` }],
    close: () => server.close(),
    updateTls: (material) => server.updateTls(material),
  };
}
