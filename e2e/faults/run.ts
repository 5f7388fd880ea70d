// The fault run (issue 16; `make test-faults`): the distributed stack, every service its own process
// (two smtp-ingress, two mda, two mta-relay, two imap-gateway, one pop3-gateway) on Kafka,
// PostgreSQL, Redis and MinIO of its own, under mail from SMTP senders (MX and submission, aliases
// fanning out, a remote site that answers 4xx now and then), IMAP readers and POP3 downloaders, while
// a seeded schedule SIGKILLs and restarts the service processes and restarts the backends. When the
// faults stop and the system settles, checks.ts checks that nothing that got 250 was lost or filed
// twice, and the report gives the counts and how long accepts and deliveries took to resume.
//
//   FAULTS_SEED=<n>        the schedule's seed (printed at the start; random when unset)
//   FAULTS_DURATION=<s>    seconds of load and faults (75: the bounded run `make test` runs)
//   FAULTS_REPORT=<file>   append the run's row to this Markdown file (docs/reliability.md)
//   FAULTS_KINDS=kills     service kills only (default: every fault)
//   FAULTS_START_TIMEOUT=<s> the bound on each pod's start until ready (60; see stack.ts)
//
// Exits 1 when a check fails. Everything it starts is stopped in `finally`, also on failure.
import { spawn } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createProvisioning } from '@correo/directory';
import { createPool, migrate } from '@correo/store';
import {
  BACKEND_KINDS,
  backendCrash,
  killRunning,
  postgresConnectionDrop,
  s3Trouble,
  startFullDisk,
  startPrivateBackendSet,
  type Fault,
  type FullDisk,
  type PrivateBackendSet,
} from '@correo/testkit';
import { SMTP_LIMITS_OFF } from '../../bench/options.js';
import { startRemoteMx, type RemoteMx } from '../test/support/remote-mx.js';
import { checkRun, type CheckResult, type LoadRecord } from './checks.js';
import { imapReader, type ReaderRecord } from './readers.js';
import { planFaults, seededRandom } from './schedule.js';
import { startFaultStack, type FaultStack, type Instance } from './stack.js';

const LOAD_PY = fileURLToPath(new URL('./load.py', import.meta.url));
const DOMAIN = 'faults.test';
const REMOTE_DOMAIN = 'far.test';
const PASSWORD = 'a fault run password';

export interface FaultRunOptions {
  seed: number;
  durationS: number;
  kinds: 'all' | 'kills';
}

interface FaultEvent {
  fault: string;
  kind: string;
  injectedAt: number;
  /** When the heal began: the killed pod's restart (after its down time), the backend's start. */
  healStartedAt?: number;
  healedAt?: number;
  error?: string;
}

export interface Recovery {
  kind: string;
  count: number;
  acceptsP50Ms: number;
  acceptsMaxMs: number;
  deliveriesP50Ms: number;
  deliveriesMaxMs: number;
  /** From the fault until it was healed: a killed pod restarted and ready, a backend back up. */
  healedP50Ms: number;
  healedMaxMs: number;
  /**
   * From the heal's start until it was healed: for a kill, the pod's start until /readyz says 200,
   * without the down time before the restart (a kubelet's back-off, not correo's).
   */
  startedP50Ms: number;
  startedMaxMs: number;
  /**
   * Samples (accepts or deliveries) that resumed only after the next fault was injected: counted as
   * they are, but the pause may be the next fault's as much as this one's (a kill healed just
   * before a Kafka crash).
   */
  overlappedByNextFault: number;
}

