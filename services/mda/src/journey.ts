import type { BlobStore } from '@correo/blobs';
import { analyzeMessage, messageSummary } from '@correo/mime';
import { SubmissionKind, timestampDate } from '@correo/proto';
import type { MailAccepted } from '@correo/proto';
import { recordAcceptedMessages } from '@correo/store';
import type { AcceptedMessage, Pool, RelayJobRoute } from '@correo/store';
import { carriedSummary } from './facts.js';
import { outboundJobId } from './outbound.js';
import type { DeliveryPlan } from './recipients.js';

/** Enough of the blob to hold any sane header block: Message-ID is read from here, never the body. */
const HEADER_BYTES = 64 * 1024;

/** The trace id of a W3C traceparent header (`00-<trace id>-<span id>-<flags>`), '' without one. */
export function traceIdOf(headers: Record<string, string>): string {
  const match = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(headers.traceparent ?? '');
  return match ? match[1]! : '';
}

/**
 * Which envelope recipient each relay target came from: the recipient itself, or the one whose
 * alias forwards to it (planDelivery gives a forward the ORCPT `rfc822;<recipient>` when none came).
 */
export function relayRoutes(event: MailAccepted, plan: DeliveryPlan): RelayJobRoute[] {
  return [...plan.external].map(([domain, targets]) => ({
    jobId: outboundJobId(event.eventId, domain),
    domain,
    targets: targets.map((target) => {
      const address = target.address.toLowerCase();
      const source =
        event.recipients.find((r) => r.address.toLowerCase() === address) ??
        event.recipients.find(
          (r) => (r.originalRecipient || `rfc822;${r.address}`) === target.originalRecipient,
        );
      return { recipient: (source?.address ?? target.address).toLowerCase(), address: target.address };
    }),
  }));
}

/**
 * Best effort: the journey is a record, never a reason to hold mail back, so a blob that cannot be
 * read here leaves the Message-ID unrecorded and the relay (which reads the blob anyway) decides.
 */
async function headerMessageId(blobs: BlobStore, event: MailAccepted): Promise<string | null> {
  const carried = carriedSummary(event);
  if (carried) return carried.messageId;
  const blobKey = event.blobKey;
  try {
    const header = await blobs.get(blobKey, { start: 0, end: HEADER_BYTES - 1 });
    return messageSummary(await analyzeMessage(header)).messageId;
  } catch {
    return null;
  }
}

/** One planned event, as the mda holds it before filing. */
export interface PlannedEvent {
  event: MailAccepted;
  plan: DeliveryPlan;
  headers: Record<string, string>;
}

/**
 * Records the acceptance of each event of a bus batch for its journey (admin-api
 * /v1/messages/{id}/journey), in one statement before anything is filed or handed to the relay.
 * A message that is only relayed has no local copy whose Message-ID a lookup could find, so its
 * header block is read (a ranged read of the blob, never the body) to record it here.
 */
export async function recordAcceptances(
  pool: Pool,
  blobs: BlobStore,
  planned: PlannedEvent[],
): Promise<void> {
  await recordAcceptedMessages(pool, await Promise.all(planned.map((p) => acceptanceOf(blobs, p))));
}

async function acceptanceOf(
  blobs: BlobStore,
  { event, plan, headers }: PlannedEvent,
): Promise<AcceptedMessage> {
  const messageId =
    plan.local.length === 0 && plan.external.size > 0 ? await headerMessageId(blobs, event) : null;
  return {
    eventId: event.eventId,
    receivedAt: event.receivedAt ? timestampDate(event.receivedAt) : new Date(),
    kind: event.kind === SubmissionKind.MX ? 'mx' : 'submission',
    port: event.port,
    clientIp: event.clientIp,
    helo: event.helo,
    authenticatedUser: event.authenticatedUser,
    mailFrom: event.mailFrom,
    recipients: event.recipients.map((r) => r.address),
    size: Number(event.size),
    authenticationResults: event.authenticationResults?.header ?? '',
    authentication: (event.authenticationResults?.results ?? []).map((r) => ({
      method: r.method,
      result: r.result,
      reason: r.reason,
    })),
    messageId,
    relayJobs: relayRoutes(event, plan),
    traceId: traceIdOf(headers),
  };
}
