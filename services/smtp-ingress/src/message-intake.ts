import { randomUUID } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { BlobTooLargeError, type BlobStore, type StoredBlob } from '@correo/blobs';
import type { Bus } from '@correo/bus';
import type { AccountRef, Directory } from '@correo/directory';
import { authorAddresses } from '@correo/mime';
import { storeBody, storeWholeBody, type AcceptedBody } from './body-store.js';
import { CarriedAnalysis } from './carried-analysis.js';
import {
  DsnNotify,
  DsnReturn,
  SubmissionKind,
  encodeMailAccepted,
  timestampFromDate,
  type MailAcceptedInit,
} from '@correo/proto';
import { injectTraceContext, withSpan } from '@correo/telemetry';
import { DataSizeLimit, MessageTooLargeError } from './data-size-limit.js';
import {
  HeaderBlockRewriter,
  HeaderTooLargeError,
  missingSubmissionHeaders,
  rewriteHeaderBlock,
} from './header-block.js';
import { LineEndingGuard, LineTooLongError } from './line-endings.js';
import { withoutForgedAuthenticationResults } from './authentication-results.js';
import { dmarcRefusal } from './dmarc-policy.js';
import type { DnsLookup } from './dns-resolver.js';
import { openMessageSpool } from './message-spool.js';
import { receivedHeader } from './received-header.js';
import { rfc5322Date } from '@correo/dsn';
import { authenticateSender, type SenderAuthentication } from './sender-authentication.js';
import { SmtpReply, replies } from './smtp-reply.js';
import { senderChecks } from './session-checks.js';
import { spamHeaders, withoutForgedSpamHeaders, type SpamDecision, type SpamFilter } from './spam-filter.js';
import { chainStreams, chainStreamsInto } from './stream-chain.js';

export const MAIL_ACCEPTED_TOPIC = 'mail.accepted';

export interface IntakeContext {
  bus: Bus;
  blobs: BlobStore;
  topic: string;
  hostname: string;
  maxMessageBytes: number;
  maxHeaderBytes: number;
  maxLineLength: number;
  /** SMTP_INLINE_BODY_BYTES: bodies up to this size ride in the event (body-store.ts). */
  inlineBodyBytes?: number;
  kind: 'mx' | 'submission';
  /** Submission checks the From header against the account's send-as rights here. */
  directory: Directory;
  /** Set on the MX listener when SMTP_SENDER_AUTHENTICATION is on. */
  senderAuthentication?: SenderAuthenticationContext;
  /** Sees the DATA bytes as they arrive (the minimum transfer rate), without consuming them. */
  watchData?: (data: Readable) => void;
  /** Rspamd after DATA (RSPAMD_URL); `spoolDir` holds the message while it is asked. */
  spam?: { filter: SpamFilter; spoolDir: string };
  /** X-Correo-Sender-Checks with its CRLF, or '' (session-checks.ts). */
  senderChecksHeader?: string;
}

export interface SenderAuthenticationContext {
  resolver: DnsLookup;
  dmarcReject: boolean;
  spoolDir: string;
}

export interface AcceptedMessage {
  eventId: string;
  blob: StoredBlob;
  /** Absent when the checks were skipped (submission, or turned off). */
  authentication?: SenderAuthentication;
  /** Absent when the spam filter is off. */
  spam?: SpamDecision;
}

// Room for what we add to a message (Received, Authentication-Results, Message-ID, Date) on top of the
// client's maximum.
const ADDED_HEADERS_ALLOWANCE = 64 * 1024;

/**
 * Streams one DATA into the blob store (or, up to INLINE_BODY_MAX_BYTES, into the event itself) and
 * publishes MailAccepted. Resolves only when both are durable;
 * rejects with an SmtpReply (552/500 for the message, 550/451 for DMARC, 451 for any backend failure). On
 * failure the rest of the client's DATA is drained, never stored, and no event is published (a stored blob
 * may stay behind as an unreferenced orphan, which nothing delivers).
 */
export function receiveMessage(
  source: SMTPServerDataStream,
  session: SMTPServerSession,
  context: IntakeContext,
): Promise<AcceptedMessage> {
  // The root of the message's trace: sender checks, the blob write and the publish are its
  // children, and the mda, the store and the relay continue it from the bus headers.
  return withSpan('smtp-ingress receive message', async (span) => {
    span.setAttribute('correo.smtp.listener', context.kind);
    span.setAttribute('correo.smtp.session_id', session.id);
    span.setAttribute('client.address', session.remoteAddress);
    const accepted = await receiveInSpan(source, session, context);
    span.setAttribute('correo.event_id', accepted.eventId);
    return accepted;
  });
}

