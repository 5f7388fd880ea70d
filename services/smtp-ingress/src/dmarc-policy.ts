import type { SenderAuthentication } from './sender-authentication.js';
import { replies, type SmtpReply } from './smtp-reply.js';

/**
 * What the From domain's DMARC policy asks of this message, as an SMTP refusal, or undefined to accept.
 * Only p=reject refuses; p=quarantine is accepted with policy.dmarc=quarantine in the results (the mda
 * files it in Junk). A DMARC record that could not be fetched (dmarc=temperror) never refuses. A failure
 * under p=reject while SPF or DKIM hit a DNS error may not be final: 451, the sender retries.
 */
export function dmarcRefusal(auth: SenderAuthentication, rejectEnabled: boolean): SmtpReply | undefined {
  const dmarc = auth.dmarc;
  if (!rejectEnabled || !dmarc || dmarc.result !== 'fail' || dmarc.policy !== 'reject') return undefined;
  // The domain comes from the message's From header and goes into a reply line.
  const domain = dmarc.domain.replace(/[^A-Za-z0-9.-]/g, '?').slice(0, 255);
  if (auth.temporaryError) return replies.dmarcTemporaryFailure(domain);
  return replies.dmarcReject(domain);
}
