import { Readable } from 'node:stream';
import { BlobNotFoundError } from '@correo/blobs';
import type { BlobStore } from '@correo/blobs';
import type { Bus } from '@correo/bus';
import type { Directory } from '@correo/directory';
import { buildDsn } from '@correo/dsn';
import type { DsnRecipient } from '@correo/dsn';
import { DsnNotify, generatedMessageRecord, nameBasedId, timestampDate } from '@correo/proto';
import type { OutboundMessage } from '@correo/proto';
import { injectTraceContext, withSpan, type Logger } from '@correo/telemetry';
import { readHeaderSection } from './message-source.js';
import { relayMetrics } from './metrics.js';

export interface BounceContext {
  bus: Bus;
  blobs: BlobStore;
  directory: Directory;
  logger: Logger;
  reportingMta: string;
  acceptedTopic: string;
  outboundTopic: string;
}

/**
 * What a DSN reports of one recipient: it failed; it was relayed (handed to the remote MTA, which
 * this relay does not ask for notifications of its own, so RFC 3461 5.2.3 makes this relay the one
 * that answers NOTIFY=SUCCESS); or it is delayed (still in the queue after RELAY_DELAY_WARNING).
 */
export interface RecipientNotice {
  recipient: string;
  action: 'failed' | 'relayed' | 'delayed';
  status: string;
  reply: string;
  remoteMta?: string | undefined;
  lastAttempt: Date;
  /** A delayed recipient: until when it is still retried. */
  willRetryUntil?: Date | undefined;
}

/**
 * The header section the DSN returns; none when the body is gone (the DSN must still go: it is
 * the sender's only news of the failure). Any other failure to read it throws, to be retried.
 */
async function originalHeaders(blobs: BlobStore, blobKey: string): Promise<Buffer> {
  try {
    return await readHeaderSection(blobs, blobKey);
  } catch (error) {
    if (error instanceof BlobNotFoundError) return Buffer.alloc(0);
    throw error;
  }
}

/**
 * RFC 3461 NOTIFY: a failure is told when NOTIFY is absent or lists FAILURE, a delay when it is
 * absent or lists DELAY (without NOTIFY the MTA may assume FAILURE,DELAY, section 4.1); a relay only
 * when it lists SUCCESS. NEVER wants none of them.
 */
export function wantsNotice(
  job: OutboundMessage,
  notice: Pick<RecipientNotice, 'recipient' | 'action'>,
): boolean {
  const notify = job.recipients.find((r) => r.address === notice.recipient)?.notify ?? [];
  if (notice.action === 'relayed') return notify.includes(DsnNotify.SUCCESS);
  const asked = notice.action === 'delayed' ? DsnNotify.DELAY : DsnNotify.FAILURE;
  return notify.length === 0 || notify.includes(asked);
}

/**
 * Tells the sender that recipients failed, or were relayed when it asked (NOTIFY=SUCCESS), with one
 * RFC 3464 DSN addressed to the original MAIL FROM. A failed bounce (null reverse-path) is never
 * bounced: that is how mail loops between two broken systems are avoided (RFC 5321 section 4.5.5).
 * Nor is forwarded mail whose sender failed SPF or DMARC (`never_bounce`, set by the mda): its
 * reverse-path is likely forged (backscatter). Neither gets a relayed notice either.
 *
 * The DSN enters the normal pipeline instead of being written into a mailbox here: for a local
 * sender as a MailAccepted on mail.accepted (the mda files it, with aliases, rules, quota and IMAP
 * IDLE notification, exactly once), for a remote sender (a forwarded message) as an
 * OutboundMessage with the null sender, which this relay then delivers like any other. Its id is
 * derived from the job and the recipients it reports, so an attempt redone after a crash sends the
 * same DSN, which the pipeline keeps once. Resolves false when no DSN was due.
 */
export async function sendDsn(
  ctx: BounceContext,
  job: OutboundMessage,
  notices: RecipientNotice[],
): Promise<boolean> {
  const failed = notices.filter((n) => n.action === 'failed');
  if (notices.length === 0) return false;
  const log = ctx.logger.child({ jobId: job.eventId });
  if (job.isBounce || job.mailFrom === '') {
    relayMetrics.dsnSuppressed.inc(failed.length);
    if (failed.length > 0)
      log.warn({ recipients: failed.map((f) => f.recipient) }, 'a bounce failed: not bounced again');
    return false;
  }
  if (job.neverBounce) {
    relayMetrics.dsnSuppressed.inc(failed.length);
    if (failed.length > 0)
      log.warn(
        { to: job.mailFrom, recipients: failed.map((f) => f.recipient) },
        'forwarded mail whose sender failed SPF/DMARC: not bounced (backscatter)',
      );
    return false;
  }
  const notify = notices.filter((n) => wantsNotice(job, n));
  relayMetrics.dsnSuppressed.inc(failed.filter((f) => !wantsNotice(job, f)).length);
  if (notify.length === 0) return false;

  const recipients: DsnRecipient[] = notify.map((f) => ({
    finalRecipient: f.recipient,
    originalRecipient: job.recipients.find((r) => r.address === f.recipient)?.originalRecipient || undefined,
    action: f.action,
    status: f.status,
    remoteMta: f.remoteMta,
    diagnosticCode: f.reply,
    // A remote server's reply is typed smtp; our own reason (DNS, unreachable, expired) is not one.
    diagnosticType: f.remoteMta ? 'smtp' : 'x-correo',
    lastAttemptDate: f.lastAttempt,
    willRetryUntil: f.willRetryUntil,
  }));
  const dsn = buildDsn({
    reportingMta: ctx.reportingMta,
    to: job.mailFrom,
    original: await originalHeaders(ctx.blobs, job.blobKey),
    originalEnvelopeId: job.dsn?.envelopeId || undefined,
    arrivalDate: job.queuedAt ? timestampDate(job.queuedAt) : undefined,
    recipients,
  });
  // A span of the message's trace (the active one: the relay's delivery of the job), and its
  // context in the DSN's bus headers, so the DSN's own filing or sending continues the same trace.
  // A delay notice has its own id: the same recipients' failure notice may follow it.
  const kind = notify.every((n) => n.action === 'delayed') ? 'dsn-delayed' : 'dsn';
  const eventId = nameBasedId(kind, job.eventId, ...notify.map((f) => f.recipient).sort());
  await withSpan('relay.dsn', async (span) => {
    span.setAttribute('correo.event_id', eventId);
    span.setAttribute('correo.dsn.recipients', notify.length);
    const stored = await ctx.blobs.put(Readable.from([dsn]));
    const senderDomain = job.mailFrom.slice(job.mailFrom.lastIndexOf('@') + 1).toLowerCase();
    const record = generatedMessageRecord({
      eventId,
      originalEventId: job.originalEventId,
      to: job.mailFrom,
      local: await ctx.directory.isLocalDomain(senderDomain),
      blob: stored,
      reportingHost: ctx.reportingMta,
    });
    await ctx.bus.publish(record.topic === 'accepted' ? ctx.acceptedTopic : ctx.outboundTopic, [
      { key: record.key, value: record.value, headers: injectTraceContext({}) },
    ]);
  });
  relayMetrics.dsnSent.inc();
  log.info({ to: job.mailFrom, dsnEventId: eventId, recipients: notify.map((f) => f.recipient) }, 'DSN sent');
  return true;
}
