import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createFsBlobStore } from '@correo/blobs';
import { createPostgresBus } from '@correo/bus';
import { decodeMailAccepted, type MailAccepted } from '@correo/proto';
import { createPool, migrate, type Pool } from '@correo/store';
import {
  eventually,
  freshDatabase,
  killRunning,
  LineClient,
  listenerPort,
  makeDataDir,
  refusesConnections,
  removeDataDir,
  startDnsServer,
  startServiceProcess,
  uniqueName,
  type FreshDatabase,
  type TestDnsServer,
} from '@correo/testkit';
import { provisionDirectory, testEnv, USER } from './support/ingress-fixture.js';

// SIGTERM on the real process (src/main.ts, as a pod gets it): readiness goes false, the
// listeners stop accepting, a message in DATA is still taken (250, on the bus), a session between
// transactions gets 421 4.3.2 to its next command, and the process exits 0.
const mainScript = fileURLToPath(new URL('../src/main.ts', import.meta.url));

let db: FreshDatabase;
let pool: Pool;
let dataDir: string;
let dns: TestDnsServer;

before(async () => {
  db = await freshDatabase();
  await migrate(db.url);
  pool = createPool(db.url, { max: 2 });
  await provisionDirectory(pool);
  dataDir = await makeDataDir('correo-smtp-drain-');
  dns = await startDnsServer({});
});

after(async () => {
  await killRunning();
  await dns?.close();
  await pool?.end();
  await db?.drop();
  if (dataDir) await removeDataDir(dataDir);
});

test('SIGTERM drains smtp-ingress: the message in DATA is accepted, new commands get 421 4.3.2, nothing is lost', async () => {
  const service = await startServiceProcess(mainScript, {
    ...testEnv({
      SMTP_DNS_SERVERS: dns.address,
      // The grace period is far longer than the test needs: the drain ends when the last session does.
      SMTP_SHUTDOWN_TIMEOUT_MS: '15000',
    }),
    DATABASE_URL: db.url,
    BUS_ADAPTER: 'postgres',
    BLOB_ADAPTER: 'fs',
    CORREO_DATA_DIR: dataDir,
  });
  const mxPort = listenerPort(service.listeners['SMTP MX']!);
  assert.equal(await service.readyz(), 200);

  const subject = uniqueName('drain');
  // A transaction in the middle of DATA when SIGTERM arrives.
  const inData = await LineClient.openSmtp(mxPort);
  assert.match(await inData.askSmtp('EHLO client.example'), /^250/);
  assert.match(await inData.askSmtp('MAIL FROM:<sender@example.net>'), /^250/);
  assert.match(await inData.askSmtp(`RCPT TO:<${USER}>`), /^250/);
  assert.match(await inData.askSmtp('DATA'), /^354/);
  inData.write(`From: sender@example.net\r\nTo: ${USER}\r\nSubject: ${subject}\r\n\r\nfirst half\r\n`);
  // A session between transactions.
  const idle = await LineClient.openSmtp(mxPort);
  assert.match(await idle.askSmtp('EHLO other.example'), /^250/);

  service.process.child.kill('SIGTERM');
  await eventually('/readyz to answer 503', async () => (await service.readyz()) === 503, 20_000);
  await eventually('the MX listener to refuse connections', () => refusesConnections(mxPort), 20_000);

  assert.equal(
    await idle.askSmtp('MAIL FROM:<late@example.net>'),
    '421 4.3.2 Service shutting down, try again later',
  );
  assert.ok(await idle.closedWithin(), 'the idle session is closed after its 421');

  inData.write('second half\r\n.\r\n');
  assert.match(await inData.readReply(), /^250 /, 'the message in DATA is accepted during the drain');
  assert.match(await inData.askSmtp('QUIT'), /^(221|421 4\.3\.2) /);

  const exit = await service.process.exitWithin(30_000);
  assert.deepEqual(exit, { code: 0, signal: null }, service.process.stdout() + service.process.stderr());

  // Nothing lost: the accepted message is on the bus with its whole body in the blob store.
  const bus = createPostgresBus({ connectionString: db.url, pollIntervalMs: 50 });
  const blobs = createFsBlobStore({ dir: `${dataDir}/blobs` });
  try {
    const accepted: MailAccepted[] = [];
    const subscription = await bus.subscribe({
      group: uniqueName('drain-check'),
      topic: 'mail.accepted',
      handler: async (message) => void accepted.push(decodeMailAccepted(message.value)),
    });
    await eventually('the accepted message on mail.accepted', () => accepted.length === 1, 20_000);
    await subscription.stop();
    // A small message rides in its event; a bigger one is in the blob store.
    const chunks: Buffer[] = [];
    if (accepted[0]!.body.byteLength > 0) chunks.push(Buffer.from(accepted[0]!.body));
    else for await (const chunk of await blobs.get(accepted[0]!.blobKey)) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    assert.match(body, new RegExp(`Subject: ${subject}`));
    assert.match(body, /first half\r\nsecond half\r\n/);
  } finally {
    await bus.close();
    await blobs.close();
  }
});
