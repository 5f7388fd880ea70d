import type { MailAccepted } from '@correo/proto';
import type { MessageView } from '@correo/sieve';

/**
 * Which mailbox a recipient's copy goes to before any per-account rule: INBOX, or Junk when
 * smtp-ingress's spam verdict reached that recipient's Junk threshold (SpamVerdict.junk_recipients,
 * docs/spam.md), or when the message fails DMARC for a domain that asks receivers to quarantine such
 * mail (p=quarantine, or p=reject when the operator chose not to refuse it at SMTP time). Decided from
 * the event alone, so a redelivery files the same way.
 */
export function targetMailbox(event: MailAccepted, recipient: string): string {
  const junk = event.spam?.junkRecipients ?? [];
  if (junk.some((r) => r.toLowerCase() === recipient.toLowerCase())) return 'Junk';
  return dmarcQuarantined(event) ? 'Junk' : 'INBOX';
}

/** The message fails DMARC of a domain whose policy is quarantine (or reject, not refused at SMTP time). */
export function dmarcQuarantined(event: MailAccepted): boolean {
  const dmarc = event.authenticationResults?.results.find((r) => r.method === 'dmarc');
  if (dmarc?.result !== 'fail') return false;
  const policy = dmarc.properties['policy.dmarc'];
  return policy === 'quarantine' || policy === 'reject';
}

/**
 * The spam verdict for Sieve's spamtest/spamtestplus (RFC 5235): the score against the score that
 * rejects, so `spamtest :percent` is score / reject score. Nothing when the message was not scanned
 * (filter off, Rspamd unreachable, submission skipped): spamtest then answers "0", not tested.
 */
export function sieveSpamVerdict(event: MailAccepted): Pick<MessageView, 'spam'> {
  const spam = event.spam;
  if (!spam || spam.status !== 'checked' || !(spam.rejectScore > 0)) return {};
  return { spam: { score: Math.max(0, spam.score), max: spam.rejectScore } };
}
