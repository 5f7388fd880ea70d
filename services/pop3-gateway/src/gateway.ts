import type { MailboxGateway, MailboxGatewayDeps } from '@correo/backends';
import { createLoginLimiter, LoginPolicy } from '@correo/auth';
import { startLineServer } from '@correo/line-server';
import type { Pop3GatewayConfig } from './config.js';
import { pop3Protocol } from './connection.js';
import { createMaildropLocks } from './maildrop-lock.js';
import { createMaildropStore } from './maildrop-store.js';
import { pop3Metrics } from './metrics.js';

export type Pop3ListenerName = 'pop3' | 'pop3s';

export type Pop3GatewayDeps = MailboxGatewayDeps<Pop3GatewayConfig>;

/** close() stops listening and ends every session without UPDATE (nothing is deleted), freeing their locks. */
export interface Pop3Gateway extends MailboxGateway {
  /** The ports really bound (differs from the config when it asked for 0). */
  ports: Record<Pop3ListenerName, number>;
}

/** Starts POP3 (STLS) and POP3S (implicit TLS) listeners. */
export async function startPop3Gateway(deps: Pop3GatewayDeps): Promise<Pop3Gateway> {
  const { config, logger } = deps;
  const protocol = pop3Protocol(
    {
      directory: deps.directory,
      loginPolicy: deps.loginPolicy ?? new LoginPolicy(createLoginLimiter(deps.limits), { logger }),
      store: createMaildropStore({ pool: deps.pool, blobs: deps.blobs, notifier: deps.notifier, logger }),
      locks: createMaildropLocks(deps.limits, config.lockTtlMs),
      logger,
    },
    {
      hostname: config.hostname,
      allowPlaintextAuthOnLoopback: config.allowPlaintextAuthOnLoopback,
      maxAuthFailures: config.maxAuthFailures,
      maxLineLength: config.maxLineLength,
    },
  );
  const server = await startLineServer({
    protocol,
    listeners: [
      { name: 'pop3', port: config.ports.pop3, implicitTls: false },
      { name: 'pop3s', port: config.ports.pop3s, implicitTls: true },
    ],
    host: config.bindHost,
    tls: deps.tls,
    maxConnections: config.maxConnections,
    maxConnectionsPerIp: config.maxConnectionsPerIp,
    // No per-user caps: the maildrop lock already admits one session per account over every pod.
    limits: deps.limits,
    leaseTiming: deps.leaseTiming,
    timers: { idleTimeoutMs: config.idleTimeoutMs, preAuthTimeoutMs: config.preAuthTimeoutMs },
    trustedProxies: deps.trustedProxies,
    metrics: {
      connections: pop3Metrics.connections,
      activeConnections: pop3Metrics.activeConnections,
      refused: pop3Metrics.connectionsRefused,
    },
    logger,
  });
  const { ports } = server;
  logger.info({ ports, bindHost: config.bindHost }, 'pop3-gateway listening');
  return {
    ports,
    listeners: [
      { name: 'POP3 (STLS)', address: `pop3://${config.bindHost}:${ports.pop3}` },
      { name: 'POP3S (implicit TLS)', address: `pop3s://${config.bindHost}:${ports.pop3s}` },
    ],
    close: () => server.close(),
    updateTls: (material) => server.updateTls(material),
  };
}
