import { SubmissionKind, encodeOutboundMessage, nameBasedId, timestampNow } from '@correo/proto';
import type { MailAccepted } from '@correo/proto';
import type { OutgoingMessage } from '@correo/bus';
import type { ExternalTarget } from './recipients.js';

/** The same event and domain always give the same job id, so the relay recognises a republished job. */
export function outboundJobId(eventId: string, domain: string): string {
  return nameBasedId('mail.outbound', eventId, domain);
}

/**
 * Who the relay's outbound rate limits charge for a target: the account that submitted the message,
 * else the local address whose alias forwarded it ('' for neither).
 */
export function chargedTo(event: MailAccepted, target: ExternalTarget): string {
  if (event.kind === SubmissionKind.SUBMISSION && event.authenticatedUser !== '') {
    return event.authenticatedUser.toLowerCase();
  }
  return target.forwardedBy ?? '';
}

/**
 * Forwarded mail whose sender failed SPF or DMARC: the reverse-path is probably forged, so a bounce
 * would hit an innocent address (backscatter). ingress computed these checks; they ride in the event.
 */
export function senderFailedAuthentication(event: MailAccepted): boolean {
  if (event.kind === SubmissionKind.SUBMISSION) return false;
  return (event.authenticationResults?.results ?? []).some(
    (r) =>
      (r.method === 'spf' && (r.result === 'fail' || r.result === 'softfail')) ||
      (r.method === 'dmarc' && r.result === 'fail'),
  );
}

/**
 * One OutboundMessage per destination domain and charged party, keyed by domain so one relay
 * partition batches a domain. The first (usually only) job of a domain keeps the plain job id.
 * `tenants` maps each charged address to its tenant.
 */
export function outboundJobs(
  event: MailAccepted,
  external: Map<string, ExternalTarget[]>,
  headers: Record<string, string>,
  tenants: Map<string, string>,
  /**
   * A Sieve redirect (sieve.ts): its own stable job id (`idParts` after the event id, so it never
   * meets an alias's job of the same domain) and its own blob (the message with the loop header).
   */
  redirect?: { idParts: string[]; blob: { key: string; size: number; sha256: string } },
): OutgoingMessage[] {
  const neverBounce = senderFailedAuthentication(event);
  return [...external].flatMap(([domain, targets]) => {
    const groups = new Map<string, ExternalTarget[]>();
    for (const target of targets) {
      const charge = chargedTo(event, target);
      groups.set(charge, [...(groups.get(charge) ?? []), target]);
    }
    return [...groups].map(([charge, group], index) => ({
      key: domain,
      headers,
      value: encodeOutboundMessage({
        eventId: redirect
          ? nameBasedId('mail.outbound', event.eventId, ...redirect.idParts, domain, charge)
          : index === 0
            ? outboundJobId(event.eventId, domain)
            : nameBasedId('mail.outbound', event.eventId, domain, charge),
        originalEventId: event.eventId,
        mailFrom: event.mailFrom,
        destinationDomain: domain,
        recipients: group.map((target) => ({
          address: target.address,
          originalRecipient: target.originalRecipient,
          notify: target.notify,
        })),
        blobKey: redirect?.blob.key ?? event.blobKey,
        size: redirect ? BigInt(redirect.blob.size) : event.size,
        sha256: redirect?.blob.sha256 ?? event.sha256,
        attempt: 0,
        queuedAt: event.receivedAt ?? timestampNow(),
        dsn: event.dsn,
        smtputf8: event.smtputf8,
        eightBitMime: event.eightBitMime,
        // What the relay's signing decision rests on: who submitted it, or that it came in from outside.
        enteredBy: event.kind,
        tenantId: event.kind === SubmissionKind.SUBMISSION ? event.tenantId : '',
        chargedTo: charge,
        chargedTenantId: tenants.get(charge) ?? '',
        neverBounce,
      }),
    }));
  });
}
