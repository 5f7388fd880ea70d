import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { freePorts, startAllInOneProcess, startDnsServer } from '@correo/testkit';
import type { AllInOneProcess, DnsRecords, TestDnsServer } from '@correo/testkit';
import { AdminClient } from './admin-client.js';
import type { MailHost } from './mailbox-reader.js';

/** One mail domain with a correo stack of its own, as if on its own host. */
export interface MailDomain {
  name: string;
  /** The loopback address standing for its host: every listener binds here, its relay sends from here. */
  ip: string;
  /** Its MX host name: SMTP_HOSTNAME, the authserv-id of its Authentication-Results, its certificate. */
  mxHost: string;
  app: AllInOneProcess;
  admin: AdminClient;
  /** Its metadata database, for what only SQL shows (what is stored where). */
  db: pg.Client;
  imap: MailHost;
  pop3: MailHost;
}

export interface DomainPlan {
  name: string;
  ip: string;
}

export interface TwoDomains {
  dns: TestDnsServer;
  sender: MailDomain;
  receiver: MailDomain;
  stop(): Promise<void>;
}

/** What the stacks share; the relay's lifetime and retries are short enough to see expiry in a test. */
export interface TwoDomainsOptions {
  sender: DomainPlan;
  receiver: DomainPlan;
  /** Added to both stacks' environment. */
  env?: Record<string, string>;
}

/** MX -> mx.<domain> -> its IP, SPF naming only that IP, DMARC p=reject: a strict, ordinary domain. */
export function domainRecords(domain: DomainPlan): Record<string, DnsRecords> {
  return {
    [domain.name]: {
      MX: [{ exchange: `mx.${domain.name}`, priority: 10 }],
      TXT: [`v=spf1 ip4:${domain.ip} -all`],
    },
    [`mx.${domain.name}`]: { A: [domain.ip] },
    [`_dmarc.${domain.name}`]: { TXT: ['v=DMARC1; p=reject'] },
  };
}

/**
 * Two all-in-one stacks on one machine, each bound to its own loopback address with its own
 * embedded PostgreSQL, and a DNS server on 127.0.0.1 that both the relays (MX, A) and the MX
 * listeners' sender checks (SPF, DKIM, DMARC TXT) ask. Every MX is reached on the other stack's
 * MX port: RELAY_SMTP_PORT stands for port 25, which tests cannot bind. `sender`'s stack has
 * miemail.test's role, `receiver`'s suemail.test's; the domains themselves are provisioned by the
 * caller over each admin-api.
 */
export async function startTwoDomains(options: TwoDomainsOptions): Promise<TwoDomains> {
  const dns = await startDnsServer({ ...domainRecords(options.sender), ...domainRecords(options.receiver) });
  const [senderMx, receiverMx] = (await freePorts(2)) as [number, number];
  const envFor = (self: DomainPlan, mxPort: number, peerMxPort: number): Record<string, string> => ({
    CORREO_DEMO: 'false',
    SMTP_HOSTNAME: `mx.${self.name}`,
    SMTP_MX_PORT: String(mxPort),
    SMTP_DNS_SERVERS: dns.address,
    RELAY_DNS_SERVERS: dns.address,
    RELAY_SMTP_PORT: String(peerMxPort),
    // Both installations and the unreachable third domain live on loopback: a test stack's explicit
    // allowance (production relays refuse MX answers that lead to non-public addresses).
    RELAY_ALLOWED_NETWORKS: '127.0.0.0/8',
    RELAY_SOURCE_ADDRESS: self.ip,
    RELAY_EHLO_NAME: `mx.${self.name}`,
    ...options.env,
  });

  const started = await Promise.allSettled([
    startAllInOneProcess({
      bindHost: options.sender.ip,
      env: envFor(options.sender, senderMx, receiverMx),
    }),
    startAllInOneProcess({
      bindHost: options.receiver.ip,
      env: envFor(options.receiver, receiverMx, senderMx),
    }),
  ]);
  const apps = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await Promise.allSettled(apps.map((app) => app.stop()));
    await dns.close();
    throw failed.reason;
  }
  const [senderApp, receiverApp] = apps as [AllInOneProcess, AllInOneProcess];

  const domains: MailDomain[] = [];
  const stop = async () => {
    await Promise.allSettled(domains.map((domain) => domain.db.end()));
    await Promise.allSettled([senderApp.stop(), receiverApp.stop()]);
    await dns.close();
  };
  try {
    for (const [plan, app] of [
      [options.sender, senderApp],
      [options.receiver, receiverApp],
    ] as const) {
      const db = new pg.Client({ connectionString: app.databaseUrl });
      await db.connect();
      const mxHost = `mx.${plan.name}`;
      const host = (port: number): MailHost => ({
        address: plan.ip,
        port,
        serverName: mxHost,
        caFile: app.caFile,
      });
      domains.push({
        name: plan.name,
        ip: plan.ip,
        mxHost,
        app,
        admin: new AdminClient(app.adminUrl, app.adminToken),
        db,
        imap: host(app.ports.imap),
        pop3: host(app.ports.pop3),
      });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { dns, sender: domains[0]!, receiver: domains[1]!, stop };
}

/** A password good enough for the admin-api's rules, different every run. */
export function newPassword(): string {
  return `pw-${randomBytes(12).toString('base64url')}`;
}

/** The subjects of the messages an account holds, in any folder, as the receiving store has them. */
export async function storedSubjects(domain: MailDomain, address: string): Promise<string[]> {
  const { rows } = await domain.db.query<{ header_subject: string | null }>(
    `SELECT m.header_subject FROM messages m JOIN accounts a ON a.id = m.account_id
      WHERE a.address = $1 ORDER BY m.id`,
    [address],
  );
  return rows.map((row) => row.header_subject ?? '');
}

/**
 * What an operator does first on a sending installation: a tenant, its domain and a DKIM key
 * whose record is published in the test DNS, so the domain's mail passes DKIM and DMARC at the
 * other end.
 */
export async function provisionSigningDomain(
  world: TwoDomains,
  domain: MailDomain,
  tenantName: string,
  selector: string,
): Promise<{ tenantId: string; domainId: string; dkimRecordName: string }> {
  const tenant = await domain.admin.createTenant(tenantName);
  const created = await domain.admin.createDomain(domain.name, tenant.id);
  const key = await domain.admin.createDkimKey(created.id, selector);
  world.dns.set(key.dnsRecord.name, { TXT: [key.dnsRecord.strings] });
  return { tenantId: tenant.id, domainId: created.id, dkimRecordName: key.dnsRecord.name };
}