async function receiveInSpan(
  source: SMTPServerDataStream,
  session: SMTPServerSession,
  context: IntakeContext,
): Promise<AcceptedMessage> {
  const eventId = randomUUID();
  const receivedAt = new Date();
  const account = session.user as AccountRef | undefined;
  const recipients = session.envelope.rcptTo.map((rcpt) => rcpt.address);

  const receivedField = receivedHeader({
    helo: session.hostNameAppearsAs || '',
    clientIp: session.remoteAddress,
    clientHostname: session.clientHostname || `[${session.remoteAddress}]`,
    hostname: context.hostname,
    protocol: session.transmissionType || 'ESMTP',
    id: eventId,
    recipients,
    tls: session.tlsOptions ? `${session.tlsOptions.version} ${session.tlsOptions.name}` : undefined,
    receivedAt,
  });
  // Our findings about the client (abuse-defence.ts) go on top with the Received header.
  const received = receivedField + (context.senderChecksHeader ?? '');
  const complete =
    context.kind === 'submission'
      ? (header: string) =>
          missingSubmissionHeaders(header, `${eventId}@${context.hostname}`, rfc5322Date(receivedAt))
      : () => '';
  const maxBytes = context.maxMessageBytes + ADDED_HEADERS_ALLOWANCE;

  // The stored bytes are analysed as they go into the blob store (read once): the mda files the
  // message from this analysis, carried in the event, instead of reading and parsing the blob again.
  const analysis = new CarriedAnalysis();
  let stored: AcceptedBody;
  let authentication: SenderAuthentication | undefined;
  let spam: SpamDecision | undefined;
  const authorCheck =
    context.kind === 'submission' && account
      ? { check: (header: Buffer) => checkAuthors(header, account, context.directory) }
      : {};
  const senderChecks = context.kind === 'mx' ? context.senderAuthentication : undefined;
  if (senderChecks || context.spam) {
    const spooled = await receiveSpooled(source, session, context, senderChecks, {
      eventId,
      received,
      maxBytes,
      analysis,
      firstPass: { complete, ...authorCheck },
    });
    ({ stored, authentication, spam } = spooled);
  } else {
    const message = new HeaderBlockRewriter({
      prepend: received,
      complete,
      rewrite: (header) => withoutForgedAuthenticationResults(header, context.hostname),
      ...authorCheck,
      maxHeaderBytes: context.maxHeaderBytes,
    });
    stored = await readData(source, message, context, () =>
      storeBody(context.blobs, analysis.tap(message), { maxBytes, inlineBytes: context.inlineBodyBytes }),
    );
  }
  const { blob } = stored;

  const envelope = session.envelope;
  const event: MailAcceptedInit = {
    eventId,
    receivedAt: timestampFromDate(receivedAt),
    clientIp: session.remoteAddress,
    helo: session.hostNameAppearsAs || '',
    authenticatedUser: account?.address ?? '',
    accountId: account?.accountId ?? '',
    tenantId: account?.tenantId ?? '',
    mailFrom: envelope.mailFrom ? envelope.mailFrom.address : '',
    recipients: envelope.rcptTo.map((rcpt) => ({
      address: rcpt.address,
      originalRecipient: rcpt.dsn?.orcpt ?? '',
      notify: (rcpt.dsn?.notify ?? []).map(dsnNotify),
    })),
    blobKey: blob.key,
    authenticationResults: authentication
      ? { results: authentication.results, header: authentication.header.replace(/\r\n$/, '') }
      : undefined,
    size: BigInt(blob.size),
    sha256: blob.sha256,
    analysis: analysis.encoded(blob),
    body: stored.body,
    spam: spam && {
      status: spam.check.status,
      action: spam.check.action,
      score: spam.check.score,
      rejectScore: spam.rejectScore,
      symbols: spam.check.symbols.map((symbol) => `${symbol.name}(${symbol.score})`),
      junkRecipients: spam.junkRecipients,
    },
    kind: context.kind === 'mx' ? SubmissionKind.MX : SubmissionKind.SUBMISSION,
    port: session.localPort,
    smtputf8: Boolean(envelope.smtpUtf8),
    eightBitMime: envelope.bodyType === '8bitmime',
    dsn: {
      ret:
        envelope.dsn?.ret === 'FULL'
          ? DsnReturn.FULL
          : envelope.dsn?.ret === 'HDRS'
            ? DsnReturn.HEADERS
            : DsnReturn.UNSPECIFIED,
      envelopeId: envelope.dsn?.envid ?? '',
    },
  };
  try {
    await withSpan('smtp-ingress publish mail.accepted', async (span) => {
      span.setAttribute('correo.event_id', eventId);
      await context.bus.publish(context.topic, [
        // Keyed by the (first) recipient, not the event id: one mailbox's mail stays in order on one
        // partition, so one mda consumer files it in batches instead of every consumer queueing on
        // that account's row lock.
        {
          key: recipients[0]?.toLowerCase() ?? eventId,
          value: encodeMailAccepted(event),
          headers: injectTraceContext({}),
        },
      ]);
    });
  } catch (error) {
    throw replies.backendFailure(error);
  }
  return { eventId, blob, authentication, spam };
}

