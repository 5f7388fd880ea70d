import type { SMTPServerSession } from 'smtp-server';

/** One named finding about the client, with its weight in the spam verdict (docs/spam.md). */
export interface SenderCheck {
  symbol: string;
  score: number;
  detail: string;
}

/**
 * What the connection and envelope stages found out about a session's client, for the after-DATA
 * spam verdict (which adds `score` to its own) and the X-Correo-Sender-Checks header of the stored
 * message. Findings, not refusals: a refusal is sent at once.
 */
export interface SessionChecks {
  checks: SenderCheck[];
  /** The DNSWL zone listing the client: it is not greylisted nor refused by a block list. */
  allowListedBy: string | undefined;
  /** The PTR names of the client that resolve back to it (FCrDNS), once looked up. */
  verifiedHostname: string | undefined;
}

const bySession = new WeakMap<SMTPServerSession, SessionChecks>();

/** The session's findings (smtp-server keeps one session object per connection, across RSET). */
export function senderChecks(session: SMTPServerSession): SessionChecks {
  let checks = bySession.get(session);
  if (!checks) {
    checks = { checks: [], allowListedBy: undefined, verifiedHostname: undefined };
    bySession.set(session, checks);
  }
  return checks;
}

/** The sum of the findings' scores. */
export function senderCheckScore(checks: SessionChecks): number {
  return checks.checks.reduce((sum, check) => sum + check.score, 0);
}

/** Replaces the findings whose symbol starts with `prefix` (a second EHLO re-runs the HELO checks). */
export function replaceChecks(checks: SessionChecks, prefix: string, found: SenderCheck[]): void {
  checks.checks = [...checks.checks.filter((check) => !check.symbol.startsWith(prefix)), ...found];
}

/**
 * `X-Correo-Sender-Checks: score=2.0; RDNS_NONE=1.0 HELO_NOT_FQDN=1.0` with its CRLF, or '' when
 * nothing was found: the findings are visible in the stored message even without a spam filter.
 */
export function senderChecksHeader(checks: SessionChecks): string {
  if (checks.checks.length === 0) return '';
  const symbols = checks.checks.map((check) => `${check.symbol}=${check.score.toFixed(1)}`).join(' ');
  return `X-Correo-Sender-Checks: score=${senderCheckScore(checks).toFixed(1)}; ${symbols}\r\n`;
}
