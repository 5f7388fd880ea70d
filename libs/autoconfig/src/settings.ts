import { hostname as osHostname } from 'node:os';
import { defineSection, integer, oneOf, port, text } from '@correo/config';

/**
 * Where a tenant's mail client should connect: the public name and ports of the listeners as seen from
 * the internet (behind a load balancer they differ from what the pods bind). Every domain a deployment
 * serves gets the same servers; only the login (the full address) differs.
 */
export interface ClientSettings {
  /** The DNS name on the servers' certificates, e.g. mail.example.net. */
  hostname: string;
  /** IMAP over implicit TLS (RFC 8314 prefers it); 0: not offered. */
  imapsPort: number;
  /** IMAP with STARTTLS; 0: not offered. */
  imapPort: number;
  /** POP3 over implicit TLS; 0: not offered. */
  pop3sPort: number;
  /** POP3 with STLS; 0: not offered. */
  pop3Port: number;
  /** Submission over implicit TLS (465); 0: not offered. */
  submissionsPort: number;
  /** Submission with STARTTLS (587); 0: not offered. */
  submissionPort: number;
  /** The host that serves the HTTP side (autoconfig, autodiscover, MTA-STS policy, webmail) over HTTPS. */
  webHostname: string;
  /** MTA-STS policy mode published for every domain; `none` withdraws a policy without breaking senders. */
  mtaStsMode: 'enforce' | 'testing' | 'none';
  /** How long senders cache the MTA-STS policy, in seconds. */
  mtaStsMaxAgeSeconds: number;
}

/** The listener ports clients would use when no CLIENT_*_PORT says otherwise. */
export type ClientPorts = Pick<
  ClientSettings,
  'imapsPort' | 'imapPort' | 'pop3sPort' | 'pop3Port' | 'submissionsPort' | 'submissionPort'
>;

/** The standard ports (RFC 8314, RFC 6186), what clients expect from a production deployment. */
export const STANDARD_CLIENT_PORTS: ClientPorts = {
  imapsPort: 993,
  imapPort: 143,
  pop3sPort: 995,
  pop3Port: 110,
  submissionsPort: 465,
  submissionPort: 587,
};

const optionalPort = () => port({ default: -1, allowZero: true });

/**
 * The variables shared by every service that tells clients where to connect (the webmail's autoconfig
 * routes and admin-api's per-domain DNS records), so both describe one deployment the same way. An unset
 * port falls back to what the process knows (the all-in-one: its own listeners; otherwise the standard
 * ports), so `make dev` describes itself without configuration.
 */
export const clientSettingsSection = defineSection({
  variables: {
    CLIENT_HOSTNAME: text(''),
    CLIENT_IMAPS_PORT: optionalPort(),
    CLIENT_IMAP_PORT: optionalPort(),
    CLIENT_POP3S_PORT: optionalPort(),
    CLIENT_POP3_PORT: optionalPort(),
    CLIENT_SUBMISSIONS_PORT: optionalPort(),
    CLIENT_SUBMISSION_PORT: optionalPort(),
    CLIENT_WEB_HOSTNAME: text(''),
    MTA_STS_MODE: oneOf(['enforce', 'testing', 'none'] as const).default('testing'),
    // RFC 8461 recommends weeks; the cap is the RFC's one year.
    MTA_STS_MAX_AGE_SECONDS: integer({ min: 86400, max: 31557600, default: 604800 }),
  },
  build:
    (vars) =>
    (fallback: ClientPorts = STANDARD_CLIENT_PORTS): ClientSettings => {
      const hostname = vars.CLIENT_HOSTNAME || osHostname();
      const pick = (value: number, standard: number) => (value === -1 ? standard : value);
      return {
        hostname,
        imapsPort: pick(vars.CLIENT_IMAPS_PORT, fallback.imapsPort),
        imapPort: pick(vars.CLIENT_IMAP_PORT, fallback.imapPort),
        pop3sPort: pick(vars.CLIENT_POP3S_PORT, fallback.pop3sPort),
        pop3Port: pick(vars.CLIENT_POP3_PORT, fallback.pop3Port),
        submissionsPort: pick(vars.CLIENT_SUBMISSIONS_PORT, fallback.submissionsPort),
        submissionPort: pick(vars.CLIENT_SUBMISSION_PORT, fallback.submissionPort),
        webHostname: vars.CLIENT_WEB_HOSTNAME || hostname,
        mtaStsMode: vars.MTA_STS_MODE,
        mtaStsMaxAgeSeconds: vars.MTA_STS_MAX_AGE_SECONDS,
      };
    },
});

/** This host on the standard ports with an MTA-STS policy in testing mode: what an unset environment gives. */
export function defaultClientSettings(): ClientSettings {
  const hostname = osHostname();
  return {
    hostname,
    webHostname: hostname,
    ...STANDARD_CLIENT_PORTS,
    mtaStsMode: 'testing',
    mtaStsMaxAgeSeconds: 604800,
  };
}

/** One offered way in: protocol, port and whether TLS starts at once or by STARTTLS. */
export interface ClientEndpoint {
  protocol: 'imap' | 'pop3' | 'smtp';
  port: number;
  tls: 'implicit' | 'starttls';
}

/** The offered endpoints, preferred first (implicit TLS before STARTTLS, IMAP before POP3, RFC 8314). */
export function clientEndpoints(settings: ClientSettings): ClientEndpoint[] {
  const all: ClientEndpoint[] = [
    { protocol: 'imap', port: settings.imapsPort, tls: 'implicit' },
    { protocol: 'imap', port: settings.imapPort, tls: 'starttls' },
    { protocol: 'pop3', port: settings.pop3sPort, tls: 'implicit' },
    { protocol: 'pop3', port: settings.pop3Port, tls: 'starttls' },
    { protocol: 'smtp', port: settings.submissionsPort, tls: 'implicit' },
    { protocol: 'smtp', port: settings.submissionPort, tls: 'starttls' },
  ];
  return all.filter((endpoint) => endpoint.port !== 0);
}