/**
 * Pipes the client's DATA through the size, line and header checks into `message` and runs `consume` on
 * it. On failure smtp-server's stream is unpiped and drained, never destroyed, so the client is answered
 * only after its final dot, as RFC 5321 requires.
 */
async function readData<T>(
  source: SMTPServerDataStream,
  message: HeaderBlockRewriter,
  context: IntakeContext,
  consume: () => Promise<T>,
): Promise<T> {
  const tap = new PassThrough();
  source.pipe(tap);
  // A client that disconnects mid-DATA leaves smtp-server's stream closed without 'end'.
  const abandon = () => {
    if (!source.readableEnded) tap.destroy(new Error('connection closed during DATA'));
  };
  source.once('close', abandon);
  source.once('error', abandon);
  // Errors reach the consumer through `message`.
  chainStreams([
    tap,
    new DataSizeLimit(context.maxMessageBytes),
    new LineEndingGuard(context.maxLineLength),
    message,
  ]);
  // Attached in the same tick as the pipeline, so the extra 'data' listener misses nothing.
  context.watchData?.(tap);
  try {
    return await consume();
  } catch (error) {
    source.unpipe(tap);
    tap.destroy();
    source.resume();
    throw asReply(error, context.maxMessageBytes, context.maxHeaderBytes);
  }
}

/**
 * Spooled intake, for the checks that need the whole message before the 250: MX sender checks (SPF,
 * DKIM, DMARC) and the spam filter (Rspamd, any listener). DATA goes to a local spool first, mailauth
 * and Rspamd read it back, and only then is the message stored with Received, Authentication-Results
 * and X-Spam-* in front (see README, "Sender authentication"; docs/spam.md). A message refused for
 * DMARC or as spam never reaches the blob store and nothing is published.
 */
