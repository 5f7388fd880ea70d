import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { metrics } from '@correo/telemetry';
import { eventually } from '@correo/testkit';
import { loadTlsMaterial, watchTlsMaterial } from '../src/index.js';
import { generateSelfSigned } from '../src/self-signed.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'correo-tls-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Completes a real TLS handshake against the material, trusting only its own certificate. */
async function handshake(material: { key: string; cert: string }, servername: string): Promise<string> {
  const server = tls.createServer({ key: material.key, cert: material.cert }, (socket) =>
    socket.end('hello'),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  try {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca: [material.cert] });
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    await once(socket, 'end');
    socket.destroy();
    return received;
  } finally {
    server.close();
  }
}

describe('loadTlsMaterial', () => {
  test('exports when the loaded certificate expires, for the certificate expiry alert', async () => {
    const material = await loadTlsMaterial({ dataDir: await tempDir(), hostname: 'mx.example.test' });
    const gauge = await metrics.registry
      .getSingleMetric('correo_tls_certificate_expiry_timestamp_seconds')
      ?.get();
    const exported = gauge?.values.find((v) => v.labels.source === 'self-signed')?.value;
    assert.equal(exported, new Date(new X509Certificate(material.cert).validTo).getTime() / 1000);
  });

  test('generates a self-signed certificate once and keeps it under <dataDir>/tls', async () => {
    const dataDir = await tempDir();
    const first = await loadTlsMaterial({ dataDir, hostname: 'mx.example.test' });
    assert.equal(first.source, 'self-signed');
    const certificate = new X509Certificate(first.cert);
    assert.match(certificate.subject, /CN=mx\.example\.test/);
    assert.ok(certificate.checkHost('mx.example.test'));
    assert.ok(certificate.checkHost('localhost'));
    assert.ok(certificate.checkIP('127.0.0.1'));
    assert.equal(await readFile(join(dataDir, 'tls', 'cert.pem'), 'utf8'), first.cert);
    assert.equal((await stat(join(dataDir, 'tls', 'key.pem'))).mode & 0o777, 0o600);

    const second = await loadTlsMaterial({ dataDir, hostname: 'mx.example.test' });
    assert.equal(second.cert, first.cert);
    assert.equal(second.key, first.key);
    assert.equal(await handshake(second, 'mx.example.test'), 'hello');
  });

  test('uses the configured PEM files when both are given', async () => {
    const generatedDir = await tempDir();
    const own = await loadTlsMaterial({ dataDir: generatedDir, hostname: 'own.example.test' });
    const dir = await tempDir();
    await writeFile(join(dir, 'c.pem'), own.cert);
    await writeFile(join(dir, 'k.pem'), own.key);
    const dataDir = await tempDir();
    const material = await loadTlsMaterial({
      certFile: join(dir, 'c.pem'),
      keyFile: join(dir, 'k.pem'),
      dataDir,
      hostname: 'ignored.example.test',
    });
    assert.equal(material.source, 'configured');
    assert.equal(material.cert, own.cert);
    await assert.rejects(stat(join(dataDir, 'tls')), { code: 'ENOENT' });
    assert.equal(await handshake(material, 'own.example.test'), 'hello');
  });

  test('refuses half a configuration and a key that does not match', async () => {
    const a = await loadTlsMaterial({ dataDir: await tempDir(), hostname: 'a.example.test' });
    const b = await loadTlsMaterial({ dataDir: await tempDir(), hostname: 'b.example.test' });
    const dir = await tempDir();
    await writeFile(join(dir, 'a.pem'), a.cert);
    await writeFile(join(dir, 'b.key'), b.key);
    await assert.rejects(
      loadTlsMaterial({ certFile: join(dir, 'a.pem'), dataDir: dir, hostname: 'x' }),
      /both/,
    );
    await assert.rejects(
      loadTlsMaterial({
        certFile: join(dir, 'a.pem'),
        keyFile: join(dir, 'b.key'),
        dataDir: dir,
        hostname: 'x',
      }),
      /do not belong together/,
    );
    await assert.rejects(
      loadTlsMaterial({
        certFile: join(dir, 'missing.pem'),
        keyFile: join(dir, 'b.key'),
        dataDir: dir,
        hostname: 'x',
      }),
      { code: 'ENOENT' },
    );
  });
});

describe('watchTlsMaterial', () => {
  test('certificate and key renewed one after the other (renamed over the old files): the new pair once both fit', async () => {
    const dir = await tempDir();
    const certFile = join(dir, 'fullchain.pem');
    const keyFile = join(dir, 'privkey.pem');
    const first = await generateSelfSigned('mx.renew.test');
    const second = await generateSelfSigned('mx.renew.test');
    await writeFile(certFile, first.cert);
    await writeFile(keyFile, first.key);
    const options = { certFile, keyFile, dataDir: dir, hostname: 'mx.renew.test' };
    const current = await loadTlsMaterial(options);

    const changes: string[] = [];
    const errors: string[] = [];
    const watcher = watchTlsMaterial(
      options,
      current,
      (material) => changes.push(material.cert),
      (error) => errors.push(error.message),
    );
    try {
      // As an ACME client does it: a new file renamed over the old one, the certificate first.
      const replace = async (file: string, text: string) => {
        await writeFile(`${file}.new`, text);
        await rename(`${file}.new`, file);
      };
      await replace(certFile, second.cert);
      await eventually('the half-renewed pair to be refused', () => errors.length > 0, 10_000);
      assert.match(errors[0]!, /do not belong together/);
      assert.deepEqual(changes, [], 'nothing is served until the key fits');
      await replace(keyFile, second.key);
      await eventually('the renewed pair to be taken', () => changes.length > 0, 10_000);
      assert.deepEqual(changes, [second.cert]);
      assert.equal(await handshake({ key: second.key, cert: changes[0]! }, 'mx.renew.test'), 'hello');
    } finally {
      watcher.close();
    }
  });

  test('a self-signed certificate is not watched', async () => {
    const dir = await tempDir();
    const options = { dataDir: dir, hostname: 'mx.selfsigned.test' };
    const watcher = watchTlsMaterial(
      options,
      await loadTlsMaterial(options),
      () => assert.fail('no change expected'),
      (error) => assert.fail(error),
    );
    watcher.close();
  });
});
