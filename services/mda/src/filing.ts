import type { MailAccepted } from '@correo/proto';

/**
 * Which mailbox a message goes to before any per-account rule: INBOX, or Junk when smtp-ingress
 * found that it fails DMARC for a domain that asks receivers to quarantine such mail (p=quarantine,
 * or p=reject when the operator chose not to refuse it at SMTP time). Decided once per event.
 */
export function targetMailbox(event: MailAccepted): string {
  const dmarc = event.authenticationResults?.results.find((r) => r.method === 'dmarc');
  if (dmarc?.result !== 'fail') return 'INBOX';
  const policy = dmarc.properties['policy.dmarc'];
  return policy === 'quarantine' || policy === 'reject' ? 'Junk' : 'INBOX';
}
