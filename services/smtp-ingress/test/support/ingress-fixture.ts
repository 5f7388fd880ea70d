import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createLoginLimiter,
  LoginPolicy,
  type LoginLimiterOptions,
  type LoginPolicyOptions,
} from '@correo/auth';
import type { BlobStore } from '@correo/blobs';
import type { Bus, DeliveredMessage, Subscription } from '@correo/bus';
import { loadConfig } from '@correo/config';
import { createPostgresDirectory, createProvisioning } from '@correo/directory';
import { createMemoryLimits, createRedisLimits, MemoryLimitsState, type Limits } from '@correo/limits';
import { decodeMailAccepted, type MailAccepted } from '@correo/proto';
import { DecisionWriter, readDomainSpamThresholds, type Pool } from '@correo/store';
import { createLogger } from '@correo/telemetry';
import {
  eventually,
  pythonSmtp,
  startDnsServer,
  swaks,
  testBackends,
  uniqueName,
  type ClientRun,
  type DnsRecords,
  type TestDnsServer,
} from '@correo/testkit';
import { openTestStack, type StackKind } from '@correo/testkit/stack';
import { loadTlsMaterial, type TlsMaterial } from '@correo/tls';
import {
  smtpIngressSection,
  startSmtpIngress,
  type SmtpIngress,
  type SmtpIngressDeps,
} from '../../src/index.js';

export const LOCAL_DOMAIN = 'local.test';
export const OTHER_LOCAL_DOMAIN = 'otro.test';
export const PASSWORD = 'correct horse battery staple';
export const USER = `yo@${LOCAL_DOMAIN}`;
export const OTHER_USER = `ella@${LOCAL_DOMAIN}`;
export const ALIAS = `alias@${LOCAL_DOMAIN}`;

export interface FixtureOptions {
  /** The bus and blob store: embedded (Postgres bus, files) unless given. */
  kind?: StackKind;
  /** SMTP_* variables on top of the test defaults. */
  env?: Record<string, string>;
  /** Records served to the ingress's sender checks (SMTP_DNS_SERVERS) by a DNS server on loopback. */
  zone?: Record<string, DnsRecords>;
  /** Failed-login thresholds (tests lower them to reach a lockout quickly). */
  loginLimiter?: LoginLimiterOptions;
  /** The login policy's clock (a RecordingClock): its waits are asserted, not measured. */
  loginClock?: Pick<LoginPolicyOptions, 'now' | 'sleep'>;
  /** PROXY_TRUSTED_CIDRS of the ingress (tests that present other client addresses). */
  trustedProxies?: string[];
}

export interface PublishedEvent {
  event: MailAccepted;
  message: DeliveredMessage;
}

/** Everything one test file needs: a migrated database with accounts, real bus and blob adapters, the ingress. */
export interface IngressFixture {
  ingress: SmtpIngress;
  bus: Bus;
  blobs: BlobStore;
  pool: Pool;
  tls: TlsMaterial;
  dataDir: string;
  topic: string;
  /** The DNS server on 127.0.0.1 the MX listener's SPF/DKIM/DMARC checks ask. */
  dns: TestDnsServer;
  /** Events consumed from the topic so far, in order. */
  events: PublishedEvent[];
  waitForEvents(count: number, timeoutMs?: number): Promise<PublishedEvent[]>;
  /**
   * Proves that nothing was published after the first `since` events: a marker message goes in on the
   * MX listener and is awaited (the topic has one partition, so whatever was published before the
   * marker is consumed before it), then the marker must be the only event after `since`. Reading the
   * list at once would pass while a refused message's event was still on its way.
   */
  expectNothingPublishedSince(since: number, why?: string): Promise<void>;
  /** One more client of the fixture's bus (the one `events` watches), closed with the fixture. */
  openBus(): Bus;
  /** Every key in the fixture's blob store now. */
  blobKeys(): Promise<Set<string>>;
  /** The ingress's in-process limits (login counters): `sweep(t)` forgets what has expired by time t. */
  limitsState: MemoryLimitsState;
  /** Where the ingress records its decisions (mail_decisions of the test database). */
  decisions: DecisionWriter;
  blobBytes(key: string): Promise<Buffer>;
  /**
   * The stored message an event names: its own body when it rides in the event (up to
   * SMTP_INLINE_BODY_BYTES), else the blob; either way the bytes are checked against the event's
   * blob key, SHA-256 and size.
   */
  storedBytes(event: MailAccepted): Promise<Buffer>;
  /**
   * A second ingress sharing the fixture's directory, topic, backends and DNS server, with some of them
   * swapped and `env` over the test variables.
   */
  startIngress(overrides: Partial<SmtpIngressDeps>, env?: Record<string, string>): Promise<SmtpIngress>;
  /**
   * Another ingress "pod" counting in the shared Redis under `keyPrefix` (pods of one prefix share
   * every limit), with `env` over the test variables and the fixture's DNS server; it and its limits
   * client are closed with the fixture.
   */
  startRedisPod(
    keyPrefix: string,
    env?: Record<string, string>,
    overrides?: Partial<SmtpIngressDeps>,
  ): Promise<{ ingress: SmtpIngress; limits: Limits }>;
  stop(): Promise<void>;
}

