/**
 * The embedded default's own defaults (DESIGN.md, "Ports and the embedded default"): the
 * protocol services on unprivileged ports. Each service's production defaults stay in its own
 * config section; anything set in the environment wins.
 */
const EMBEDDED_DEFAULTS: Readonly<Record<string, string>> = {
  SMTP_MX_PORT: '2525',
  SMTP_SUBMISSION_PORT: '2587',
  SMTP_SUBMISSIONS_PORT: '2465',
  IMAP_PORT: '1143',
  IMAPS_PORT: '1993',
  POP3_PORT: '1110',
  POP3S_PORT: '1995',
  MANAGESIEVE_PORT: '14190',
  ADMIN_API_PORT: '8080',
  WEBMAIL_PORT: '8081',
  // The webmail names each browser to IMAP and submission in a PROXY v2 header, so the per-IP caps
  // and the login lockout count browsers, not the webmail. It connects from a loopback address of its
  // own, which app.ts adds to the gateways' PROXY_TRUSTED_CIDRS; other loopback clients (a local mail
  // client, swaks) stay untrusted and need no header. The address is out of the 127.0.0.x range that
  // tests and multi-host setups on one machine use for hosts. Linux routes all of 127.0.0.0/8 to lo; other
  // systems have only 127.0.0.1 there, so the webmail connects plainly (one address for everybody).
  ...(process.platform === 'linux'
    ? { WEBMAIL_PROXY_PROTOCOL: 'true', WEBMAIL_SOURCE_ADDRESS: '127.0.80.81' }
    : {}),
};

/**
 * A dev setup (CORREO_DEV=true, as make dev sets) also allows plaintext AUTH/LOGIN from loopback
 * clients, so any client on the machine can try it at once. Never otherwise: behind a sidecar or
 * a port-forward every client looks like loopback (docs/security.md).
 */
const DEV_DEFAULTS: Readonly<Record<string, string>> = {
  SMTP_ALLOW_PLAINTEXT_AUTH_LOOPBACK: 'true',
  IMAP_ALLOW_PLAINTEXT_AUTH_LOOPBACK: 'true',
  POP3_ALLOW_PLAINTEXT_AUTH_LOOPBACK: 'true',
  MANAGESIEVE_ALLOW_PLAINTEXT_AUTH_LOOPBACK: 'true',
  // make dev serves the webmail over plain HTTP on loopback, where a Secure cookie would not stick.
  WEBMAIL_SECURE_COOKIE: 'false',
};

export function withEmbeddedDefaults(
  env: Record<string, string | undefined>,
): Record<string, string | undefined> {
  // The same words the config's flag() takes for true; anything else (or unset) is not a dev setup.
  const dev = /^(true|1|yes)$/i.test(env.CORREO_DEV?.trim() ?? '');
  const merged: Record<string, string | undefined> = { ...EMBEDDED_DEFAULTS, ...(dev ? DEV_DEFAULTS : {}) };
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && value.trim() !== '') merged[name] = value;
  return merged;
}
