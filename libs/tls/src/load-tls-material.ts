import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { watch } from 'node:fs';
import { dirname, join } from 'node:path';
import { metrics, type Logger } from '@correo/telemetry';
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

const RELOAD_POLL_MS = 60_000;

export interface TlsMaterialWatch {
  close(): void;
}

/**
 * Reloads a configured certificate when its files change (a renewal by cert-manager, certbot or
 * an operator), without a restart: `onChange` gets the new pair, and the listeners it updates
 * give it to every new connection while open ones keep theirs. The directories are watched, not
 * the files: a Kubernetes Secret volume swaps a `..data` symlink and an ACME client renames over
 * the old file, both of which leave a watch on the old file blind. A pair that does not load (a
 * half-written file, a certificate with the old key) is reported and skipped; the next change is
 * read again, so the certificate and key may be replaced one after the other. Self-signed
 * material is not watched (nothing renews it but a restart past its expiry).
 */
export function watchTlsMaterial(
  options: TlsMaterialOptions,
  current: TlsMaterial,
  onChange: (material: TlsMaterial) => void,
  onError: (error: Error) => void,
): TlsMaterialWatch {
  const { certFile, keyFile } = options;
  if (current.source !== 'configured' || !certFile || !keyFile) return { close: () => {} };
  let loaded = current;
  let reading = false;
  let again = false;
  const reload = async () => {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      do {
        again = false;
        try {
          const material = await readOrGenerate(options);
          if (material.cert === loaded.cert && material.key === loaded.key) continue;
          loaded = material;
          certificateExpiry.set(
            { source: material.source },
            new Date(new X509Certificate(material.cert).validTo).getTime() / 1000,
          );
          onChange(material);
        } catch (error) {
          onError(error instanceof Error ? error : new Error(String(error)));
        }
      } while (again);
    } finally {
      reading = false;
    }
  };
  const watchers = [...new Set([dirname(certFile), dirname(keyFile)])].map((dir) =>
    watch(dir, { persistent: false }, () => void reload()),
  );
  // Where file events do not arrive (network filesystems), a periodic look still finds the
  // renewal; reading two small files a minute costs nothing.
  const poll = setInterval(() => void reload(), RELOAD_POLL_MS);
  poll.unref();
  return {
    close() {
      clearInterval(poll);
      for (const watcher of watchers) watcher.close();
    },
  };
}

/** A listener that can take a renewed certificate for its new connections. */
export interface TlsListener {
  updateTls(material: TlsMaterial): void;
}

/**
 * watchTlsMaterial for a service's listeners: every renewal goes to each of them, logged once; a
 * change that does not load is logged and the previous certificate stays in service.
 */
export function reloadTlsOnRenewal(
  options: TlsMaterialOptions,
  current: TlsMaterial,
  listeners: readonly TlsListener[],
  logger: Logger,
): TlsMaterialWatch {
  return watchTlsMaterial(
    options,
    current,
    (material) => {
      for (const listener of listeners) listener.updateTls(material);
      logger.info({ certFile: options.certFile }, 'TLS certificate reloaded');
    },
    (error) => logger.warn({ err: error }, 'TLS certificate change not loaded; serving the previous one'),
  );
}