/** Test-friendly ingress variables: OS-chosen ports on loopback, production-like policy. */
export function testEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    SMTP_HOSTNAME: 'mx.local.test',
    SMTP_BIND_HOST: '127.0.0.1',
    SMTP_MX_PORT: '0',
    SMTP_SUBMISSION_PORT: '0',
    SMTP_SUBMISSIONS_PORT: '0',
    SMTP_SHUTDOWN_TIMEOUT_MS: '1000',
    SMTP_CONNECTIONS_PER_IP_PER_MINUTE: '0',
    SMTP_MAX_CONNECTIONS_PER_IP: '100',
    ...extra,
  };
}

/** The test database gets two local domains, two accounts and an alias of yo@. */
export async function provisionDirectory(pool: Pool): Promise<void> {
  const provisioning = createProvisioning(pool);
  const tenant = await provisioning.createTenant({ name: uniqueName('tenant') });
  await provisioning.createDomain({ name: LOCAL_DOMAIN, tenantId: tenant.id, verified: true });
  await provisioning.createDomain({ name: OTHER_LOCAL_DOMAIN, tenantId: tenant.id, verified: true });
  await provisioning.createAccount({ address: USER, password: PASSWORD });
  await provisioning.createAccount({ address: OTHER_USER, password: PASSWORD });
  await provisioning.createAlias({ source: ALIAS, targets: [USER] });
}

