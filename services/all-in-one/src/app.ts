import { join } from 'node:path';
import { buildAdminApi, adminApiSection } from '@correo/admin-api';
import type { Config } from '@correo/config';
import { createMailPathDirectory, ensureDemoAccount } from '@correo/directory';
import { OutboundQuota } from '@correo/limits';
import { imapGatewaySection, startImapGateway } from '@correo/imap-gateway';
import { mdaConfigSection, startMda } from '@correo/mda';
import { relayConfigSection, startMtaRelay } from '@correo/mta-relay';
import { manageSieveGatewaySection, startManageSieveGateway } from '@correo/managesieve-gateway';
import { pop3GatewaySection, startPop3Gateway } from '@correo/pop3-gateway';
import { createDecisionWriter, smtpIngressSection, startSmtpIngress } from '@correo/smtp-ingress';
import { startWebmail, UserSettingsStore, webmailSection } from '@correo/webmail';
import { loadTlsMaterial, reloadTlsOnRenewal } from '@correo/tls';
import { retryUntilDone, type Listener, type RunningService, type ServiceContext } from '@correo/runtime';
import { createImageSenderList, migrate } from '@correo/store';
import { openBackends, type Backends } from './backends.js';
import { allInOneSection } from './config.js';
import { clientSettingsSection } from '@correo/autoconfig';
import { readOrCreateSecret } from './secrets.js';

/** The topics every deployment has; the mda scales with the partitions of mail.accepted. */
export const TOPICS = ['mail.accepted', 'mail.outbound'] as const;

export const sections = {
  smtp: smtpIngressSection,
  mda: mdaConfigSection,
  relay: relayConfigSection,
  imap: imapGatewaySection,
  pop3: pop3GatewaySection,
  managesieve: manageSieveGatewaySection,
  adminApi: adminApiSection,
  webmail: webmailSection,
  allInOne: allInOneSection,
  client: clientSettingsSection,
};
export type AllInOneConfig = Config & {
  smtp: ReturnType<typeof smtpIngressSection.build>;
  mda: ReturnType<typeof mdaConfigSection.build>;
  relay: ReturnType<typeof relayConfigSection.build>;
  imap: ReturnType<typeof imapGatewaySection.build>;
  pop3: ReturnType<typeof pop3GatewaySection.build>;
  managesieve: ReturnType<typeof manageSieveGatewaySection.build>;
  adminApi: ReturnType<typeof adminApiSection.build>;
  webmail: ReturnType<typeof webmailSection.build>;
  allInOne: ReturnType<typeof allInOneSection.build>;
  client: ReturnType<typeof clientSettingsSection.build>;
};

export interface AllInOne extends RunningService {
  backends: Backends;
  demo: { address: string; password: string } | undefined;
  adminToken: string;
}

/**
 * Every correo service in one process over one set of backends: the embedded default of
 * `make dev`. Services join here as they land; each keeps its own start function so that it
 * also runs alone in the distributed deployment.
 */
