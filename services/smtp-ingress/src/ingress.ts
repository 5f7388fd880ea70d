import { createLoginLimiter, LoginPolicy } from '@correo/auth';
import { OutboundQuota } from '@correo/limits';
import type { LeaseTiming, OutboundQuotaSettings } from '@correo/limits';
import type { SMTPServer } from 'smtp-server';
import type { TlsMaterial } from '@correo/tls';
import type { SmtpIngressConfig } from './config.js';
import { noDecisionLog, type DecisionLog } from '@correo/store';
import { AbuseDefence } from './abuse-defence.js';
import { ConnectionGuard } from './connection-guard.js';
import { IngressDecisions } from './decisions.js';
import type { IngressBackends } from './ingress-backends.js';
import { createDnsLookup } from './dns-resolver.js';
import { createListener, type ListenerName } from './listener.js';
import { MAIL_ACCEPTED_TOPIC } from './message-intake.js';
import { createSpamFilter, type SpamThresholdLookup } from './spam-filter.js';

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
  /** The recipients' domains' own spam thresholds (libs/store); default: none, the config's apply. */
  spamThresholds?: SpamThresholdLookup;
  /** MAIL_OUTBOUND_*: hourly limits of submission to remote recipients per account and tenant; none when absent. */
  outboundLimits?: OutboundQuotaSettings;
  /** Where refusals and other decisions are recorded (a DecisionWriter on the store); default: nowhere. */
  decisions?: DecisionLog;
}

export interface SmtpIngress {
  /** The ports really bound (differs from the config when it asked for 0). */
  ports: Record<ListenerName, number>;
  /** Stops accepting, lets open sessions finish for config.shutdownTimeoutMs, then cuts them. */
  close(): Promise<void>;
  /** Waits until the decisions made so far are recorded (GET /v1/decisions). */
  flushDecisions(): Promise<void>;
  /** A renewed certificate (watchTlsMaterial): new connections and STARTTLS get it, open ones keep theirs. */
  updateTls(material: TlsMaterial): void;
}

/** Starts the MX, submission (STARTTLS) and submissions (implicit TLS) listeners. */
export async function startSmtpIngress(deps: SmtpIngressDeps): Promise<SmtpIngress> {
  const { config } = deps;
  const guard = new ConnectionGuard({
    maxPerIp: config.maxConnectionsPerIp,
    perIpPerMinute: config.connectionsPerIpPerMinute,
    perIpPerHour: config.abuse.connectionsPerIpPerHour,
    perBlockPerMinute: config.abuse.connectionsPerBlockPerMinute,
    perBlockPerHour: config.abuse.connectionsPerBlockPerHour,
    limits: deps.limits,
    leaseTiming: deps.leaseTiming,
    logger: deps.logger,
  });
  const topic = deps.topic ?? MAIL_ACCEPTED_TOPIC;
  const loginPolicy =
    deps.loginPolicy ?? new LoginPolicy(createLoginLimiter(deps.limits), { logger: deps.logger });
  const checks = config.senderAuthentication;
  // One resolver (and cache) for SPF/DKIM/DMARC, the DNS lists and the HELO/rDNS checks.
  const resolver = createDnsLookup({
    servers: checks.dnsServers,
    timeoutMs: checks.dnsTimeoutMs,
    cacheTtlMs: checks.dnsCacheTtlMs,
    cacheMaxEntries: checks.dnsCacheMaxEntries,
    failureCacheMs: checks.dnsFailureCacheMs,
  });
  const senderAuthentication = checks.enabled
    ? { resolver, dmarcReject: checks.dmarcReject, spoolDir: checks.spoolDir }
    : undefined;
  const spamFilter = config.spamFilter
    ? createSpamFilter(
        config.spamFilter,
        deps.spamThresholds ?? (() => Promise.resolve(new Map())),
        deps.logger.child({ component: 'spam-filter' }),
      )
    : undefined;
  const outboundQuota = deps.outboundLimits && new OutboundQuota(deps.limits, deps.outboundLimits);
  const decisions = new IngressDecisions({
    log: deps.decisions ?? noDecisionLog,
    limits: deps.limits,
    perIpPerMinute: config.abuse.decisionsPerIpPerMinute,
    logger: deps.logger.child({ component: 'decisions' }),
  });
  const defence = new AbuseDefence({
    config,
    directory: deps.directory,
    limits: deps.limits,
    lookup: resolver,
    decisions,
    logger: deps.logger,
  });
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
        spamFilter,
        outboundQuota,
        defence,
        decisions,
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
  deps.logger.info(
    { ports, bindHost: config.bindHost, spamFilter: config.spamFilter?.url ?? 'off' },
    'smtp-ingress listening',
  );

  let closing: Promise<void> | undefined;
  return {
    ports,
    close() {
      closing ??= Promise.all(started.map(({ server }) => closeServer(server)))
        .then(() => guard.close())
        .then(() => decisions.flush());
      return closing;
    },
    flushDecisions: () => decisions.flush(),
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
