import { createHash } from 'node:crypto';
import type { ClientSettings } from './settings.js';

/** A record a domain's owner publishes so that clients and other MTAs find this deployment. */
export interface PublishedRecord {
  type: 'MX' | 'SRV' | 'CNAME' | 'TXT';
  /** Fully qualified owner name, with the trailing dot as a zone file writes it. */
  name: string;
  /** The record data as a zone file writes it (TXT quoted). */
  value: string;
  /** What it is for, for the operator reading the list. */
  purpose: string;
}

const SRV_SERVICES = [
  // RFC 6186 and RFC 8314: implicit TLS ranked before STARTTLS by priority.
  {
    service: '_submissions._tcp',
    key: 'submissionsPort',
    priority: 0,
    purpose: 'submission over TLS (RFC 8314)',
  },
  {
    service: '_submission._tcp',
    key: 'submissionPort',
    priority: 10,
    purpose: 'submission with STARTTLS (RFC 6186)',
  },
  { service: '_imaps._tcp', key: 'imapsPort', priority: 0, purpose: 'IMAP over TLS (RFC 6186)' },
  { service: '_imap._tcp', key: 'imapPort', priority: 10, purpose: 'IMAP with STARTTLS (RFC 6186)' },
  { service: '_pop3s._tcp', key: 'pop3sPort', priority: 20, purpose: 'POP3 over TLS (RFC 6186)' },
  { service: '_pop3._tcp', key: 'pop3Port', priority: 30, purpose: 'POP3 with STLS (RFC 6186)' },
] as const;

/** The MTA-STS policy file (RFC 8461) served at https://mta-sts.<domain>/.well-known/mta-sts.txt. */
export function mtaStsPolicy(settings: ClientSettings): string {
  const lines = ['version: STSv1', `mode: ${settings.mtaStsMode}`];
  if (settings.mtaStsMode !== 'none') lines.push(`mx: ${settings.hostname}`);
  lines.push(`max_age: ${settings.mtaStsMaxAgeSeconds}`);
  // RFC 8461 3.2: lines end in CRLF.
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * The policy id senders compare to decide whether to fetch the policy again: derived from the policy's
 * text, so it changes exactly when the policy does and every pod computes the same one.
 */
export function mtaStsPolicyId(settings: ClientSettings): string {
  return createHash('sha256').update(mtaStsPolicy(settings)).digest('hex').slice(0, 20);
}

/**
 * Everything a domain should publish for this deployment: MX, the RFC 6186 SRV records (a service not
 * offered is published as "." so clients stop looking), the autoconfig/autodiscover names and MTA-STS.
 */
export function publishedRecords(domain: string, settings: ClientSettings): PublishedRecord[] {
  const fqdn = (name: string) => `${name}.`;
  const records: PublishedRecord[] = [
    { type: 'MX', name: fqdn(domain), value: `10 ${fqdn(settings.hostname)}`, purpose: 'inbound mail' },
  ];
  for (const srv of SRV_SERVICES) {
    const port = settings[srv.key];
    records.push({
      type: 'SRV',
      name: fqdn(`${srv.service}.${domain}`),
      value: port === 0 ? '0 0 0 .' : `${srv.priority} 1 ${port} ${fqdn(settings.hostname)}`,
      purpose: port === 0 ? `${srv.purpose}: not offered` : srv.purpose,
    });
  }
  records.push(
    {
      type: 'CNAME',
      name: fqdn(`autoconfig.${domain}`),
      value: fqdn(settings.webHostname),
      purpose: 'Thunderbird autoconfig',
    },
    {
      type: 'SRV',
      name: fqdn(`_autodiscover._tcp.${domain}`),
      value: `0 1 443 ${fqdn(settings.webHostname)}`,
      purpose: 'Outlook autodiscover',
    },
    {
      type: 'CNAME',
      name: fqdn(`mta-sts.${domain}`),
      value: fqdn(settings.webHostname),
      purpose: 'MTA-STS policy host (HTTPS, certificate for this name)',
    },
    {
      type: 'TXT',
      name: fqdn(`_mta-sts.${domain}`),
      value: `"v=STSv1; id=${mtaStsPolicyId(settings)}"`,
      purpose: `MTA-STS (RFC 8461), mode ${settings.mtaStsMode}`,
    },
  );
  return records;
}
