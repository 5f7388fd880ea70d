// mda scaling on Kafka (a report, not a test): does delivery throughput rise from one mda process to
// two when mail.accepted has 12 partitions? Starts K mda processes (services/mda/src/main.ts, the
// real service) in one consumer group, warms the group up until every partition has delivered,
// then publishes N events at once (each to one of many accounts, keyed by recipient as
// smtp-ingress keys them, with the analysis carried as smtp-ingress carries it) and times until
// all N are filed. Same database, topic layout and events for K = 1 and K = 2.
//
//   set -a; . ./.test-backends/env; set +a; node --import tsx bench/mda-scaling.ts
//   BENCH_MESSAGES=20000 BENCH_PROCESSES=1,2 BENCH_PARTITIONS=12 BENCH_ACCOUNTS=240 (defaults)
//   BENCH_BACKLOG=stopped   (default) the mdas are paused while the events are published, then
//     drain the whole backlog; `live`: they file while it is published (the publisher competes)
//   BENCH_MDA_CPU_SHARES=8192  cpu.shares of each mda's cgroup (see mdaCpuShares)
//   BENCH_WARMUP=4000       events filed before the timed part (every partition, the JIT warm)
//   BENCH_MDA_ROOT=/tmp/main-checkout   the mda of another checkout (bench/checkout-for-ab.sh)
//   BENCH_RUNS=2            every process count that many times, alternating (1,2,1,2)
//   BENCH_MDA_CPU=200m      each mda process in a cgroup of its own with that CPU limit, as the
//     kubelet enforces a pod's `resources.limits.cpu` (CFS quota over a 100 ms period; cgroup v1 at
//     /sys/fs/cgroup/cpu, as root). On a machine with fewer cores than processes x limit would need
//     this is the only way to ask whether the design scales out (no global lock, partitions by
//     account): each pod has the same CPU budget, so two pods have twice the CPU of one.
import { randomUUID } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createFsBlobStore } from '@correo/blobs';
import { createKafkaBus } from '@correo/bus';
import { createProvisioning } from '@correo/directory';
import { analyzeMessage, encodeSummaryWire, messageSummary } from '@correo/mime';
import { SubmissionKind, encodeMailAccepted, timestampNow } from '@correo/proto';
import { createPool, migrate } from '@correo/store';
import { freshDatabase, killRunning, spawnNode, testBackends, uniqueName } from '@correo/testkit';
import type { Spawned } from '@correo/testkit';
import { option } from './options.js';
import { processCpuMs } from './proc-cpu.js';
import { formatTable } from './report.js';

const messages = Number(option('messages', '20000'));
const processCounts = option('processes', '1,2').split(',').map(Number);
const partitions = Number(option('partitions', '12'));
const accountCount = Number(option('accounts', '240'));
const concurrency = option('mda_concurrency', '');
const repeats = Number(option('runs', '1'));
const warmup = Number(option('warmup', '4000'));
const mdaCpu = option('mda_cpu', '');
const pauseWhilePublishing = option('backlog', 'stopped') === 'stopped';
/**
 * cpu.shares of each mda's cgroup with BENCH_MDA_CPU. The kubelet derives them from the request
 * (200m: 204), which on a node whose pods' requests fit its cores guarantees the request. This
 * machine is shared with processes outside any such budget, so by default the pod's cgroup gets a
 * large weight: it is not starved below its quota, and the quota alone caps it (a Guaranteed pod,
 * request = limit, on a node that is not overcommitted).
 */
const mdaCpuShares = option('mda_cpu_shares', '8192');
const CGROUP_CPU = '/sys/fs/cgroup/cpu';
const CFS_PERIOD_US = 100_000;
const repo = fileURLToPath(new URL('..', import.meta.url));
/** BENCH_MDA_ROOT: the mda of another checkout (bench/checkout-for-ab.sh), for old code against new. */
const mdaRoot = option('mda_root', repo);

