import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDataDir, removeDataDir } from './data-dir.js';
import { eventually } from './eventually.js';
import { freePorts } from './free-port.js';
import { spawnNode, type Exit, type Spawned } from './spawned.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const ALL_IN_ONE_MAIN = join(REPO_ROOT, 'services/all-in-one/src/main.ts');

export interface AllInOneOptions {
  /**
   * Added to (and overriding) the process's environment: DATABASE_URL, BUS_ADAPTER=kafka,
   * KAFKA_BROKERS, S3_*, REDIS_URL put it on the distributed backends.
   */
  env?: Record<string, string>;
  /** Startup includes initdb of the embedded cluster on a busy machine. */
  readyTimeoutMs?: number;
  /**
   * The loopback address every listener binds to (SMTP, IMAP, POP3, admin-api, metrics), so several
   * stacks on one machine can stand for different hosts (127.0.0.2, 127.0.0.3, ...). Default 127.0.0.1.
   */
  bindHost?: string;
  /** Node flags for the process, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] (benchmarks). */
  nodeArgs?: string[];
  /**
   * Another checkout of correo to run instead of this one (its own node_modules): benchmarks compare
   * old code with new in one run (bench/vs-postfix.ts, `embedded@/path/to/checkout`).
   */
  root?: string;
}

/** Where a test reaches a running correo: the all-in-one, or every service as its own process. */
export interface MailEndpoints {
  /** The address its listeners are bound to. */
  host: string;
  ports: {
    mx: number;
    submission: number;
    submissions: number;
    imap: number;
    imaps: number;
    pop3: number;
    pop3s: number;
    adminApi: number;
  };
  adminUrl: string;
  adminToken: string;
  /** The metadata database it runs on (the embedded one, or the DATABASE_URL it was given). */
  databaseUrl: string;
  /** Its self-signed certificate (SAN 127.0.0.1 and localhost), for clients that verify. */
  caFile: string;
}

export interface AllInOneProcess extends MailEndpoints {
  process: Spawned;
  dataDir: string;
  ports: MailEndpoints['ports'] & { metrics: number; webmail: number; managesieve: number };
  /** The webmail (plain HTTP on loopback, as make dev serves it). */
  webmailUrl: string;
  demo: { address: string; password: string };
  /** The Prometheus text of /metrics. */
  metrics(): Promise<string>;
  /** SIGTERM and wait for a clean exit (SIGKILL after 30 s), then remove the data dir. */
  stop(): Promise<Exit>;
}

/** A closed loopback port: every DNS lookup fails at once and temporarily, the same on every machine. */
export const UNANSWERED_DNS = '127.0.0.1:9';

/**
 * The all-in-one (services/all-in-one/src/main.ts) as its own process, exactly as `make dev`
 * runs it, on a throwaway data dir and free loopback ports; resolves once /readyz says ready.
 */
export async function startAllInOneProcess(options: AllInOneOptions = {}): Promise<AllInOneProcess> {
  // The ports are free when chosen, but another process may take one before the all-in-one binds
  // it (outgoing connections use the same range): that start is retried on new ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt >= 3) throw error;
    }
  }
}

/** The all-in-one exited before ready because a port it was given was taken meanwhile. */
class PortTaken extends Error {}

