import { domainToASCII } from 'node:url';
import type { AccountRef, Directory } from '@correo/directory';
import { SubmissionKind } from '@correo/proto';
import type { MailAccepted, Recipient } from '@correo/proto';
import type { RejectionReason } from '@correo/store';

export interface LocalTarget {
  /** The envelope recipient that led here, lowercased (part of the idempotency key). */
  recipient: string;
  account: AccountRef;
}

export interface ExternalTarget {
  address: string;
  originalRecipient: string;
  notify: Recipient['notify'];
  /** The local recipient (lowercase) whose alias or catch-all forwards here; unset for a direct one. */
  forwardedBy?: string | undefined;
}

export interface RecipientRejection {
  recipient: string;
  reason: RejectionReason;
  detail: string;
}

/** Where one event's message goes: what resolving every envelope recipient decided. */
export interface DeliveryPlan {
  /** One entry per account, however many recipients reach it (two aliases of one person: one copy). */
  local: LocalTarget[];
  /** External recipients by ASCII destination domain: one OutboundMessage each. */
  external: Map<string, ExternalTarget[]>;
  rejections: RecipientRejection[];
}

export function domainOf(address: string): string {
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  return domainToASCII(domain) || domain;
}

/**
 * Resolves every envelope recipient in event order. Resolution is deterministic for a given
 * directory state, so a redelivered event plans the same keys and its deliveries stay no-ops.
 * At most `maxForwards` distinct external addresses come from alias or catch-all expansion: one
 * message to one address must not fan out to a crowd elsewhere (amplification); the targets over
 * that, in expansion order, become `forward-limit` rejections.
 */
export async function planDelivery(
  directory: Directory,
  event: MailAccepted,
  maxForwards: number,
): Promise<DeliveryPlan> {
  const plan: DeliveryPlan = { local: [], external: new Map(), rejections: [] };
  const accounts = new Set<string>();
  const externals = new Set<string>();
  let forwards = 0;

  const addExternal = (target: ExternalTarget) => {
    const key = target.address.toLowerCase();
    if (externals.has(key)) return;
    externals.add(key);
    if (target.forwardedBy !== undefined && ++forwards > maxForwards) {
      plan.rejections.push({
        recipient: key,
        reason: 'forward-limit',
        detail: `${target.forwardedBy} forwards this message to more than ${maxForwards} external addresses`,
      });
      return;
    }
    const domain = domainOf(target.address);
    plan.external.set(domain, [...(plan.external.get(domain) ?? []), target]);
  };

  for (const rcpt of event.recipients) {
    const recipient = rcpt.address.toLowerCase();
    const resolution = await directory.resolveRecipient(rcpt.address);
    switch (resolution.kind) {
      case 'not-local':
        // Only an authenticated submission may send to other domains; anything else would make us an
        // open relay (smtp-ingress refuses it at RCPT, so this is a domain removed since then).
        if (event.kind === SubmissionKind.SUBMISSION && event.authenticatedUser !== '') {
          addExternal({
            address: rcpt.address,
            originalRecipient: rcpt.originalRecipient,
            notify: rcpt.notify,
          });
        } else {
          plan.rejections.push({
            recipient,
            reason: 'relay-denied',
            detail: `${domainOf(recipient)} is not local`,
          });
        }
        break;
      case 'unknown-user':
        plan.rejections.push({
          recipient,
          reason: 'unknown-user',
          detail: 'no account or alias takes this address',
        });
        break;
      case 'loop':
        plan.rejections.push({
          recipient,
          reason: 'loop',
          detail: `alias loop: ${resolution.chain.join(' -> ')}`,
        });
        break;
      case 'deliver':
        for (const account of resolution.accounts) {
          if (accounts.has(account.accountId)) continue;
          accounts.add(account.accountId);
          plan.local.push({ recipient, account });
        }
        for (const address of resolution.external) {
          // RFC 3461 section 4.2: a forwarded recipient keeps the ORCPT it arrived with.
          addExternal({
            address,
            originalRecipient: rcpt.originalRecipient || `rfc822;${rcpt.address}`,
            notify: rcpt.notify,
            forwardedBy: recipient,
          });
        }
        break;
    }
  }
  return plan;
}
