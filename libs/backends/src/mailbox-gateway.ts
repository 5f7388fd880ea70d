import type { LoginPolicy } from '@correo/auth';
import type { BlobStore } from '@correo/blobs';
import type { ConfigSection, VariableShape } from '@correo/config';
import { createPostgresDirectory, type Directory } from '@correo/directory';
import type { LeaseTiming, Limits } from '@correo/limits';
import type { Notifier } from '@correo/notify';
import { runService, type Listener } from '@correo/runtime';
import type { Pool } from '@correo/store';
import type { Logger } from '@correo/telemetry';
import { loadTlsMaterial, reloadTlsOnRenewal, type TlsListener } from '@correo/tls';
import { openBackends, requireDatabaseUrl } from './open-backends.js';

/**
 * What every mailbox gateway (IMAP, POP3; next ManageSieve) is started with besides its own
 * config: the store it reads, the limits and login path every pod shares, its certificate.
 */
export interface MailboxGatewayDeps<C> {
  config: C;
  pool: Pool;
  blobs: BlobStore;
  directory: Pick<Directory, 'loginKey' | 'authenticate'>;
  /** Failed-login counters, connection leases (and POP3's maildrop lock), shared by every pod. */
  limits: Limits;
  /** How long a killed pod's connections still count, how long an accept waits for `limits`. */
  leaseTiming?: LeaseTiming;
  /** Mailbox-changed notifications: every change publishes, IDLE and NOTIFY listen. */
  notifier: Notifier;
  logger: Logger;
  /** PEM key and certificate (see @correo/tls loadTlsMaterial) for STARTTLS and the implicit-TLS port. */
  tls: { key: string; cert: string };
  /** Load balancers that open connections with a PROXY header (PROXY_TRUSTED_CIDRS). */
  trustedProxies?: readonly string[];
  /** Defaults to the standard policy over createLoginLimiter(limits). */
  loginPolicy?: LoginPolicy;
}

/** A started mailbox gateway. */
export interface MailboxGateway extends TlsListener {
  /** What a person connects to, for the service banner. */
  listeners: Listener[];
  /** Stops listening and ends every session (after the command under way). */
  close(): Promise<void>;
}

/** The settings every gateway section has: its host name and certificate files. */
interface GatewaySettings {
  hostname: string;
  tls: { certFile: string | undefined; keyFile: string | undefined };
}

/**
 * A mailbox gateway's whole main.ts: config, backends (store, blobs, notify, limits), the
 * certificate (reloaded on renewal without a restart), the gateway; drained on SIGTERM. The schema
 * is migrated beforehand (libs/store migrate CLI).
 */
export function runMailboxGateway<K extends string, C extends GatewaySettings>(definition: {
  name: string;
  /** The config section's key: config[key] is the gateway's own config. */
  key: K;
  section: ConfigSection<VariableShape, C>;
  start(deps: MailboxGatewayDeps<C>): Promise<MailboxGateway>;
}): Promise<void> {
  const sections = { [definition.key]: definition.section } as Record<K, ConfigSection<VariableShape, C>>;
  return runService({
    name: definition.name,
    sections,
    async start({ config, logger, addChecks }) {
      const own = config[definition.key] as C;
      const backends = openBackends(config, requireDatabaseUrl(config), logger, [
        'blobs',
        'notify',
        'limits',
      ]);
      addChecks(backends.checks);
      const tlsOptions = {
        certFile: own.tls.certFile,
        keyFile: own.tls.keyFile,
        dataDir: config.dataDir,
        hostname: own.hostname,
      };
      const tls = await loadTlsMaterial(tlsOptions);
      const gateway = await definition.start({
        config: own,
        pool: backends.pool,
        blobs: backends.blobs,
        directory: createPostgresDirectory(backends.pool, {
          allowUnverifiedDomains: config.directory.allowUnverifiedDomains,
        }),
        limits: backends.limits,
        leaseTiming: config.limits.leases,
        notifier: backends.notifier,
        logger,
        tls,
        trustedProxies: config.proxy.trustedCidrs,
      });
      const certificateWatch = reloadTlsOnRenewal(tlsOptions, tls, [gateway], logger);
      return {
        listeners: gateway.listeners,
        async close() {
          certificateWatch.close();
          await gateway.close();
          await backends.close();
        },
      };
    },
  });
}