async function startOnce(options: AllInOneOptions): Promise<AllInOneProcess> {
  const dataDir = await makeDataDir('correo-e2e-');
  const [
    mx,
    submission,
    submissions,
    pop3,
    pop3s,
    imap,
    imaps,
    adminApi,
    metrics,
    embeddedPostgres,
    webmail,
    managesieve,
  ] = (await freePorts(12)) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const adminToken = randomBytes(24).toString('base64url');
  const demo = { address: 'demo@example.test', password: randomBytes(12).toString('base64url') };
  const host = options.bindHost ?? '127.0.0.1';
  const env: Record<string, string> = {
    CORREO_DATA_DIR: dataDir,
    // As make dev runs it: the demo account and plaintext AUTH from loopback are dev conveniences.
    CORREO_DEV: 'true',
    LOG_LEVEL: 'warn',
    SMTP_HOSTNAME: 'mx.correo.test',
    SMTP_BIND_HOST: host,
    IMAP_BIND_HOST: host,
    POP3_BIND_HOST: host,
    MANAGESIEVE_BIND_HOST: host,
    ADMIN_API_HOST: host,
    WEBMAIL_HOST: host,
    METRICS_HOST: host,
    SMTP_MX_PORT: String(mx),
    SMTP_SUBMISSION_PORT: String(submission),
    SMTP_SUBMISSIONS_PORT: String(submissions),
    POP3_PORT: String(pop3),
    POP3S_PORT: String(pop3s),
    MANAGESIEVE_PORT: String(managesieve),
    IMAP_PORT: String(imap),
    IMAPS_PORT: String(imaps),
    ADMIN_API_PORT: String(adminApi),
    WEBMAIL_PORT: String(webmail),
    METRICS_PORT: String(metrics),
    EMBEDDED_POSTGRES_PORT: String(embeddedPostgres),
    ADMIN_TOKEN: adminToken,
    CORREO_DEMO_PASSWORD: demo.password,
    // No public DNS here, and what the machine's resolver does varies: every lookup goes to a
    // closed loopback port and fails at once and temporarily (sender checks give temperror,
    // outbound mail stays deferred), the same on every machine. Tests that need answers pass
    // their own DNS server.
    SMTP_DNS_SERVERS: UNANSWERED_DNS,
    RELAY_DNS_SERVERS: UNANSWERED_DNS,
    ...options.env,
  };
  // options.env may choose ports itself (e.g. two stacks that must know each other's MX port up front).
  const configured = (name: string) => Number(env[name]);
  const metricsPort = configured('METRICS_PORT');
  const root = options.root ?? REPO_ROOT;
  const main = options.root ? join(root, 'services/all-in-one/src/main.ts') : ALL_IN_ONE_MAIN;
  const child = spawnNode(main, env, root, options.nodeArgs);
  let exitedEarly: Exit | undefined;
  void child.exited.then((exit) => (exitedEarly = exit));

  const stop = async (): Promise<Exit> => {
    try {
      if (child.child.exitCode !== null || child.child.signalCode !== null) return await child.exited;
      child.child.kill('SIGTERM');
      try {
        return await child.exitWithin(30_000);
      } catch (error) {
        child.child.kill('SIGKILL');
        await child.exited;
        throw error;
      }
    } finally {
      await removeDataDir(dataDir);
    }
  };

  try {
    // An early exit ends the wait at once instead of at the deadline.
    const exited = child.exited.then((exit) => {
      throw new Error(`exited ${JSON.stringify(exit)} before ready:\n${child.stderr().slice(-4000)}`);
    });
    exited.catch(() => {});
    await Promise.race([
      exited,
      eventually(
        'the all-in-one to be ready',
        async () => {
          // Ends the polling; the race has already failed with the exit.
          if (exitedEarly) return true;
          const response = await fetch(`http://${host}:${metricsPort}/readyz`);
          await response.body?.cancel();
          return response.status === 200;
        },
        options.readyTimeoutMs ?? 150_000,
        200,
      ),
    ]);
    if (exitedEarly) throw new Error(`exited before ready:\n${child.stderr().slice(-4000)}`);
  } catch (error) {
    await stop().catch(() => {});
    const output = child.stderr().slice(-4000);
    const message = `${(error as Error).message}\n--- all-in-one stderr ---\n${output}`;
    const portsOurs = !Object.keys(options.env ?? {}).some((name) => name.endsWith('_PORT'));
    if (exitedEarly && portsOurs && /EADDRINUSE/.test(output)) throw new PortTaken(message, { cause: error });
    throw new Error(message, { cause: error });
  }

  const databaseUrl =
    env.DATABASE_URL ??
    `postgres://correo:${encodeURIComponent(
      (await readFile(join(dataDir, 'postgres', 'password'), 'utf8')).trim(),
    )}@127.0.0.1:${configured('EMBEDDED_POSTGRES_PORT')}/correo`;

  return {
    process: child,
    dataDir,
    host,
    ports: {
      mx: configured('SMTP_MX_PORT'),
      submission: configured('SMTP_SUBMISSION_PORT'),
      submissions: configured('SMTP_SUBMISSIONS_PORT'),
      imap: configured('IMAP_PORT'),
      imaps: configured('IMAPS_PORT'),
      pop3: configured('POP3_PORT'),
      pop3s: configured('POP3S_PORT'),
      adminApi: configured('ADMIN_API_PORT'),
      metrics: metricsPort,
      webmail: configured('WEBMAIL_PORT'),
      managesieve: configured('MANAGESIEVE_PORT'),
    },
    adminUrl: `http://${host}:${configured('ADMIN_API_PORT')}`,
    webmailUrl: `http://${host}:${configured('WEBMAIL_PORT')}`,
    adminToken: env.ADMIN_TOKEN!,
    demo: { address: env.CORREO_DEMO_ADDRESS ?? demo.address, password: env.CORREO_DEMO_PASSWORD! },
    databaseUrl,
    caFile: join(dataDir, 'tls', 'cert.pem'),
    async metrics() {
      const response = await fetch(`http://${host}:${metricsPort}/metrics`);
      return response.text();
    },
    stop,
  };
}
