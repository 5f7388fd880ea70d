import { createLoginLimiter, LoginPolicy } from '@correo/auth';
import { OutboundQuota } from '@correo/limits';
import type { LeaseTiming, OutboundQuotaSettings } from '@correo/limits';
import type { SMTPServer } from 'smtp-server';
import type { TlsMaterial } from '@correo/tls';
import type { SmtpIngressConfig } from './config.js';
import { ConnectionGuard } from './connection-guard.js';
import type { IngressBackends } from './ingress-backends.js';
import { createDnsLookup } from './dns-resolver.js';
import { createListener, type ListenerName } from './listener.js';
import { MAIL_ACCEPTED_TOPIC } from './message-intake.js';

export interface SmtpIngressDeps extends IngressBackends {
  config: SmtpIngressConfig;
  /** Default: the standard policy over a limiter on `limits` (see @correo/auth). */
  loginPolicy?: LoginPolicy;
  /** Default 'mail.accepted'; the topic must exist (bus.ensureTopics) before mail arrives. */
  topic?: string;
  /** Load balancers that open connections with a PROXY header (PROXY_TRUSTED_CIDRS). */
  trustedProxies?: readonly string[];
  /** How long a killed pod's connections still count, how long an accept waits for `limits`. */
  leaseTiming?: LeaseTiming;
  /** MAIL_OUTBOUND_*: hourly limits of submission to remote recipients per account and tenant; none when absent. */
  outboundLimits?: OutboundQuotaSettings;
}

export interface SmtpIngress {
  /** The ports really bound (differs from the config when it asked for 0). */
  ports: Record<ListenerName, number>;
  /** Stops accepting, lets open sessions finish for config.shutdownTimeoutMs, then cuts them. */
  close(): Promise<void>;
  /** A renewed certificate (watchTlsMaterial): new connections and STARTTLS get it, open ones keep theirs. */
  updateTls(material: TlsMaterial): void;
}

/** Starts the MX, submission (STARTTLS) and submissions (implicit TLS) listeners. */
export async function startSmtpIngress(deps: SmtpIngressDeps): Promise<SmtpIngress> {
  const { config } = deps;
  const guard = new ConnectionGuard({
    maxPerIp: config.maxConnectionsPerIp,
    perIpPerMinute: config.connectionsPerIpPerMinute,
    limits: deps.limits,
    leaseTiming: deps.leaseTiming,
    logger: deps.logger,
  });
  const topic = deps.topic ?? MAIL_ACCEPTED_TOPIC;
  const loginPolicy =
    deps.loginPolicy ?? new LoginPolicy(createLoginLimiter(deps.limits), { logger: deps.logger });
  const checks = config.senderAuthentication;
  const senderAuthentication = checks.enabled
    ? {
        resolver: createDnsLookup({
          servers: checks.dnsServers,
          timeoutMs: checks.dnsTimeoutMs,
          cacheTtlMs: checks.dnsCacheTtlMs,
          cacheMaxEntries: checks.dnsCacheMaxEntries,
        }),
        dmarcReject: checks.dmarcReject,
        spoolDir: checks.spoolDir,
      }
    : undefined;
  const outboundQuota = deps.outboundLimits && new OutboundQuota(deps.limits, deps.outboundLimits);
  const names: ListenerName[] = ['mx', 'submission', 'submissions'];
  const started: { name: ListenerName; server: SMTPServer; port: number }[] = [];
  try {
    for (const name of names) {
      const server = createListener({
        name,
        config,
        backends: deps,
        guard,
        topic,
        senderAuthentication,
        loginPolicy,
        trustedProxies: deps.trustedProxies ?? [],
        outboundQuota,
      });
      const port = await listen(server, config.ports[name], config.bindHost);
      started.push({ name, server, port });
    }
  } catch (error) {
    await Promise.all(started.map(({ server }) => closeServer(server)));
    throw error;
  }
  const ports = Object.fromEntries(started.map(({ name, port }) => [name, port])) as Record<
    ListenerName,
    number
  >;
  deps.logger.info({ ports, bindHost: config.bindHost }, 'smtp-ingress listening');

  let closing: Promise<void> | undefined;
  return {
    ports,
    close() {
      closing ??= Promise.all(started.map(({ server }) => closeServer(server))).then(() => guard.close());
      return closing;
    },
    updateTls(material) {
      for (const { server } of started)
        server.updateSecureContext({ key: material.key, cert: material.cert });
    },
  };
}

function listen(server: SMTPServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => reject(error);
    server.server.once('error', failed);
    server.listen(port, host, () => {
      server.server.off('error', failed);
      const address = server.server.address();
      resolve(address && typeof address === 'object' ? address.port : port);
    });
  });
}

function closeServer(server: SMTPServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
