import type { Readable } from 'node:stream';
import { authenticate, type AuthStatus } from 'mailauth';
import { authenticationResultsHeader, type AuthenticationResultEntry } from './authentication-results.js';
import type { DnsLookup } from './dns-resolver.js';

export interface SmtpTransaction {
  clientIp: string;
  helo: string;
  /** '' for the null reverse-path: SPF then checks postmaster@<helo> (RFC 7208 section 2.4). */
  mailFrom: string;
}

export interface DmarcOutcome {
  result: string;
  /** The organizational domain of the From header, as mailauth names it. */
  domain: string;
  /** The policy that applies to this From domain (p=, or sp= for a subdomain); '' without a record. */
  policy: string;
}

export interface SenderAuthentication {
  /** spf, every dkim signature (or dkim=none), arc, dmarc. */
  results: AuthenticationResultEntry[];
  /** The whole `Authentication-Results:` field with its CRLF. */
  header: string;
  /** Absent when DMARC could not be evaluated (no single From address). */
  dmarc: DmarcOutcome | undefined;
  /** Some check could not finish because of DNS (temperror): a failure may not be final. */
  temporaryError: boolean;
}

/**
 * SPF (client IP, HELO, MAIL FROM), DKIM, ARC and DMARC alignment of one message with mailauth, which
 * reads `message` once (the body is hashed, not held). A Buffer (the spool's, when the message stayed
 * in memory) goes to mailauth's DKIM parser in one write, without a stream in between.
 */
export async function authenticateSender(
  message: Readable | Buffer,
  transaction: SmtpTransaction,
  authservId: string,
  resolver: DnsLookup,
): Promise<SenderAuthentication> {
  const outcome = await authenticate(message, {
    ip: transaction.clientIp,
    // A HELO longer than a domain name can be is no domain; it must not make our header lines overlong.
    helo: transaction.helo.slice(0, 255) || undefined,
    sender: transaction.mailFrom || undefined,
    mta: authservId,
    resolver,
    disableBimi: true,
  });

  const results: AuthenticationResultEntry[] = [];
  const resinfos: string[] = [];
  const add = (method: string, status: AuthStatus, info: string) => {
    results.push(toEntry(method, status));
    resinfos.push(info);
  };

  if (outcome.spf) add('spf', outcome.spf.status, outcome.spf.info);
  for (const signature of outcome.dkim.results) add('dkim', signature.status, signature.info);
  if (outcome.arc && outcome.arc.info) add('arc', outcome.arc.status, outcome.arc.info);

  let dmarc: DmarcOutcome | undefined;
  if (outcome.dmarc) {
    const result = normalise(outcome.dmarc.status.result);
    dmarc = { result, domain: outcome.dmarc.domain, policy: (outcome.dmarc.policy ?? '').toLowerCase() };
    // policy.dmarc (RFC 9989 9.1), the policy a failure falls under, is how the mda files
    // quarantined mail in Junk without looking up DNS again: mailauth (7.x) puts it into the
    // status and its resinfo itself, so adding it here would write it twice.
    add('dmarc', outcome.dmarc.status, outcome.dmarc.info);
  }

  return {
    results,
    header: authenticationResultsHeader(authservId, resinfos),
    dmarc,
    temporaryError: results.some((entry) => entry.result === 'temperror'),
  };
}

function toEntry(method: string, status: AuthStatus): AuthenticationResultEntry {
  const properties: Record<string, string> = {};
  for (const ptype of ['policy', 'smtp', 'body', 'header'] as const) {
    const values = (status as unknown as Record<string, unknown>)[ptype];
    if (!values || typeof values !== 'object') continue;
    for (const [property, value] of Object.entries(values)) {
      if (value !== undefined && value !== null && value !== false && value !== '') {
        properties[`${ptype}.${property}`] = String(value);
      }
    }
  }
  return {
    method,
    result: normalise(status.result),
    reason: typeof status.comment === 'string' ? status.comment : '',
    properties,
  };
}

// Older mailauth paths say "temperr"; RFC 8601 only knows "temperror".
function normalise(result: string): string {
  return result === 'temperr' ? 'temperror' : result;
}
