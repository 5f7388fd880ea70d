import { rfc5322Date } from '@correo/dsn';

export interface ReceivedTrace {
  helo: string;
  clientIp: string;
  /** The reverse name smtp-server found, or the [ip] literal. */
  clientHostname: string;
  hostname: string;
  /** ESMTP, ESMTPS, ESMTPA, ESMTPSA (RFC 3848). */
  protocol: string;
  id: string;
  /** Named only when there is exactly one, so a Received header never discloses a Bcc list. */
  recipients: string[];
  tls: string | undefined;
  receivedAt: Date;
}

// HELO text and addresses come from the client: anything outside printable ASCII/UTF-8 text is blanked so
// a header can never be split or forged.
// Control characters are exactly what must be matched here.
// eslint-disable-next-line no-control-regex
const UNSAFE_IN_HEADER = /[\x00-\x1f\x7f()<>;]/g;

function clean(value: string): string {
  return value.replace(UNSAFE_IN_HEADER, '?').slice(0, 255);
}

/** The trace header RFC 5321 section 4.4 asks every SMTP server to prepend, folded at the clauses. */
export function receivedHeader(trace: ReceivedTrace): string {
  const from = `from ${clean(trace.helo || 'unknown')} (${clean(trace.clientHostname)} [${clean(trace.clientIp)}])`;
  const by = `by ${clean(trace.hostname)} (correo) with ${trace.protocol} id ${trace.id}`;
  const tls = trace.tls ? ` (${clean(trace.tls)})` : '';
  const recipient = trace.recipients.length === 1 ? `\r\n\tfor <${clean(trace.recipients[0]!)}>` : '';
  return `Received: ${from}\r\n\t${by}${tls}${recipient};\r\n\t${rfc5322Date(trace.receivedAt)}\r\n`;
}
