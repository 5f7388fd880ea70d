import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { metrics } from '@correo/telemetry';
import { generateSelfSigned } from './self-signed.js';

// When the certificate a listener serves stops being valid, so an alert fires weeks before clients fail.
const certificateExpiry = metrics.gauge({
  name: 'correo_tls_certificate_expiry_timestamp_seconds',
  help: 'Unix time at which the TLS certificate loaded for the listeners expires, by source (configured or self-signed).',
  labelNames: ['source'],
});

export interface TlsMaterialOptions {
  /** PEM certificate chain; with keyFile, the operator's own certificate. */
  certFile?: string;
  /** PEM private key matching certFile. */
  keyFile?: string;
  /** Where the generated certificate is kept (<dataDir>/tls), so clients can pin it across restarts. */
  dataDir: string;
  /** The name the generated certificate is issued for. */
  hostname: string;
}

/** PEM strings, ready for tls.createSecureContext({ key, cert }). */
export interface TlsMaterial {
  key: string;
  cert: string;
  /** 'configured' when read from certFile/keyFile, 'self-signed' when generated or kept under dataDir. */
  source: 'configured' | 'self-signed';
}

const CERT_NAME = 'cert.pem';
const KEY_NAME = 'key.pem';

/**
 * The configured certificate, or a self-signed one generated on first start and reused afterwards.
 * Giving only one of certFile/keyFile is a configuration mistake, never a silent fallback.
 */
export async function loadTlsMaterial(options: TlsMaterialOptions): Promise<TlsMaterial> {
  const material = await readOrGenerate(options);
  certificateExpiry.set(
    { source: material.source },
    new Date(new X509Certificate(material.cert).validTo).getTime() / 1000,
  );
  return material;
}

async function readOrGenerate(options: TlsMaterialOptions): Promise<TlsMaterial> {
  const { certFile, keyFile } = options;
  if (certFile || keyFile) {
    if (!certFile || !keyFile) {
      throw new Error('TLS needs both a certificate file and a key file, only one was configured');
    }
    const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    assertMatchingPair(cert, key, `${certFile} and ${keyFile}`);
    return { cert, key, source: 'configured' };
  }
  return keptSelfSigned(options.dataDir, options.hostname);
}

async function keptSelfSigned(dataDir: string, hostname: string): Promise<TlsMaterial> {
  const dir = join(dataDir, 'tls');
  const certPath = join(dir, CERT_NAME);
  const keyPath = join(dir, KEY_NAME);
  const kept = await readPair(certPath, keyPath);
  if (kept && !expired(kept.cert)) return { ...kept, source: 'self-signed' };

  const fresh = await generateSelfSigned(hostname);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Written under temporary names and renamed so that two processes starting together never read half a file.
  const suffix = `.${process.pid}.tmp`;
  await writeFile(keyPath + suffix, fresh.key, { mode: 0o600 });
  await writeFile(certPath + suffix, fresh.cert, { mode: 0o644 });
  await rename(keyPath + suffix, keyPath);
  await rename(certPath + suffix, certPath);
  return { ...fresh, source: 'self-signed' };
}

async function readPair(certPath: string, keyPath: string): Promise<{ cert: string; key: string } | null> {
  try {
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    assertMatchingPair(cert, key, certPath);
    return { cert, key };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function expired(cert: string): boolean {
  return new Date(new X509Certificate(cert).validTo).getTime() <= Date.now();
}

function assertMatchingPair(cert: string, key: string, where: string): void {
  const certificate = new X509Certificate(cert);
  let matches: boolean;
  try {
    matches = certificate.checkPrivateKey(createPrivateKey(key));
  } catch (error) {
    throw new Error(`TLS key in ${where} is not a PEM private key: ${(error as Error).message}`);
  }
  if (!matches) throw new Error(`TLS certificate and key in ${where} do not belong together`);
}
