import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createPostgresBus, type Bus } from '@correo/bus';
import { decodeMailAccepted, type MailAccepted } from '@correo/proto';
import { createPool, migrate } from '@correo/store';
import {
  curl,
  freshDatabase,
  type FreshDatabase,
  queuedId,
  startDnsServer,
  type TestDnsServer,
  uniqueName,
} from '@correo/testkit';
import { USER, provisionDirectory, testEnv } from './support/ingress-fixture.js';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const COLLECT_GARBAGE = fileURLToPath(new URL('./support/collect-garbage.ts', import.meta.url));
const MESSAGE_BYTES = 30 * 1024 * 1024;

/** kB figures from /proc/<pid>/status (VmRSS: now, VmHWM: the peak so far). */
async function memoryKb(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  assert.ok(match, `${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

/** A 30 MB message of 100-byte CRLF lines, written to disk so no process here holds it whole. */
async function writeBigMessage(path: string): Promise<void> {
  const out = createWriteStream(path);
  out.write('From: big@remote.test\r\nTo: yo@local.test\r\nSubject: thirty megabytes\r\n\r\n');
  const line = `${'0123456789'.repeat(9)}abcdefgh\r\n`;
  const block = line.repeat(10_000);
  let written = 0;
  while (written + block.length <= MESSAGE_BYTES) {
    if (!out.write(block)) await once(out, 'drain');
    written += block.length;
  }
  out.end();
  await once(out, 'finish');
}

describe('a 30 MB message in a separate ingress process (src/main.ts)', () => {
  let database: FreshDatabase;
  let dir: string;
  let child: ChildProcess;
  let ports: { mx: number };
  let metricsPort: number;
  let bus: Bus;
  let dns: TestDnsServer;
  const events: MailAccepted[] = [];

  before(async () => {
    database = await freshDatabase();
    await migrate(database.url);
    const pool = createPool(database.url, { max: 2 });
    try {
      await provisionDirectory(pool);
    } finally {
      await pool.end();
    }
    dir = await mkdtemp(join(tmpdir(), 'correo-smtp-memory-'));
    // The MX sender checks ask this server (an empty zone: every lookup is NXDOMAIN at once).
    dns = await startDnsServer();
    child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', '--import', COLLECT_GARBAGE, MAIN], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        LOG_LEVEL: 'info',
        CORREO_DATA_DIR: dir,
        DATABASE_URL: database.url,
        BUS_ADAPTER: 'postgres',
        BLOB_ADAPTER: 'fs',
        LIMITS_ADAPTER: 'memory',
        NOTIFY_ADAPTER: 'memory',
        METRICS_HOST: '127.0.0.1',
        METRICS_PORT: '0',
        ...testEnv({ SMTP_DNS_SERVERS: dns.address, SMTP_SPOOL_DIR: dir }),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const ready = await new Promise<{ ports: { mx: number }; metricsPort: number }>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        const entry = JSON.parse(line) as { msg?: string; listeners?: { name: string; address: string }[] };
        if (entry.msg !== 'started') return;
        const portOf = (name: string) =>
          Number(
            entry
              .listeners!.find((l) => l.name === name)!
              .address.split(':')
              .pop(),
          );
        resolve({ ports: { mx: portOf('SMTP MX') }, metricsPort: portOf('metrics, /healthz, /readyz') });
      });
      child.once('exit', (code) => reject(new Error(`smtp-ingress exited early with ${code}`)));
    });
    ports = ready.ports;
    metricsPort = ready.metricsPort;
    bus = createPostgresBus({ connectionString: database.url, pollIntervalMs: 100 });
    await bus.subscribe({
      group: uniqueName('memory-test'),
      topic: 'mail.accepted',
      handler: async (message) => {
        events.push(decodeMailAccepted(message.value));
      },
    });
  });

  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await bus?.close();
    await dns?.close();
    await database?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function send(file: string) {
    // 30 MB through the MX checks on a 2-core machine shared with other test files can take minutes.
    return curl(
      [
        `smtp://127.0.0.1:${ports.mx}`,
        '--mail-from',
        'big@remote.test',
        '--mail-rcpt',
        USER,
        '--upload-file',
        file,
      ],
      { maxTimeS: 300 },
    );
  }

  async function eventFor(id: string): Promise<MailAccepted> {
    for (let i = 0; i < 600 && !events.some((e) => e.eventId === id); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const event = events.find((e) => e.eventId === id);
    assert.ok(event, `MailAccepted ${id} consumed`);
    return event;
  }

  test('goes through while the ingress memory grows by far less than the message', async () => {
    // Warm up every code path once (TLS material, directory, bus, blob store) before measuring.
    const small = join(dir, 'small.eml');
    const smallOut = createWriteStream(small);
    // Past SMTP_INLINE_BODY_BYTES, so that it warms the blob store's write path too (a smaller body
    // rides in the event and never touches it).
    smallOut.end(`Subject: warm up\r\n\r\n${'hello, warm up\r\n'.repeat(12_000)}`);
    await once(smallOut, 'finish');
    const warm = await send(small);
    assert.equal(warm.exitCode, 0, warm.output);
    await eventFor(queuedId(warm.replies)!);

    const big = join(dir, 'big.eml');
    await writeBigMessage(big);
    const rssBefore = await memoryKb(child.pid!, 'VmRSS');
    const run = await send(big);
    assert.equal(run.exitCode, 0, run.output);
    const peak = await memoryKb(child.pid!, 'VmHWM');
    const id = queuedId(run.replies);
    assert.ok(id, run.output);
    const event = await eventFor(id);
    assert.ok(event.size > BigInt(MESSAGE_BYTES - 1024 * 1024));
    // The MX path measured is the one with the sender checks (a spool file beyond 256 KB, mailauth, then
    // the blob store).
    assert.equal(event.authenticationResults?.results.find((r) => r.method === 'dkim')?.result, 'none');

    const growthMb = (peak - rssBefore) / 1024;
    console.log(
      `# ingress rss before ${Math.round(rssBefore / 1024)} MB, peak ${Math.round(peak / 1024)} MB, growth ${growthMb.toFixed(1)} MB`,
    );
    // Holding the message, even once, would be 30 MB and more. Streaming it shows as a few MB of Buffers
    // not yet collected, more when the machine is loaded and the collector's timer runs late (8.1 MB
    // seen in a CI run beside the other test files): the bound is a third of the message.
    assert.ok(
      growthMb < MESSAGE_BYTES / 3 / 1024 / 1024,
      `the ingress grew by ${growthMb.toFixed(1)} MB for a 30 MB message`,
    );

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /^correo_smtp_messages_accepted_total\{listener="mx"\} 2$/m);
    const bytes = Number(/^correo_smtp_accepted_bytes_total\{listener="mx"\} (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(bytes > MESSAGE_BYTES - 1024 * 1024);
    assert.match(metrics, /^correo_smtp_connections_total\{listener="mx"\} 2$/m);
  });
});