async function receiveSpooled(
  source: SMTPServerDataStream,
  session: SMTPServerSession,
  context: IntakeContext,
  checks: SenderAuthenticationContext | undefined,
  message: {
    eventId: string;
    received: string;
    maxBytes: number;
    analysis: CarriedAnalysis;
    /** Submission: the headers it completes and the From check, before anything is asked. */
    firstPass: { complete: (header: string) => string; check?: (header: Buffer) => Promise<void> };
  },
): Promise<{ stored: AcceptedBody; authentication?: SenderAuthentication; spam?: SpamDecision }> {
  const spool = openMessageSpool(checks?.spoolDir ?? context.spam!.spoolDir, message.eventId);
  try {
    // Only the header limit and line-end normalisation here (plus what submission completes): the
    // bytes mailauth verifies and Rspamd scans are the bytes stored (below the headers we add).
    const checked = new HeaderBlockRewriter({
      prepend: '',
      ...message.firstPass,
      maxHeaderBytes: context.maxHeaderBytes,
    });
    await readData(source, checked, context, () => chainStreamsInto([checked, spool.writer()]));
    // Most messages stay whole in memory: each pass below then reads that one Buffer.
    const whole = spool.whole();

    let authentication: SenderAuthentication | undefined;
    if (checks) {
      try {
        authentication = await withSpan('smtp-ingress sender authentication', () =>
          authenticateSender(
            whole ?? spool.reader(),
            {
              clientIp: session.remoteAddress,
              helo: session.hostNameAppearsAs || '',
              mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            },
            context.hostname,
            checks.resolver,
          ),
        );
      } catch (error) {
        throw replies.backendFailure(error);
      }
      const refusal = dmarcRefusal(authentication, checks.dmarcReject);
      if (refusal) throw refusal;
    }

    let spam: SpamDecision | undefined;
    if (context.spam) {
      const account = session.user as AccountRef | undefined;
      const { filter } = context.spam;
      const clientChecks = senderChecks(session);
      try {
        spam = await withSpan('smtp-ingress spam check', () =>
          filter.judge(
            () => spool.reader(),
            {
              eventId: message.eventId,
              clientIp: session.remoteAddress,
              helo: session.hostNameAppearsAs || '',
              clientHostname: clientChecks.verifiedHostname ?? realHostname(session),
              mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              recipients: session.envelope.rcptTo.map((rcpt) => rcpt.address),
              user: account?.address,
              senderChecks: clientChecks.checks.map((c) => ({ name: c.symbol, score: c.score })),
            },
            context.kind,
          ),
        );
      } catch (error) {
        throw replies.backendFailure(error);
      }
      if (spam.refusal) throw spam.refusal;
    }

    const ours = {
      prepend: message.received + (authentication?.header ?? '') + (spam ? spamHeaders(spam) : ''),
      complete: () => '',
      rewrite: (header: string) => {
        const genuine = withoutForgedAuthenticationResults(header, context.hostname);
        return spam ? withoutForgedSpamHeaders(genuine) : genuine;
      },
      maxHeaderBytes: context.maxHeaderBytes,
    };
    const storing = { maxBytes: message.maxBytes, inlineBytes: context.inlineBodyBytes };
    try {
      if (whole) {
        const stored = message.analysis.whole(rewriteHeaderBlock(whole, ours));
        return { stored: await storeWholeBody(context.blobs, stored, storing), authentication, spam };
      }
      const stored = new HeaderBlockRewriter(ours);
      // Errors reach blobs.put through `stored`.
      chainStreams([spool.reader(), stored]);
      const body = await storeBody(context.blobs, message.analysis.tap(stored), storing);
      return { stored: body, authentication, spam };
    } catch (error) {
      throw asReply(error, context.maxMessageBytes, context.maxHeaderBytes);
    }
  } finally {
    await spool.remove().catch(() => undefined);
  }
}

/**
 * The client's reverse DNS name when smtp-server looked one up (it writes "[ip]" otherwise); the
 * HELO checks' forward-confirmed name comes first when they ran.
 */
function realHostname(session: SMTPServerSession): string | undefined {
  const name = session.clientHostname;
  return name && !name.startsWith('[') ? name : undefined;
}

/**
 * Every address in the From fields must be one the account may send as (its own, an alias of it, or a
 * domain it holds a send-as grant for), else 553 5.7.1: the relay signs for the From domain, and
 * receivers judge the author by it (DMARC). A From naming nobody is refused as well. No From at all is
 * left alone (the relay then signs for the envelope sender, which checkSender has vetted).
 */
async function checkAuthors(header: Buffer, account: AccountRef, directory: Directory): Promise<void> {
  for (const address of new Set(authorAddresses(header))) {
    let allowed: boolean;
    try {
      allowed = address !== '' && (await directory.maySendAs(account, address));
    } catch (error) {
      throw replies.backendFailure(error);
    }
    if (!allowed) throw replies.authorNotOwned(address, account.address);
  }
}

function asReply(error: unknown, maxMessageBytes: number, maxHeaderBytes: number): SmtpReply {
  if (error instanceof SmtpReply) return error;
  if (error instanceof MessageTooLargeError || error instanceof BlobTooLargeError)
    return replies.tooLarge(maxMessageBytes);
  if (error instanceof HeaderTooLargeError) return replies.headerTooLarge(maxHeaderBytes);
  if (error instanceof LineTooLongError) return replies.lineTooLong(error.maxLength);
  return replies.backendFailure(error);
}

function dsnNotify(value: string): DsnNotify {
  switch (value.toUpperCase()) {
    case 'NEVER':
      return DsnNotify.NEVER;
    case 'SUCCESS':
      return DsnNotify.SUCCESS;
    case 'FAILURE':
      return DsnNotify.FAILURE;
    case 'DELAY':
      return DsnNotify.DELAY;
    default:
      return DsnNotify.UNSPECIFIED;
  }
}