export interface FaultRunResult extends CheckResult {
  seed: number;
  durationS: number;
  faults: FaultEvent[];
  recovery: Recovery[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fault of the run and how long it stays injected before it is healed. */
interface CatalogueEntry {
  fault: Fault;
  downMs: [number, number];
}

/**
 * What the run injects: SIGKILL of every service process (restarted after it, on its ports, as a
 * kubelet does), and with kinds 'all' the backend faults of libs/testkit/src/faults: a crash of
 * Kafka, PostgreSQL, Redis and MinIO (restarted on the same data), dropped PostgreSQL connections,
 * S3 slow or resetting connections, and a full spool disk under smtp-ingress.
 */
function catalogue(
  stack: FaultStack,
  backends: PrivateBackendSet,
  spool: FullDisk | undefined,
  kinds: FaultRunOptions['kinds'],
): CatalogueEntry[] {
  const kills = stack.instances.map((instance) => ({
    fault: {
      name: `kill ${instance.name}`,
      inject: () => stack.kill(instance),
      heal: () => stack.restart(instance),
    },
    downMs: [0, 3000] as [number, number],
  }));
  if (kinds === 'kills') return kills;
  return [
    ...kills,
    ...BACKEND_KINDS.map((kind) => ({
      fault: backendCrash(backends, kind),
      downMs: [2000, 8000] as [number, number],
    })),
    { fault: postgresConnectionDrop(backends.databaseUrl), downMs: [0, 0] },
    { fault: s3Trouble(backends, { kind: 'delay', ms: 300 }), downMs: [3000, 8000] },
    { fault: s3Trouble(backends, { kind: 'reset' }), downMs: [2000, 6000] },
    ...(spool
      ? [{ fault: { ...spool, name: 'spool disk full' }, downMs: [2000, 6000] as [number, number] }]
      : []),
  ];
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function runFaults(options: FaultRunOptions): Promise<FaultRunResult> {
  const durationMs = options.durationS * 1000;
  let backends: PrivateBackendSet | undefined;
  let spool: FullDisk | undefined;
  let stack: FaultStack | undefined;
  let remote: RemoteMx | undefined;
  let pool: ReturnType<typeof createPool> | undefined;
  let load: ReturnType<typeof spawn> | undefined;
  try {
    const began = Date.now();
    const setup = (what: string) =>
      console.error(`setup +${((Date.now() - began) / 1000).toFixed(1)} s  ${what}`);
    console.error(`fault run: seed ${options.seed}, ${options.durationS} s of load and faults`);
    backends = await startPrivateBackendSet();
    // A tmpfs as smtp-ingress's spool (where a message waits while its sender is checked), to fill.
    spool = await startFullDisk('spool', 16 * 1024 * 1024).catch((error: Error) => {
      console.error(`no full-disk fault: ${error.message}`);
      return undefined;
    });
    setup('private backends up');
    await migrate(backends.databaseUrl);
    pool = createPool(backends.databaseUrl, { max: 4 });
    const operator = createProvisioning(pool);
    const tenant = await operator.createTenant({ name: 'faults' });
    await operator.createDomain({ name: DOMAIN, tenantId: tenant.id, verified: true });
    const accounts = Array.from({ length: 6 }, (_, i) => `user${i}@${DOMAIN}`);
    for (const address of accounts) await operator.createAccount({ address, password: PASSWORD });
    const aliases = {
      [`team@${DOMAIN}`]: [accounts[0]!, accounts[3]!, accounts[5]!],
      [`pair@${DOMAIN}`]: [accounts[1]!, accounts[4]!],
    };
    for (const [source, targets] of Object.entries(aliases)) await operator.createAlias({ source, targets });

    // The remote site answers 451 to one RCPT in four: the relays queue and retry.
    const remoteRandom = seededRandom(options.seed ^ 0x5eed);
    let remoteDeferrals = 0;
    remote = await startRemoteMx(() => false, {
      defers: () => {
        const defer = remoteRandom() < 0.25;
        if (defer) remoteDeferrals++;
        return defer;
      },
    });

    stack = await startFaultStack({
      ...backends.env,
      KAFKA_TOPIC_PARTITIONS: '4',
      ...(spool ? { SMTP_SPOOL_DIR: spool.dir } : {}),
      RELAY_TRANSPORT_MAP: `${REMOTE_DOMAIN}=127.0.0.1:${remote.port}`,
      RELAY_RETRY_SCHEDULE: '1s,2s,4s',
      RELAY_QUEUE_POLL: '500ms',
      RELAY_MAX_LIFETIME: '1h',
      RELAY_DNS_TIMEOUT: '1s',
      POP3_LOCK_TTL_MS: '5000',
      // One client address sends everything: the per-address rates would refuse the load itself.
      SMTP_MAX_CONNECTIONS_PER_IP: '500',
      ...SMTP_LIMITS_OFF,
      IMAP_MAX_CONNECTIONS_PER_IP: '500',
      POP3_MAX_CONNECTIONS_PER_IP: '500',
    });
    setup('services up');
    const ports = (service: Instance['service'], variable: string) =>
      stack!.byService(service).map((instance) => instance.ports[variable]!);

    const entries = catalogue(stack, backends, spool, options.kinds);
    const schedule = planFaults(
      options.seed,
      entries.map((entry) => ({ name: entry.fault.name, downMs: entry.downMs })),
      durationMs,
      [4000, 12000],
    );
    console.error('fault schedule:');
    for (const planned of schedule)
      console.error(
        `  +${(planned.atMs / 1000).toFixed(1)} s  ${planned.fault}  (down ${planned.downMs} ms)`,
      );

    const started = Date.now();
    const until = started + durationMs;
    const records: LoadRecord[] = [];
    load = spawn('python3', [LOAD_PY], { stdio: ['pipe', 'pipe', 'inherit'] });
    const loadDone = new Promise<void>((resolve) => load!.once('exit', () => resolve()));
    createInterface({ input: load.stdout! }).on('line', (line) =>
      records.push(JSON.parse(line) as LoadRecord),
    );
    load.stdin!.end(
      JSON.stringify({
        seed: options.seed,
        senders: 4,
        pauseSeconds: 0.6,
        mx: ports('smtp-ingress', 'SMTP_MX_PORT'),
        submission: ports('smtp-ingress', 'SMTP_SUBMISSION_PORT'),
        local: accounts,
        aliases,
        accounts: accounts.map((address) => ({ address, password: PASSWORD })),
        remote: [`one@${REMOTE_DOMAIN}`, `two@${REMOTE_DOMAIN}`, `three@${REMOTE_DOMAIN}`],
        pop3: ports('pop3-gateway', 'POP3_PORT'),
        pop3Accounts: [accounts[3]!, accounts[4]!].map((address) => ({ address, password: PASSWORD })),
        until: until / 1000,
        // A message begun before the end is retried through the faults' aftermath for this long.
        giveUpAt: (until + 120_000) / 1000,
        timeout: 30,
        disposableShare: 0.2,
      }),
    );
    let readersStop = false;
    const readers: Promise<ReaderRecord>[] = [0, 1, 2].map((i) =>
      imapReader({
        account: { address: accounts[i]!, password: PASSWORD },
        ports: ports('imap-gateway', 'IMAP_PORT'),
        random: seededRandom(options.seed + 101 * (i + 1)),
        until: () => readersStop,
      }),
    );

    const faults: FaultEvent[] = [];
    for (const planned of schedule) {
      // Late (the restarts before took long on a busy machine): what would start after the load is not injected.
      if (Date.now() >= until) break;
      const wait = started + planned.atMs - Date.now();
      if (wait > 0) await sleep(wait);
      const event: FaultEvent = {
        fault: planned.fault,
        kind: planned.fault.replace(/#\d+$/, ''),
        injectedAt: Date.now(),
      };
      faults.push(event);
      console.error(`+${((event.injectedAt - started) / 1000).toFixed(1)} s  ${planned.fault}`);
      const { fault } = entries.find((entry) => entry.fault.name === planned.fault)!;
      try {
        await fault.inject();
        await sleep(planned.downMs);
      } catch (error) {
        event.error = `inject: ${(error as Error).message}`;
      }
      try {
        event.healStartedAt = Date.now();
        await fault.heal();
        event.healedAt = Date.now();
      } catch (error) {
        event.error = `${event.error ?? ''} heal: ${(error as Error).message}`;
      }
      if (event.error) console.error(`  ${planned.fault} failed: ${event.error}`);
    }
    const left = until - Date.now();
    if (left > 0) await sleep(left);
    const phase = (what: string) =>
      console.error(`+${((Date.now() - started) / 1000).toFixed(1)} s  ${what}`);
    phase('faults over; waiting for the senders to finish their retries');
    await loadDone;
    phase('senders done');
    readersStop = true;
    const readerRecords = await Promise.all(readers);

    // Settle: every 250'd message filed (unless a client removed it), every relay job done.
    const removed = new Set([
      ...readerRecords.flatMap((r) => [...r.expunged, ...r.maybeExpunged]),
      ...records.flatMap((r) => (r.t === 'pop3' ? r.deleted : r.t === 'pop3-error' ? r.maybeDeleted : [])),
    ]);
    const settleUntil = Date.now() + 240_000;
    const settled = async () => {
      const queued = await pool!.query<{ n: number }>('SELECT count(*)::int AS n FROM relay_queue');
      const mids = records.flatMap((r) =>
        r.t === 'accepted' && r.rcpts.some((x) => !x.endsWith(REMOTE_DOMAIN)) && !removed.has(r.mid)
          ? [r.mid]
          : [],
      );
      const filed = await pool!.query<{ n: number }>(
        'SELECT count(DISTINCT header_message_id)::int AS n FROM messages WHERE header_message_id = ANY($1)',
        [mids],
      );
      return queued.rows[0]!.n === 0 && filed.rows[0]!.n >= mids.length;
    };
    while (Date.now() < settleUntil && !(await settled().catch(() => false))) await sleep(1000);
    // A little more for what the count above cannot see (the second recipient of a message).
    await sleep(3000);
    phase('settled');

    const deliveries = (
      await pool.query<{ at: Date }>('SELECT delivered_at AS at FROM deliveries ORDER BY delivered_at')
    ).rows.map((row) => row.at.getTime());
    const deadLettered =
      stack.logged('event dead-lettered').length + stack.logged('job dead-lettered').length;
    await stack.stop();
    stack = undefined;

    const checked = await checkRun({
      pool,
      s3: { ...backends.backends.s3, endpoint: backends.minioEndpoint },
      load: records,
      readers: readerRecords,
      remote: remote.messages,
      directory: { accounts, aliases, remoteDomain: REMOTE_DOMAIN },
      deadLetteredLogLines: deadLettered,
    });
    phase('checked');
    checked.notes.push(`the remote site answered 451 to ${remoteDeferrals} RCPTs (the relays retried them)`);
    for (const reader of readerRecords)
      checked.notes.push(
        `IMAP ${reader.account}: ${reader.sessions} sessions, ${reader.seenUids} UIDs and ${reader.seenModseqs} MODSEQs checked, ` +
          `${reader.flagged} flagged, ${reader.moved} moved, ${reader.expunged.size} expunged; ${reader.errors.length} sessions ended by an error` +
          (reader.errors[0] ? ` (first: ${reader.errors[0]})` : ''),
      );

    // Recovery: once a fault was healed (the killed pod ready again, the backend up, the proxy passing),
    // how long until the next 250 of an SMTP session begun after that, and the next delivery (filed,
    // or taken by the remote site). Measured from the heal, so a slow recovery is not blamed on the
    // next fault and a pod's own restart time (reported as "healed") is not counted as an outage.
    const acceptTimes = records.flatMap((r) =>
      r.t === 'accepted' ? [{ start: r.start * 1000, at: r.at * 1000 }] : [],
    );
    const deliveryTimes = [...deliveries, ...remote.messages.map((m) => m.at)].sort((x, y) => x - y);
    const byKind = new Map<string, { accepts: number[]; deliveries: number[]; overlapped: number }>();
    faults.forEach((fault, i) => {
      const entry = byKind.get(fault.kind) ?? { accepts: [], deliveries: [], overlapped: 0 };
      byKind.set(fault.kind, entry);
      const healed = fault.healedAt;
      if (healed === undefined) return;
      const next = faults[i + 1]?.injectedAt ?? Infinity;
      const accept = Math.min(...acceptTimes.filter((x) => x.start >= healed).map((x) => x.at));
      const delivery = deliveryTimes.find((at) => at >= healed);
      if (Number.isFinite(accept)) entry.accepts.push(accept - healed);
      if (delivery !== undefined) entry.deliveries.push(delivery - healed);
      entry.overlapped += [accept, delivery ?? -Infinity].filter(
        (at) => Number.isFinite(at) && at > next,
      ).length;
    });
    const recovery = [...byKind].map(([kind, { accepts: a, deliveries: d, overlapped }]) => {
      const healed = faults.flatMap((f) =>
        f.kind === kind && f.healedAt ? [f.healedAt - f.injectedAt] : [],
      );
      const restarts = faults.flatMap((f) =>
        f.kind === kind && f.healedAt && f.healStartedAt ? [f.healedAt - f.healStartedAt] : [],
      );
      return {
        kind,
        count: faults.filter((f) => f.kind === kind).length,
        acceptsP50Ms: percentile(a, 50),
        acceptsMaxMs: Math.max(...a),
        deliveriesP50Ms: percentile(d, 50),
        deliveriesMaxMs: Math.max(...d),
        healedP50Ms: percentile(healed, 50),
        healedMaxMs: Math.max(...healed),
        startedP50Ms: percentile(restarts, 50),
        startedMaxMs: Math.max(...restarts),
        overlappedByNextFault: overlapped,
      };
    });
    for (const fault of faults)
      if (fault.error) checked.violations.push(`fault ${fault.fault} could not be healed: ${fault.error}`);
    return { ...checked, seed: options.seed, durationS: options.durationS, faults, recovery };
  } finally {
    if (load && load.exitCode === null) load.kill('SIGKILL');
    await stack?.stop().catch(() => {});
    await killRunning();
    await remote?.close().catch(() => {});
    await pool?.end().catch(() => {});
    await spool?.close().catch(() => {});
    await backends?.stop();
  }
}

export function formatReport(result: FaultRunResult): string {
  const c = result.counts;
  const ms = (value: number) => (Number.isFinite(value) ? `${(value / 1000).toFixed(1)} s` : 'n/a');
  return [
    `seed ${result.seed}, ${result.durationS} s, ${result.faults.length} faults: ${result.faults.map((f) => f.fault).join(', ')}`,
    `sent ${c.sent}, 250s ${c.accepted}, 4xx retried ${c.retried4xx}, connection errors retried ${c.retriedConnection}, ` +
      `5xx ${c.refused5xx}, gave up ${c.gaveUp}`,
    `local copies expected ${c.expectedLocal}, delivered ${c.delivered}, removed by clients ${c.removedByClients}; ` +
      `remote ${c.remoteExpected}: delivered ${c.remoteDelivered}, bounced with a DSN ${c.remoteBounced}`,
    `duplicates ${c.duplicates}, lost ${c.lost}; second copies after a lost 250 (RFC 1047) ${c.ambiguousDuplicates}`,
    `IMAP sessions ${c.imapSessions}, POP3 sessions ${c.pop3Sessions}`,
    'recovery (after the heal: until accepts resume / deliveries resume; and from the fault until it was healed; p50 and max;',
    '  "overlapped": samples that resumed only after the next fault was injected, so partly that fault\'s pause):',
    ...result.recovery.map(
      (r) =>
        `  ${r.kind} x${r.count}: accepts ${ms(r.acceptsP50Ms)} / ${ms(r.acceptsMaxMs)}, deliveries ${ms(r.deliveriesP50Ms)} / ${ms(r.deliveriesMaxMs)}, healed ${ms(r.healedP50Ms)} / ${ms(r.healedMaxMs)}` +
        (r.kind.startsWith('kill')
          ? ` (start until ready ${ms(r.startedP50Ms)} / ${ms(r.startedMaxMs)})`
          : '') +
        (r.overlappedByNextFault ? `, ${r.overlappedByNextFault} overlapped by the next fault` : ''),
    ),
    ...result.faults.map(
      (f) =>
        `fault ${new Date(f.injectedAt).toISOString()} ${f.fault}` +
        (f.healedAt ? `, healed after ${((f.healedAt - f.injectedAt) / 1000).toFixed(1)} s` : ''),
    ),
    ...result.notes.map((note) => `note: ${note}`),
    ...result.violations.map((violation) => `VIOLATION: ${violation}`),
    result.violations.length === 0
      ? 'clean: 0 lost, 0 duplicated, every check held'
      : `${result.violations.length} violations`,
  ].join('\n');
}

/** One row of docs/reliability.md's table of runs. */
export function reportRow(result: FaultRunResult): string {
  const c = result.counts;
  const worst = (pick: (r: Recovery) => number, filter: (r: Recovery) => boolean) => {
    const values = result.recovery.filter(filter).map(pick).filter(Number.isFinite);
    return values.length ? `${(Math.max(...values) / 1000).toFixed(1)} s` : 'n/a';
  };
  const service = (r: Recovery) => r.kind.startsWith('kill');
  const backend = (r: Recovery) => !r.kind.startsWith('kill');
  return (
    `| ${new Date().toISOString().slice(0, 16)} | ${result.seed} | ${result.durationS} | ${result.faults.length} | ${c.sent} | ${c.accepted} | ` +
    `${c.retried4xx} | ${c.delivered + c.remoteDelivered} | ${c.duplicates} | ${c.lost} | ${c.ambiguousDuplicates} | ` +
    `${worst((r) => r.healedMaxMs, service)} / ${worst((r) => r.acceptsMaxMs, service)} / ${worst((r) => r.deliveriesMaxMs, service)} | ` +
    `${worst((r) => r.healedMaxMs, backend)} / ${worst((r) => r.acceptsMaxMs, backend)} / ${worst((r) => r.deliveriesMaxMs, backend)} | ` +
    `${result.violations.length === 0 ? 'clean' : `${result.violations.length} violations`} |`
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const seed = Number(process.env.FAULTS_SEED || Math.floor(Math.random() * 1_000_000_000));
  const durationS = Number(process.env.FAULTS_DURATION || 75);
  const kinds = process.env.FAULTS_KINDS === 'kills' ? 'kills' : 'all';
  const result = await runFaults({ seed, durationS, kinds });
  const report = formatReport(result);
  console.log(report);
  if (process.env.FAULTS_REPORT) {
    await appendFile(process.env.FAULTS_REPORT, `${reportRow(result)}\n`);
  }
  process.exitCode = result.violations.length === 0 ? 0 : 1;
}
