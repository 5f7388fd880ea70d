import { createLoginLimiter, LoginPolicy } from '@correo/auth';
import type { BlobStore } from '@correo/blobs';
import type { Directory } from '@correo/directory';
import type { LeaseTiming, Limits } from '@correo/limits';
import { startLineServer } from '@correo/line-server';
import type { Notifier } from '@correo/notify';
import type { Pool } from '@correo/store';
import type { Listener } from '@correo/runtime';
import type { Logger } from '@correo/telemetry';
import type { Pop3GatewayConfig } from './config.js';
import { pop3Protocol } from './connection.js';
import { createMaildropLocks } from './maildrop-lock.js';
import { createMaildropStore } from './maildrop-store.js';
import { pop3Metrics } from './metrics.js';

export type Pop3ListenerName = 'pop3' | 'pop3s';

export interface Pop3GatewayDeps {
  config: Pop3GatewayConfig;
  pool: Pool;
  blobs: BlobStore;
  directory: Pick<Directory, 'loginKey' | 'authenticate'>;
  /** The one-session-per-maildrop lock, the failed-login counters and the connection leases, shared by every pod. */
  limits: Limits;
  /** How long a killed pod's connections still count, how long an accept waits for `limits`. */
  leaseTiming?: LeaseTiming;
  /** Mailbox-changed notifications after an expunge (IMAP IDLE listens). */
  notifier: Notifier;
  logger: Logger;
  /** PEM key and certificate (see @correo/tls loadTlsMaterial) for STLS and port 995. */
  tls: { key: string; cert: string };
  /** Load balancers that open connections with a PROXY header (PROXY_TRUSTED_CIDRS). */
  trustedProxies?: readonly string[];
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
  /** A renewed certificate (watchTlsMaterial): new connections and STARTTLS get it, open ones keep theirs. */
  updateTls(material: { key: string; cert: string }): void;
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
