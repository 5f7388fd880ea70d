/**
 * The embedded default's own defaults (DESIGN.md, "Ports and the embedded default"): the
 * protocol services on unprivileged ports, and plaintext AUTH/LOGIN allowed from loopback
 * clients only, so any client on the machine can try it at once. Each service's production
 * defaults stay in its own config section; anything set in the environment wins.
 */
const EMBEDDED_DEFAULTS: Readonly<Record<string, string>> = {
  SMTP_MX_PORT: '2525',
  SMTP_SUBMISSION_PORT: '2587',
  SMTP_SUBMISSIONS_PORT: '2465',
  SMTP_ALLOW_PLAINTEXT_AUTH_LOOPBACK: 'true',
  IMAP_PORT: '1143',
  IMAPS_PORT: '1993',
  IMAP_ALLOW_PLAINTEXT_AUTH_LOOPBACK: 'true',
  POP3_PORT: '1110',
  POP3S_PORT: '1995',
  POP3_ALLOW_PLAINTEXT_AUTH_LOOPBACK: 'true',
  ADMIN_API_PORT: '8080',
};

export function withEmbeddedDefaults(
  env: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const merged: Record<string, string | undefined> = { ...EMBEDDED_DEFAULTS };
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && value.trim() !== '') merged[name] = value;
  return merged;
}
