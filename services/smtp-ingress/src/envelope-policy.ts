import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import { parseAddress, type AccountRef, type Directory } from '@correo/directory';
import type { OutboundQuota } from '@correo/limits';
import { alreadyGiven } from './abuse-defence.js';
import { hasRelayAddressing } from './address.js';
import { replies } from './smtp-reply.js';

export type ListenerKind = 'mx' | 'submission';

/**
 * MAIL FROM. On MX any sender is taken (sender authentication is not this service's job); on submission
 * the sender must be the authenticated account or an address that delivers to it.
 */
export async function checkSender(
  kind: ListenerKind,
  sender: SMTPServerAddress,
  session: SMTPServerSession,
  directory: Directory,
): Promise<void> {
  if (kind === 'mx') return;
  const account = session.user as AccountRef;
  // Users do not send bounces: the null sender is for MTAs.
  if (sender.address === '') throw replies.senderNotOwned(account.address);
  const parsed = parseAddress(sender.address);
  if (!parsed.ok) throw replies.badSender();
  let allowed: boolean;
  try {
    allowed = await directory.maySendAs(account, parsed.value.address);
  } catch (error) {
    throw replies.backendFailure(error);
  }
  if (!allowed) throw replies.senderNotOwned(account.address);
}

/**
 * RCPT TO. Local recipients must exist on both listeners; a foreign recipient is relayed only for an
 * authenticated submission, never on MX (no open relay).
 */
export async function checkRecipient(
  kind: ListenerKind,
  recipient: SMTPServerAddress,
  hostname: string,
  directory: Directory,
): Promise<'local' | 'remote'> {
  // RFC 5321 4.1.1.3: the domainless postmaster must be accepted; it is ours under our host name.
  if (recipient.address.toLowerCase() === 'postmaster') recipient.address = `postmaster@${hostname}`;
  // The directory's own parser: RCPT accepts exactly the addresses the mda can resolve, and no second
  // normaliser (the WHATWG host parser decodes %61, maps U+3002 to a dot) can disagree with it.
  // Address literals ([192.0.2.1]) never name one of our domains, and are not relayed to.
  if (/@\[[^\]]*\]$/.test(recipient.address))
    throw kind === 'mx' ? replies.relayDenied() : replies.badAddress();
  const parsed = parseAddress(recipient.address);
  if (!parsed.ok) throw replies.badAddress(parsed.error);
  if (hasRelayAddressing(parsed.value.localPart)) throw replies.relayAddressing();
  let resolution;
  try {
    resolution = await directory.resolveRecipient(parsed.value.address);
  } catch (error) {
    throw replies.backendFailure(error);
  }
  // The event carries the canonical form, so the mda resolves exactly what was checked here.
  recipient.address = parsed.value.address;
  switch (resolution.kind) {
    case 'not-local':
      if (kind === 'mx') throw replies.relayDenied();
      return 'remote';
    case 'unknown-user':
      throw replies.unknownUser();
    case 'loop':
      throw replies.aliasLoop();
    case 'deliver':
      return 'local';
  }
}

/**
 * A remote recipient of an authenticated submission counts against the hourly outbound limits of
 * the account and its tenant (OutboundQuota, MAIL_OUTBOUND_*): over them, RCPT gets a temporary
 * refusal naming the limit. Counted at RCPT, once per accepted remote recipient.
 */
export async function chargeOutbound(
  quota: OutboundQuota | undefined,
  where: 'local' | 'remote',
  session: SMTPServerSession,
  recipient: SMTPServerAddress,
): Promise<void> {
  const account = session.user as AccountRef | undefined;
  // A repeated RCPT replaces the earlier one (smtp-server): it is not another message.
  if (!quota || where !== 'remote' || !account || alreadyGiven(session, recipient)) return;
  let outcome;
  try {
    outcome = await quota.charge({ account: account.address, tenantId: account.tenantId });
  } catch (error) {
    throw replies.backendFailure(error);
  }
  if (!outcome.admitted) throw replies.outboundLimit(outcome.text);
}