interface Run {
  processes: number;
  messages: number;
  seconds: number;
  /** Of `seconds`, how long publishing the events took (the mdas file while it runs). */
  publishSeconds: number;
  perSecond: number;
  /** Filed after publishing ended (the backlog), and how fast: the mdas alone on the machine's cores. */
  drained: number;
  drainPerSecond: number;
  /** CPU (user + system) of the mda processes while the backlog drained, per message of it. */
  mdaCpuMsPerMessage: number;
  /** With BENCH_MDA_CPU: share of CFS periods in which an mda waited for its quota (timed part). */
  throttledShare?: number;
}

/** A Kubernetes CPU quantity (`200m`, `0.5`, `1`) in CPU cores. */
function cpuCores(quantity: string): number {
  const cores = quantity.endsWith('m') ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
  if (!(cores > 0)) throw new Error(`BENCH_MDA_CPU=${quantity}: not a CPU quantity such as 200m or 1`);
  return cores;
}

/**
 * A cgroup (v1 cpu controller) limiting `pid` to `cores`, the way the kubelet enforces a container's
 * CPU limit: cfs_quota_us = cores x cfs_period_us. Returns its removal (the process must have exited).
 */
async function limitCpu(pid: number, cores: number, name: string): Promise<() => Promise<void>> {
  const dir = join(CGROUP_CPU, name);
  await mkdir(dir);
  await writeFile(join(dir, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
  await writeFile(join(dir, 'cpu.cfs_quota_us'), String(Math.round(cores * CFS_PERIOD_US)));
  await writeFile(join(dir, 'cpu.shares'), mdaCpuShares);
  await writeFile(join(dir, 'cgroup.procs'), String(pid));
  return async () => {
    // A cgroup with a process left in it cannot be removed: hand any stragglers back to the root.
    const left = (await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n');
    for (const straggler of left.filter(Boolean)) {
      await writeFile(join(CGROUP_CPU, 'cgroup.procs'), straggler).catch(() => {});
    }
    await rmdir(dir).catch((error: unknown) => console.error(`cgroup ${dir} not removed: ${String(error)}`));
  };
}

/** How often the cgroup's processes waited for quota, and for how long (cpu.stat). */
async function throttling(
  name: string,
): Promise<{ periods: number; throttled: number; throttledMs: number }> {
  const stat = await readFile(join(CGROUP_CPU, name, 'cpu.stat'), 'utf8').catch(() => '');
  const field = (key: string) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(stat)?.[1] ?? 0);
  return {
    periods: field('nr_periods'),
    throttled: field('nr_throttled'),
    throttledMs: field('throttled_time') / 1e6,
  };
}

/** utime + stime of a process in ms; 0 for none. */
async function cpuMs(pid: number | undefined): Promise<number> {
  return pid === undefined ? 0 : processCpuMs(pid);
}

const body = Buffer.from(
  'From: <bench@remote.test>\r\nTo: <someone@scale.test>\r\nSubject: scaling\r\n' +
    `Message-ID: <${randomUUID()}@bench.test>\r\n\r\n` +
    'The quick brown fox jumps over the lazy dog, again and again and again.\r\n'.repeat(55),
);

async function runOnce(processes: number): Promise<Run> {
  const backends = testBackends();
  const db = await freshDatabase();
  await migrate(db.url);
  const pool = createPool(db.url);
  const blobDir = await mkdtemp(join(tmpdir(), 'correo-mda-scaling-'));
  const topic = uniqueName('mail.accepted');
  const group = uniqueName('mda');
  const bus = createKafkaBus({ brokers: backends.kafkaBrokers, clientId: uniqueName('bench') });
  const mdas: Spawned[] = [];
  const cgroups: string[] = [];
  const removals: (() => Promise<void>)[] = [];
  try {
    const admin = createProvisioning(pool);
    const tenant = await admin.createTenant({ name: uniqueName('scale') });
    await admin.createDomain({ name: 'scale.test', tenantId: tenant.id, verified: true });
    const recipients: string[] = [];
    for (let i = 0; i < accountCount; i++) {
      const address = `user${i}@scale.test`;
      await admin.createAccount({ address, quotaBytes: null });
      recipients.push(address);
    }
    const blobs = createFsBlobStore({ dir: blobDir });
    const blob = await blobs.put(Readable.from([body]));
    const analysis = encodeSummaryWire(messageSummary(await analyzeMessage(Readable.from([body]))));
    await bus.ensureTopics(
      [topic, `${topic}.outbound`, `${topic}.dlq`].map((name) => ({ name, partitions })),
    );

    const env: Record<string, string> = {
      DATABASE_URL: db.url,
      BUS_ADAPTER: 'kafka',
      KAFKA_BROKERS: backends.kafkaBrokers.join(','),
      KAFKA_TOPIC_PARTITIONS: String(partitions),
      BLOB_ADAPTER: 'fs',
      BLOB_DIR: blobDir,
      NOTIFY_ADAPTER: 'memory',
      METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      MDA_CONSUMER_GROUP: group,
      MDA_ACCEPTED_TOPIC: topic,
      MDA_OUTBOUND_TOPIC: `${topic}.outbound`,
      MDA_DEAD_LETTER_TOPIC: `${topic}.dlq`,
      ...(concurrency ? { MDA_CONCURRENCY: concurrency } : {}),
    };
    for (let i = 0; i < processes; i++) {
      const mda = spawnNode(join(mdaRoot, 'services/mda/src/main.ts'), env, mdaRoot);
      mdas.push(mda);
      if (mdaCpu) {
        const name = `correo-bench-${uniqueName('mda')}`;
        removals.push(await limitCpu(mda.child.pid!, cpuCores(mdaCpu), name));
        cgroups.push(name);
      }
    }
    const event = (to: string) =>
      encodeMailAccepted({
        eventId: randomUUID(),
        receivedAt: timestampNow(),
        clientIp: '192.0.2.10',
        helo: 'bench.test',
        mailFrom: 'bench@remote.test',
        recipients: [{ address: to }],
        blobKey: blob.key,
        size: BigInt(blob.size),
        sha256: blob.sha256,
        analysis,
        kind: SubmissionKind.MX,
        port: 25,
      });
    const publish = async (count: number) => {
      const batch = Array.from({ length: count }, (_, i) => {
        const to = recipients[i % recipients.length]!;
        return { key: to, value: event(to) };
      });
      for (let i = 0; i < batch.length; i += 500) await bus.publish(topic, batch.slice(i, i + 500));
    };
    const filed = async () =>
      Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM messages')).rows[0]!.n);

    // Warm-up: every member has joined and every partition has delivered once.
    // Long enough for V8 to have compiled the hot paths: a pod runs for days, and with a short
    // warm-up each of two processes paid its JIT over half the messages (its CPU per message
    // rose by half against one process's).
    const warm = Math.max(warmup, recipients.length);
    await publish(warm);
    for (;;) {
      for (const mda of mdas) {
        if (mda.child.exitCode !== null) throw new Error(`an mda exited: ${mda.stderr().slice(-2000)}`);
      }
      if ((await filed()) >= warm) break;
      await sleep(100);
    }
    await sleep(2000);

    const cpu = async () =>
      (await Promise.all(mdas.map((m) => cpuMs(m.child.pid)))).reduce((a, b) => a + b, 0);
    const throttled = async () => {
      const stats = await Promise.all(cgroups.map(throttling));
      return {
        periods: stats.reduce((a, s) => a + s.periods, 0),
        throttled: stats.reduce((a, s) => a + s.throttled, 0),
      };
    };
    // BENCH_BACKLOG=stopped: the mdas are paused (SIGSTOP) while the events are published and
    // resumed together (SIGCONT), so the whole backlog is there when they start: the rate measured
    // is the mdas' alone, not the publisher's (on a loaded machine publishing 8,000 events took
    // longer than filing them). The pause stays well under the group's session timeout (30 s).
    if (pauseWhilePublishing) for (const mda of mdas) mda.child.kill('SIGSTOP');
    const start = Date.now();
    await publish(messages);
    const publishSeconds = (Date.now() - start) / 1000;
    const cpuBefore = await cpu();
    const throttledBefore = await throttled();
    // The publisher competes for the same cores: the rate that counts is the one after it is done,
    // while the mdas drain the backlog it left.
    const backlogFrom = { at: Date.now(), filed: await filed() };
    if (pauseWhilePublishing) for (const mda of mdas) mda.child.kill('SIGCONT');
    for (;;) {
      if ((await filed()) >= warm + messages) break;
      await sleep(50);
    }
    const seconds = (Date.now() - start) / 1000;
    const drainSeconds = (Date.now() - backlogFrom.at) / 1000;
    const drained = warm + messages - backlogFrom.filed;
    const mdaCpuMsPerMessage = ((await cpu()) - cpuBefore) / drained;
    const throttledAfter = await throttled();
    const periods = throttledAfter.periods - throttledBefore.periods;
    return {
      ...(mdaCpu && periods > 0
        ? { throttledShare: (throttledAfter.throttled - throttledBefore.throttled) / periods }
        : {}),
      processes,
      messages,
      seconds,
      publishSeconds,
      perSecond: messages / seconds,
      drained,
      drainPerSecond: drained / drainSeconds,
      mdaCpuMsPerMessage,
    };
  } finally {
    for (const mda of mdas) mda.child.kill('SIGCONT');
    for (const mda of mdas) mda.child.kill('SIGTERM');
    await Promise.all(mdas.map((mda) => mda.exitWithin(30_000).catch(() => undefined)));
    await killRunning();
    for (const remove of removals) await remove();
    await bus.close();
    await pool.end();
    await db.drop();
    await rm(blobDir, { recursive: true, force: true });
  }
}

const load = loadavg();
const runs: Run[] = [];
for (let repeat = 0; repeat < repeats; repeat++) {
  for (const count of processCounts) {
    console.error(
      `mda-scaling: ${count} mda process(es)${mdaCpu ? ` limited to ${mdaCpu} CPU each` : ''}, ` +
        `${messages} events on ${partitions} partitions (run ${repeat + 1} of ${repeats})`,
    );
    runs.push(await runOnce(count));
  }
}
// Each run against the mean of the first process count's runs.
const baseRuns = runs.filter((r) => r.processes === processCounts[0]);
const base = baseRuns.reduce((a, r) => a + r.drainPerSecond, 0) / baseRuns.length;
console.log(
  formatTable(
    [
      'mda processes',
      'events',
      'seconds',
      'of which publishing',
      'filed msgs/s',
      'backlog after publishing',
      'backlog filed msgs/s',
      'mda CPU ms/msg',
      'periods throttled',
      `vs ${processCounts[0]} (mean)`,
    ],
    runs.map((r) => [
      String(r.processes),
      String(r.messages),
      r.seconds.toFixed(1),
      r.publishSeconds.toFixed(1),
      r.perSecond.toFixed(1),
      String(r.drained),
      r.drainPerSecond.toFixed(1),
      r.mdaCpuMsPerMessage.toFixed(2),
      r.throttledShare === undefined ? '-' : `${(r.throttledShare * 100).toFixed(0)}%`,
      `${(r.drainPerSecond / base).toFixed(2)}x`,
    ]),
  ),
);
console.log(
  `host: ${cpus().length} cores, load average ${load.map((l) => l.toFixed(2)).join(' ')} at start, ` +
    `${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at the end; mda CPU limit: ${mdaCpu || 'none'}` +
    (mdaCpu ? ` (cpu.shares ${mdaCpuShares})` : '') +
    `; backlog ${pauseWhilePublishing ? 'published while the mdas were stopped' : 'published live'}`,
);
const out = join(repo, 'bench/results');
await mkdir(out, { recursive: true });
const file = join(out, `mda-scaling-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
await writeFile(
  file,
  JSON.stringify(
    {
      partitions,
      accounts: accountCount,
      mdaCpu,
      mdaCpuShares,
      pauseWhilePublishing,
      load,
      loadAtEnd: loadavg(),
      runs,
    },
    null,
    2,
  ),
);
console.log(`written to ${file}`);
