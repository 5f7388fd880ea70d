import { rootCertificates, type ConnectionOptions } from 'node:tls';

/**
 * Where the webmail reaches the mail: the IMAP gateway and submission, both over STARTTLS. The
 * browser's password travels on to them, so TLS is required on both, also on loopback.
 */
export interface Gateways {
  imap: { host: string; port: number };
  submission: { host: string; port: number };
  /** PEM certificates trusted beside the system's CAs; the name the certificate is checked against. */
  tls: { ca?: string; servername?: string };
}

export function tlsOptions(gateways: Gateways): ConnectionOptions {
  const options: ConnectionOptions = { minVersion: 'TLSv1.2' };
  if (gateways.tls.ca !== undefined) {
    // Added to, not instead of, the system's roots: an operator's CA-issued certificate keeps working.
    options.ca = [gateways.tls.ca, ...rootCertificates];
  }
  if (gateways.tls.servername !== undefined) options.servername = gateways.tls.servername;
  return options;
}