export async function startAllInOne({
  config,
  logger,
  signal,
  addChecks,
  progress,
}: ServiceContext<AllInOneConfig>): Promise<AllInOne> {
  const backends = await openBackends(config, logger);
  addChecks(backends.checks);
  const stops: (() => Promise<void>)[] = [() => backends.close()];
  const close = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  };
  try {
    progress('starting: migrating the database');
    await retryUntilDone('database migration', () => migrate(backends.databaseUrl), logger, signal);
    progress('starting: creating bus topics');
    await retryUntilDone(
      'bus topic creation',
      () =>
        backends.bus.ensureTopics(
          TOPICS.map((name) => ({ name, partitions: config.bus.kafka.topicPartitions })),
        ),
      logger,
      signal,
    );

    let demo: AllInOne['demo'];
    if (config.allInOne.demo) {
      const password =
        config.allInOne.demoPassword ?? (await readOrCreateSecret(join(config.dataDir, 'demo-password')));
      await ensureDemoAccount(backends.pool, { address: config.allInOne.demoAddress, password });
      demo = { address: config.allInOne.demoAddress, password };
    }

    const directory = createMailPathDirectory(backends.pool, config.directory, (error) =>
      logger.warn({ error: error.message }, 'directory change notifications lost: not caching'),
    );
    stops.push(() => directory.close());
    const mda = await startMda({
      bus: backends.bus,
      blobs: backends.blobs,
      pool: backends.pool,
      directory,
      notifier: backends.notifier,
      outboundQuota: new OutboundQuota(backends.limits, config.limits.outbound),
      logger: logger.child({ component: 'mda' }),
      config: config.mda,
    });
    stops.push(() => mda.close());
    addChecks(mda.checks);
    const relay = await startMtaRelay({
      bus: backends.bus,
      blobs: backends.blobs,
      pool: backends.pool,
      directory,
      limits: backends.limits,
      logger: logger.child({ component: 'mta-relay' }),
      config: config.relay,
    });
    stops.push(() => relay.close());
    addChecks(relay.checks);

    // One certificate for every TLS listener of this host (configured, or self-signed once).
    const tlsOptions = {
      certFile: config.smtp.tls.certFile,
      keyFile: config.smtp.tls.keyFile,
      dataDir: config.dataDir,
      hostname: config.smtp.hostname,
    };
    const tls = await loadTlsMaterial(tlsOptions);
    // The webmail's own connections carry the browser's address in a PROXY header (embedded-defaults.ts).
    const trustedProxies =
      config.webmail.proxyProtocol && config.webmail.sourceAddress
        ? [...config.proxy.trustedCidrs, config.webmail.sourceAddress]
        : config.proxy.trustedCidrs;
    const smtp = await startSmtpIngress({
      config: config.smtp,
      bus: backends.bus,
      blobs: backends.blobs,
      directory,
      limits: backends.limits,
      logger: logger.child({ component: 'smtp-ingress' }),
      tls,
      trustedProxies,
      leaseTiming: config.limits.leases,
      outboundLimits: config.limits.outbound,
      decisions: createDecisionWriter(backends.pool, logger.child({ component: 'smtp-ingress' })),
    });
    stops.push(() => smtp.close());
    const imap = await startImapGateway({
      config: config.imap,
      pool: backends.pool,
      blobs: backends.blobs,
      directory,
      limits: backends.limits,
      notifier: backends.notifier,
      logger: logger.child({ component: 'imap-gateway' }),
      tls,
      trustedProxies,
      leaseTiming: config.limits.leases,
    });
    stops.push(() => imap.close());
    const pop3 = await startPop3Gateway({
      config: config.pop3,
      pool: backends.pool,
      blobs: backends.blobs,
      directory,
      limits: backends.limits,
      notifier: backends.notifier,
      logger: logger.child({ component: 'pop3-gateway' }),
      tls,
      trustedProxies,
      leaseTiming: config.limits.leases,
    });
    stops.push(() => pop3.close());
    const managesieve = await startManageSieveGateway({
      config: config.managesieve,
      pool: backends.pool,
      blobs: backends.blobs,
      directory,
      limits: backends.limits,
      notifier: backends.notifier,
      logger: logger.child({ component: 'managesieve-gateway' }),
      tls,
      trustedProxies,
      leaseTiming: config.limits.leases,
    });
    stops.push(() => managesieve.close());
    // A renewed certificate reaches new SMTP, IMAP, POP3 and ManageSieve connections without a restart.
    const certificateWatch = reloadTlsOnRenewal(tlsOptions, tls, [smtp, imap, pop3, managesieve], logger);
    stops.push(async () => certificateWatch.close());

    const adminToken =
      config.adminApi.adminToken ?? (await readOrCreateSecret(join(config.dataDir, 'admin-token'), 32));
    // Unless CLIENT_* says otherwise, clients are told the ports this process really listens on.
    const clientSettings = config.client({
      imapsPort: imap.ports.imaps,
      imapPort: imap.ports.imap,
      pop3sPort: pop3.ports.pop3s,
      pop3Port: pop3.ports.pop3,
      submissionsPort: smtp.ports.submissions,
      submissionPort: smtp.ports.submission,
    });
    const adminApi = await buildAdminApi({
      pool: backends.pool,
      bus: backends.bus,
      adminToken,
      dnsServers: config.adminApi.dnsServers,
      clientSettings,
      logger: logger.child({ component: 'admin-api' }),
    });
    await adminApi.listen({ host: config.adminApi.host, port: config.adminApi.port });
    stops.push(() => adminApi.close());
    // The webmail is an MUA like any other: it reaches this process's own IMAP, submission and
    // ManageSieve listeners over loopback TLS, trusting exactly this host's certificate.
    const webmail = await startWebmail({
      // Authentication-Results of this host's MX are the ones the reading pane trusts.
      config: { ...config.webmail, authservId: config.webmail.authservId ?? config.smtp.hostname },
      imageSenders: createImageSenderList(backends.pool),
      logger: logger.child({ component: 'webmail' }),
      gateways: {
        imap: { host: connectHost(config.imap.bindHost), port: imap.ports.imap },
        submission: { host: connectHost(config.smtp.bindHost), port: smtp.ports.submission },
        // The rules and vacation views manage the user's script over this process's own ManageSieve.
        managesieve: { host: connectHost(config.managesieve.bindHost), port: managesieve.port },
        tls: { ca: tls.cert, servername: config.smtp.hostname },
      },
      // Mail clients set themselves up from the webmail's host (autoconfig.<domain>, autodiscover).
      autoconfig: { settings: clientSettings, isServedDomain: (domain) => directory.isLocalDomain(domain) },
      settings: new UserSettingsStore(backends.pool, directory),
      maxMessageBytes: config.smtp.maxMessageBytes,
    });
    stops.push(() => webmail.close());
    const smtpHost = config.smtp.bindHost;
    const listeners: Listener[] = [
      { name: 'SMTP MX (no AUTH)', address: `${smtpHost}:${smtp.ports.mx}` },
      { name: 'SMTP submission (STARTTLS + AUTH)', address: `${smtpHost}:${smtp.ports.submission}` },
      { name: 'SMTP submission (implicit TLS)', address: `${smtpHost}:${smtp.ports.submissions}` },
      ...imap.listeners,
      ...pop3.listeners,
      ...managesieve.listeners,
      {
        name: 'admin-api (REST, OpenAPI at /docs)',
        address: `http://${config.adminApi.host}:${portOf(adminApi)}`,
      },
      { name: 'webmail', address: webmail.url },
    ];
    return { backends, demo, adminToken, listeners, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A wildcard bind is reached on loopback. */
function connectHost(bindHost: string): string {
  if (bindHost === '0.0.0.0' || bindHost === '') return '127.0.0.1';
  if (bindHost === '::') return '::1';
  return bindHost;
}

function portOf(app: { server: { address(): unknown } }): number {
  return (app.server.address() as { port: number }).port;
}

/** What runs where, for a person at a terminal. */
export function describe(config: AllInOneConfig, app: AllInOne): string {
  const { bus, blobs, notifier, limits } = app.backends;
  const rows: [string, string][] = [
    ['data directory', config.dataDir],
    ['metadata', app.backends.databaseLabel],
    [
      'bus',
      bus.kind === 'postgres' ? 'PostgreSQL queue tables' : `Kafka ${config.bus.kafka.brokers.join(',')}`,
    ],
    ['blobs', blobs.kind === 'fs' ? config.blobs.dir : `S3 bucket ${config.blobs.s3.bucket}`],
    ['notify / limits', `${notifier.kind} / ${limits.kind}`],
    ...app.listeners.map((l): [string, string] => [l.name, l.address]),
  ];
  if (app.demo) {
    rows.push(['demo account', `${app.demo.address}  password: ${app.demo.password}`]);
    const webmail = app.listeners.find((listener) => listener.name === 'webmail');
    if (webmail) rows.push(['  sign in to the webmail at', webmail.address]);
  }
  rows.push([
    'admin token',
    config.adminApi.adminToken ? '(ADMIN_TOKEN)' : join(config.dataDir, 'admin-token'),
  ]);
  return ['correo is running', ...rows.map(([label, value]) => `  ${label.padEnd(36)} ${value}`)].join('\n');
}
