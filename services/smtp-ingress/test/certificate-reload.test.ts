import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { connect as connectTcp, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { migrate } from '@correo/store';
import {
  eventually,
  freshDatabase,
  killRunning,
  listenerPort,
  makeDataDir,
  removeDataDir,
  runProgram,
  startServiceProcess,
  type FreshDatabase,
  type ServiceProcess,
} from '@correo/testkit';
import { testEnv } from './support/ingress-fixture.js';

// A renewed certificate is served without a restart: the files are swapped the way a Kubernetes
// Secret volume swaps them (a new directory behind the `..data` symlink, renamed over it), new
// connections (implicit TLS and STARTTLS) get the new certificate, an open session keeps working,
// the expiry metric follows, and a broken renewal (a key that does not fit) is refused while the
// last good certificate stays in service.
const mainScript = fileURLToPath(new URL('../src/main.ts', import.meta.url));

let db: FreshDatabase;
let dir: string;
let service: ServiceProcess | undefined;

/** A self-signed certificate from openssl (the tool an operator would use). */
async function certificate(name: string, days: number): Promise<{ dir: string; fingerprint: string }> {
  const target = join(dir, name);
  await mkdir(target);
  const made = await runProgram('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
    ...['-keyout', join(target, 'tls.key'), '-out', join(target, 'tls.crt')],
    ...['-days', String(days), '-subj', '/CN=mx.local.test', '-addext', 'subjectAltName=DNS:mx.local.test'],
  ]);
  assert.equal(made.code, 0, made.stderr);
  const pem = await readFile(join(target, 'tls.crt'), 'utf8');
  return { dir: name, fingerprint: new X509Certificate(pem).fingerprint256 };
}

/** What kubelet does on a Secret update: point `..data` at the new directory in one rename. */
async function publish(secretDir: string, version: string): Promise<void> {
  const next = join(secretDir, '..data_tmp');
  await symlink(join('..', version), next);
  await rename(next, join(secretDir, '..data'));
}

function presented(socket: TLSSocket): string {
  return socket.getPeerCertificate().fingerprint256;
}

async function implicitTls(port: number): Promise<TLSSocket> {
  const socket = connectTls({
    host: '127.0.0.1',
    port,
    servername: 'mx.local.test',
    rejectUnauthorized: false,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** Reads until a complete reply whose last line starts with `code` followed by a space. */
function replyOf(socket: Socket, code: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (new RegExp(`(^|\\n)${code} [^\\n]*\\r\\n$`).test(text)) {
        socket.off('data', onData);
        resolve(text);
      } else if (/(^|\n)[45]\d\d [^\n]*\r\n$/.test(text)) {
        socket.off('data', onData);
        reject(new Error(`expected ${code}, got ${text}`));
      }
    };
    socket.on('data', onData);
  });
}

async function startTls(port: number): Promise<string> {
  const plain = connectTcp({ host: '127.0.0.1', port });
  await replyOf(plain, '220');
  plain.write('EHLO client.example\r\n');
  await replyOf(plain, '250');
  plain.write('STARTTLS\r\n');
  await replyOf(plain, '220');
  const secure = connectTls({ socket: plain, servername: 'mx.local.test', rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', resolve);
    secure.once('error', reject);
  });
  const fingerprint = presented(secure);
  secure.destroy();
  return fingerprint;
}

async function expiryMetric(): Promise<number> {
  const text = await (await fetch(`${service!.healthUrl}/metrics`)).text();
  const match = /^correo_tls_certificate_expiry_timestamp_seconds\{source="configured"\} (\S+)$/m.exec(text);
  return Number(match?.[1]);
}

before(async () => {
  db = await freshDatabase();
  await migrate(db.url);
  dir = await makeDataDir('correo-cert-reload-');
});

after(async () => {
  await killRunning();
  await db?.drop();
  if (dir) await removeDataDir(dir);
});

test('a renewed certificate is served to new connections without a restart; a broken one is refused', async () => {
  const first = await certificate('v1', 2);
  const renewed = await certificate('v2', 60);
  const secretDir = join(dir, 'secret');
  await mkdir(secretDir);
  await publish(secretDir, first.dir);
  await symlink('..data/tls.crt', join(secretDir, 'tls.crt'));
  await symlink('..data/tls.key', join(secretDir, 'tls.key'));

  service = await startServiceProcess(mainScript, {
    ...testEnv({
      SMTP_TLS_CERT_FILE: join(secretDir, 'tls.crt'),
      SMTP_TLS_KEY_FILE: join(secretDir, 'tls.key'),
    }),
    DATABASE_URL: db.url,
    BUS_ADAPTER: 'postgres',
    BLOB_ADAPTER: 'fs',
    CORREO_DATA_DIR: dir,
  });
  const submissions = listenerPort(service.listeners['SMTP submission (implicit TLS)']!);
  const submission = listenerPort(service.listeners['SMTP submission (STARTTLS)']!);

  const open = await implicitTls(submissions);
  assert.equal(presented(open), first.fingerprint);
  assert.equal(await startTls(submission), first.fingerprint);
  await replyOf(open, '220');

  await publish(secretDir, renewed.dir);
  await eventually(
    'new implicit-TLS connections to get the renewed certificate',
    async () => {
      const socket = await implicitTls(submissions);
      const fingerprint = presented(socket);
      socket.destroy();
      return fingerprint === renewed.fingerprint;
    },
    30_000,
  );
  assert.equal(await startTls(submission), renewed.fingerprint, 'STARTTLS gets it too');
  open.write('EHLO still-here.example\r\n');
  assert.match(await replyOf(open, '250'), /^250/, 'the session opened before the renewal goes on');
  const validTo = new X509Certificate(await readFile(join(dir, renewed.dir, 'tls.crt'))).validTo;
  assert.equal(await expiryMetric(), new Date(validTo).getTime() / 1000, 'the expiry metric follows');
  open.destroy();

  // A renewal gone wrong: the new certificate with the old key. It is refused, the last good one stays.
  const broken = await certificate('v3', 90);
  await writeFile(join(dir, broken.dir, 'tls.key'), await readFile(join(dir, first.dir, 'tls.key')));
  await publish(secretDir, broken.dir);
  await eventually(
    'the broken renewal to be reported',
    () => service!.logged('TLS certificate change not loaded; serving the previous one').length > 0,
  );
  const after = await implicitTls(submissions);
  assert.equal(presented(after), renewed.fingerprint);
  after.destroy();

  service.process.child.kill('SIGTERM');
  assert.deepEqual(await service.process.exitWithin(30_000), { code: 0, signal: null });
});
