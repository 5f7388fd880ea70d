import type { BlobStore } from '@correo/blobs';
import type { Bus } from '@correo/bus';
import type { Directory } from '@correo/directory';
import type { Limits } from '@correo/limits';
import type { Logger } from '@correo/telemetry';

/** The adapters smtp-ingress talks to, chosen by the caller (main.ts or the all-in-one). */
export interface IngressBackends {
  bus: Bus;
  blobs: BlobStore;
  directory: Directory;
  limits: Limits;
  logger: Logger;
  /** PEM key and certificate (see @correo/tls loadTlsMaterial) for STARTTLS and port 465. */
  tls: { key: string; cert: string };
}