export async function startIngressFixture(options: FixtureOptions = {}): Promise<IngressFixture> {
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => undefined);
  };
  try {
    const stack = await openTestStack(options.kind ?? 'embedded', { maxAttempts: 1, poolMax: 4 });
    cleanups.push(() => stack.close());
    const { pool, bus, blobs, dir: dataDir } = stack;
    await provisionDirectory(pool);
    const topic = uniqueName('mail.accepted');
    await bus.ensureTopics([{ name: topic, partitions: 1 }]);

    const tls = await loadTlsMaterial({ dataDir, hostname: 'mx.local.test' });
    // Every MX test runs the sender checks against a real DNS server; names outside `zone` are NXDOMAIN.
    const dns = await startDnsServer(options.zone ?? {});
    cleanups.push(() => dns.close());
    const env = { SMTP_DNS_SERVERS: dns.address, SMTP_SPOOL_DIR: dataDir, ...options.env };
    const config = loadConfig(testEnv(env), { smtp: smtpIngressSection }).smtp;
    const limitsState = new MemoryLimitsState();
    const limits = createMemoryLimits({ state: limitsState });
    const decisions = new DecisionWriter(pool);
    const ingress = await startSmtpIngress({
      decisions,
      trustedProxies: options.trustedProxies ?? [],
      config,
      bus,
      blobs,
      directory: createPostgresDirectory(pool),
      limits,
      loginPolicy: new LoginPolicy(createLoginLimiter(limits, options.loginLimiter), {
        ...options.loginClock,
      }),
      logger: createLogger('smtp-ingress-test', 'silent'),
      tls,
      topic,
      spamThresholds: (domains) => readDomainSpamThresholds(pool, domains),
    });
    cleanups.push(() => ingress.close());

    const events: PublishedEvent[] = [];
    const subscription: Subscription = await bus.subscribe({
      group: uniqueName('smtp-test-group'),
      topic,
      handler: async (message) => {
        events.push({ event: decodeMailAccepted(message.value), message });
      },
    });
    // Stopped before the bus closes (cleanups run in reverse).
    cleanups.push(() => subscription.stop());

    return {
      ingress,
      bus,
      blobs,
      pool,
      tls,
      dataDir,
      topic,
      dns,
      events,
      limitsState,
      decisions,
      async waitForEvents(count, timeoutMs = 20_000) {
        const deadline = Date.now() + timeoutMs;
        while (events.length < count) {
          if (Date.now() > deadline) {
            throw new Error(`expected ${count} MailAccepted events, got ${events.length}`);
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return events.slice(0, count);
      },
      async expectNothingPublishedSince(since, why = 'nothing was published') {
        const marker = await pythonSmtp({
          host: '127.0.0.1',
          port: ingress.ports.mx,
          mode: 'plain',
          send: { from: 'marker@remote.test', to: [USER], message: 'Subject: marker\r\n\r\nmarker\r\n' },
        });
        const [code, text] = marker.replies.at(-1) ?? [];
        const markerId = /^2\.0\.0 Ok: queued as (\S+)$/.exec(text ?? '')?.[1];
        assert.ok(code === 250 && markerId, `the marker is accepted: ${JSON.stringify(marker)}`);
        await eventually('the marker to be consumed', () => events.some((e) => e.event.eventId === markerId));
        assert.deepEqual(
          events.slice(since).map((e) => e.event.eventId),
          [markerId],
          `${why}: the marker is the only event since`,
        );
      },
      openBus: () => stack.openBus(),
      async blobKeys() {
        const keys = new Set<string>();
        for await (const key of blobs.list()) keys.add(key);
        return keys;
      },
      startIngress(overrides, ingressEnv = {}) {
        const ingressConfig = loadConfig(
          testEnv({ SMTP_DNS_SERVERS: dns.address, SMTP_SPOOL_DIR: dataDir, ...ingressEnv }),
          { smtp: smtpIngressSection },
        ).smtp;
        return startSmtpIngress({
          config: ingressConfig,
          bus,
          blobs,
          directory: createPostgresDirectory(pool),
          limits: createMemoryLimits({ state: new MemoryLimitsState() }),
          logger: createLogger('smtp-ingress-test', 'silent'),
          tls,
          topic,
          decisions,
          ...overrides,
        });
      },
      async startRedisPod(keyPrefix, podEnv = {}, overrides = {}) {
        const podLimits = createRedisLimits({ url: testBackends().redisUrl, keyPrefix });
        cleanups.push(() => podLimits.close());
        const podConfig = loadConfig(testEnv({ SMTP_DNS_SERVERS: dns.address, ...podEnv }), {
          smtp: smtpIngressSection,
        }).smtp;
        const pod = await startSmtpIngress({
          config: podConfig,
          bus,
          blobs,
          directory: createPostgresDirectory(pool),
          limits: podLimits,
          logger: createLogger('smtp-ingress-test', 'silent'),
          tls,
          topic,
          decisions,
          ...overrides,
        });
        cleanups.push(() => pod.close());
        return { ingress: pod, limits: podLimits };
      },
      blobBytes: (key) => stack.blobBytes(key),
      async storedBytes(event) {
        const bytes =
          event.body.byteLength > 0 ? Buffer.from(event.body) : await stack.blobBytes(event.blobKey);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        assert.equal(sha256, event.sha256, 'the stored bytes hash to the event SHA-256');
        assert.equal(event.blobKey, sha256, 'the blob key is the content address of the stored bytes');
        assert.equal(BigInt(bytes.length), event.size);
        return bytes;
      },
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/**
 * swaks with `message` (written to a file in the fixture's data dir) to one of `ingress`'s listeners:
 * plain on the MX port, STARTTLS + AUTH PLAIN as USER on submission.
 */
export async function swaksMessage(
  fixture: IngressFixture,
  options: {
    ingress?: SmtpIngress;
    listener: 'submission' | 'mx';
    name: string;
    message: string;
    from: string;
    to: string;
  },
): Promise<ClientRun> {
  const file = join(fixture.dataDir, `${options.name}.eml`);
  await writeFile(file, options.message);
  const auth =
    options.listener === 'submission'
      ? ['--tls', '--auth', 'PLAIN', '--auth-user', USER, '--auth-password', PASSWORD]
      : [];
  const ingress = options.ingress ?? fixture.ingress;
  return swaks([
    '--server',
    '127.0.0.1',
    '--port',
    String(ingress.ports[options.listener]),
    ...auth,
    '--from',
    options.from,
    '--to',
    options.to,
    '--data',
    file,
  ]);
}
