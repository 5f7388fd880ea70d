import { connect, isIP, isIPv4, type Socket } from 'node:net';
import { rootCertificates, type ConnectionOptions } from 'node:tls';
import { encodeProxyHeader } from '@correo/line-server';

/**
 * Where the webmail reaches the mail: the IMAP gateway and submission, both over STARTTLS. The
 * browser's password travels on to them, so TLS is required on both, also on loopback.
 */
export interface Gateways {
  imap: { host: string; port: number };
  submission: { host: string; port: number };
  /** ManageSieve (RFC 5804) for the rules and vacation views; absent: those views say they are not offered. */
  managesieve?: { host: string; port: number };
  /** PEM certificates trusted beside the system's CAs; the name the certificate is checked against. */
  tls: { ca?: string; servername?: string };
  /**
   * Open every connection with a PROXY v2 header naming the browser (WEBMAIL_PROXY_PROTOCOL), so the
   * gateways' per-IP caps and login lockout count each browser, not the webmail. The gateways must
   * list the webmail's address in PROXY_TRUSTED_CIDRS.
   */
  proxyProtocol?: boolean;
  /** The local address the webmail connects from (WEBMAIL_SOURCE_ADDRESS); unset: the system's choice. */
  sourceAddress?: string;
}

/** The browser a session acts for, as the webmail saw it (the socket's peer, or a trusted proxy's word). */
export interface BrowserAddress {
  address: string;
  port: number;
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

/**
 * The PROXY v2 header for a browser; null when the webmail does not speak PROXY. Only the source is
 * read by the gateways; the destination is written as the unspecified address of the same family.
 */
export function proxyHeaderFor(
  gateways: Gateways,
  browser: BrowserAddress | undefined,
  port: number,
): Buffer | null {
  if (!gateways.proxyProtocol || !browser) return null;
  // A dual-stack listener reports IPv4 browsers as ::ffff:a.b.c.d: the header names them as IPv4.
  const mapped = browser.address.startsWith('::ffff:') ? browser.address.slice(7) : browser.address;
  const address = isIP(mapped) ? mapped : '0.0.0.0';
  const destination = isIPv4(address) ? '0.0.0.0' : '::';
  return encodeProxyHeader(2, { address, port: browser.port }, { address: destination, port });
}

/**
 * nodemailer's getSocket: a plain TCP connection to submission that starts with the PROXY header;
 * nodemailer then runs SMTP (and STARTTLS) over it as over its own.
 */
export function submissionSocket(gateways: Gateways, browser: BrowserAddress | undefined) {
  const header = proxyHeaderFor(gateways, browser, gateways.submission.port);
  if (!header) return undefined;
  return (_options: unknown, callback: (error: Error | null, socket?: { connection: Socket }) => void) => {
    const socket = connect({
      host: gateways.submission.host,
      port: gateways.submission.port,
      ...(gateways.sourceAddress ? { localAddress: gateways.sourceAddress } : {}),
    });
    const fail = (error: Error) => callback(error);
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.off('error', fail);
      socket.write(header);
      callback(null, { connection: socket });
    });
  };
}
