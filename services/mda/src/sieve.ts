import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { BlobStore } from '@correo/blobs';
import type { Bus } from '@correo/bus';
import type { Directory } from '@correo/directory';
import type { OutboundQuota } from '@correo/limits';
import { nameBasedId } from '@correo/proto';
import type { MailAccepted } from '@correo/proto';
import { parseScript, runScript } from '@correo/sieve';
import type { MessageView, SieveAction } from '@correo/sieve';
import { activeSieveScripts } from '@correo/store';
import type { LocalDelivery, MessageFacts, Pool, SieveScriptRow } from '@correo/store';
import type { Logger } from '@correo/telemetry';
import { mdaMetrics } from './metrics.js';
import { outboundJobs } from './outbound.js';
import { domainOf, type LocalTarget } from './recipients.js';
import { sieveSpamVerdict } from './filing.js';
import { claimOutbound, rejectionSuppressed } from './sieve-replies.js';
import type { AutoReply, VacationSettings } from './sieve-replies.js';

/** The header a Sieve redirect adds: a message carrying it for the same account is not redirected again. */
export const REDIRECT_HEADER = 'X-Correo-Sieve-Redirect';

/** Enough of the blob for any sane header block; a script never sees the body. */
const HEADER_BYTES = 256 * 1024;

/** What the mda needs to run the recipients' scripts. */
export interface SieveContext {
  pool: Pool;
  blobs: BlobStore;
  bus: Bus;
  directory: Directory;
  outboundTopic: string;
  /** Where a vacation reply or rejection notice to a local sender goes to be filed. */
  acceptedTopic: string;
  vacation: VacationSettings;
  /** The hourly outbound limits redirects and vacation replies count against (none when absent). */
  outboundQuota?: OutboundQuota | undefined;
}

/** A Sieve redirect of one local target's copy to another address. */
export interface Redirect {
  target: LocalTarget;
  address: string;
}

/** The active scripts of every local account of a bus batch, in one query (most have none). */
export function batchScripts(
  pool: Pool,
  planned: readonly { plan: { local: readonly LocalTarget[] } }[],
): Promise<Map<string, SieveScriptRow>> {
  return activeSieveScripts(
    pool,
    planned.flatMap((p) => p.plan.local.map((t) => t.account.accountId)),
  );
}

/** What the recipients' scripts decided for one event. */
export interface SieveDecision {
  copies: FiledCopy[];
  redirects: Redirect[];
  /** Vacation replies and rejection notices (sieve-replies.ts). */
  replies: AutoReply[];
}

/** One copy to file, with the local target it is for (for the outcome's log line). */
export interface FiledCopy {
  delivery: LocalDelivery;
  target: LocalTarget;
}

/**
 * The copies one event files for its local recipients: INBOX (or `mailboxFor` it: Junk by the spam
 * verdict or DMARC, filing.ts) for an account
 * without an active Sieve script; what the script decides for one with (RFC 5228): keep, fileinto,
 * discard, flags. Exactly once: every copy keeps the (event, recipient, mailbox) idempotency key of
 * the filing, and a recipient the event already filed for (any mailbox: the filing of one batch is
 * all or nothing) is not run again, so a script edited between two deliveries of one event cannot
 * file a second copy elsewhere.
 */
export async function filedCopies(
  ctx: SieveContext,
  scripts: ReadonlyMap<string, SieveScriptRow>,
  log: Logger,
  event: MailAccepted,
  targets: readonly LocalTarget[],
  message: MessageFacts,
  mailboxFor: (target: LocalTarget) => string,
): Promise<SieveDecision> {
  const plain = (target: LocalTarget, mailboxName = mailboxFor(target), flags?: string[]): FiledCopy => ({
    target,
    delivery: {
      eventId: event.eventId,
      recipient: target.recipient,
      accountId: target.account.accountId,
      mailboxName,
      message,
      ...(flags && flags.length > 0 ? { flags } : {}),
    },
  });
  if (!targets.some((t) => scripts.has(t.account.accountId)))
    return { copies: targets.map((t) => plain(t)), redirects: [], replies: [] };

  const filedBefore = await recipientsFiled(ctx.pool, event.eventId);
  let headers: MessageView['headers'] | undefined;
  const copies: FiledCopy[] = [];
  const redirects: Redirect[] = [];
  const replies: AutoReply[] = [];
  for (const target of targets) {
    const { accountId } = target.account;
    // Where keep files: INBOX, or Junk by the spam verdict (the script sees it through spamtest).
    const defaultMailbox = mailboxFor(target);
    const script = scripts.get(accountId);
    if (!script) {
      copies.push(plain(target));
      continue;
    }
    if (filedBefore.has(`${target.recipient}\n${accountId}`)) {
      log.debug({ recipient: target.recipient, accountId }, 'already filed: the script is not run again');
      continue;
    }
    headers ??= await headerFields(ctx.blobs, event);
    const view: MessageView = {
      headers,
      envelope: { from: event.mailFrom, to: target.recipient },
      size: Number(event.size),
      // The acceptance time, not the clock: a redelivered event sees the same currentdate.
      now: message.internalDate,
      // An alias's mail names the alias in To; the account's own address is the user's too.
      ownAddresses: [target.account.address],
      ...sieveSpamVerdict(event),
    };
    const actions = runActiveScript(log, target, script.name, script.content, view);
    const existing = await existingMailboxes(
      ctx.pool,
      accountId,
      actions.flatMap((a) => (a.type === 'fileinto' && !a.create ? [mailboxName(a.mailbox)] : [])),
    );
    // One copy per mailbox: `fileinto "X"; fileinto "X"` or `fileinto "INBOX"; keep` file once,
    // with the flags of both (RFC 5232 leaves the merge to the implementation; Pigeonhole unites).
    const perMailbox = new Map<string, string[]>();
    const file = (name: string, flags: string[] | undefined) =>
      perMailbox.set(name, [...(perMailbox.get(name) ?? []), ...(flags ?? [])]);
    for (const action of actions) {
      switch (action.type) {
        case 'keep':
          file(defaultMailbox, action.flags);
          break;
        case 'fileinto': {
          const name = mailboxName(action.mailbox);
          // Pigeonhole: fileinto a mailbox that does not exist, without :create, keeps instead;
          // so does a name no IMAP client could select.
          const usable = usableMailboxName(name) && (action.create || existing.has(name));
          file(usable ? name : defaultMailbox, action.flags);
          break;
        }
        case 'redirect':
          if (redirectedBy(headers, target)) {
            // Already redirected by this account once: a loop between two forwarding scripts. Kept
            // (Pigeonhole drops the duplicate redirect; keeping loses nothing and ends the loop).
            log.warn(
              { recipient: target.recipient, accountId, address: action.address },
              'sieve redirect refused: this account redirected the message before (loop); kept',
            );
            mdaMetrics.sieveRuns.inc({ outcome: 'redirect-loop' });
            file(defaultMailbox, undefined);
          } else if (
            !(await redirectAdmitted(ctx, log, event, message.internalDate, target, action.address))
          ) {
            // Over the account's or tenant's hourly outbound limit: kept, so nothing is lost.
            file(defaultMailbox, undefined);
          } else {
            redirects.push({ target, address: action.address });
          }
          break;
        case 'discard':
          break;
        case 'reject':
          // After the 250 (RFC 5429 2.1): not filed; a notice goes back only to a sender that is
          // not forged and not automated (no backscatter), else the message is just discarded.
          replies.push({
            kind: 'reject',
            target,
            reason: action.reason,
            suppressed: rejectionSuppressed(event, view),
          });
          break;
        case 'vacation':
          replies.push({ kind: 'vacation', target, action });
          break;
        default:
          unknownAction(action);
      }
    }
    if (perMailbox.size === 0) {
      log.info({ recipient: target.recipient, accountId, script: script.name }, 'discarded by sieve');
    }
    for (const [name, flags] of perMailbox) copies.push(plain(target, name, flags));
  }
  return { copies, redirects, replies };
}

/** A compile error when libs/sieve adds an action this file does not handle yet. */
function unknownAction(action: never): never {
  throw new Error(`unhandled Sieve action ${JSON.stringify(action)}`);
}

/**
 * Counts a redirect against the outbound limits once per (event, recipient, address); false when
 * over them. Its claim (claimOutbound, the vacation replies' claim) has a handle of its own, so
 * only this event ever holds it (never `taken`): a redelivered event, whose redirect-only script
 * filed nothing and so runs again, finds it `again` and republishes the same job uncharged. The
 * period never matters for such a claim; housekeeping forgets it with the vacation replies (after
 * MDA_VACATION_MAX_DAYS).
 */
async function redirectAdmitted(
  ctx: SieveContext,
  log: Logger,
  event: MailAccepted,
  acceptedAt: Date,
  target: LocalTarget,
  address: string,
): Promise<boolean> {
  const claimed = await claimOutbound(ctx, log, target, 'redirect', {
    accountId: target.account.accountId,
    sender: address,
    handle: nameBasedId(event.eventId, ...redirectIdParts(target, address)),
    eventId: event.eventId,
    at: acceptedAt,
    periodSeconds: 0,
  });
  return claimed !== 'over-limit';
}

/** With the event's id, what names one redirect: its claim's handle, its outbound job id. */
function redirectIdParts(target: LocalTarget, address: string): string[] {
  return ['sieve-redirect', target.recipient, address.toLowerCase()];
}

function redirectedBy(headers: MessageView['headers'], target: LocalTarget): boolean {
  const mark = target.account.address.toLowerCase();
  return headers.some(
    (h) => h.name.toLowerCase() === REDIRECT_HEADER.toLowerCase() && h.value.trim().toLowerCase() === mark,
  );
}

/**
 * Hands each redirect to the relay as an outbound job, before the event's copies are filed: a job
 * has a stable id (event, recipient, address), so a redelivered event republishes the same job and
 * the relay keeps one (never a second redirect), while filing first could commit and then lose the
 * redirect to a crash. The relayed message is the original with the loop header on top (a blob of
 * its own, content-addressed: the same bytes and key every time). The envelope sender stays the
 * original one, as Pigeonhole does; the outbound limits charge the redirecting account.
 */
export async function publishRedirects(
  ctx: SieveContext,
  log: Logger,
  event: MailAccepted,
  headers: Record<string, string>,
  redirects: readonly Redirect[],
): Promise<void> {
  for (const { target, address } of redirects) {
    const source = await ctx.blobs.get(event.blobKey);
    const blob = await ctx.blobs.put(
      Readable.from(
        (async function* () {
          yield Buffer.from(`${REDIRECT_HEADER}: ${target.account.address.toLowerCase()}\r\n`);
          yield* source;
        })(),
      ),
    );
    const charge = target.account.address.toLowerCase();
    const tenants = new Map([[charge, (await ctx.directory.domainTenant(domainOf(charge))) ?? '']]);
    const external = new Map([
      [
        domainOf(address),
        [
          {
            address,
            originalRecipient: `rfc822;${target.recipient}`,
            notify: [],
            forwardedBy: charge,
          },
        ],
      ],
    ]);
    const jobs = outboundJobs(event, external, headers, tenants, {
      idParts: redirectIdParts(target, address),
      blob,
    });
    await ctx.bus.publish(ctx.outboundTopic, jobs);
    mdaMetrics.outboundPublished.inc(jobs.length);
    mdaMetrics.sieveRuns.inc({ outcome: 'redirected' });
    log.info({ recipient: target.recipient, address }, 'redirected by sieve: handed to the relay');
  }
}

/** The script's actions; a script that does not parse or fails while running keeps (RFC 5228 2.10.6). */
function runActiveScript(
  log: Logger,
  target: LocalTarget,
  name: string,
  content: string,
  message: MessageView,
): SieveAction[] {
  const where = { recipient: target.recipient, accountId: target.account.accountId, script: name };
  let parsed;
  try {
    parsed = parseScript(content);
  } catch (error) {
    mdaMetrics.sieveRuns.inc({ outcome: 'parse-error' });
    log.warn({ ...where, err: error }, 'sieve script does not parse: kept');
    return [{ type: 'keep' }];
  }
  const result = runScript(parsed, message);
  if (result.error) {
    mdaMetrics.sieveRuns.inc({ outcome: 'runtime-error' });
    log.warn({ ...where, err: result.error }, 'sieve script failed while running: kept');
    return [{ type: 'keep' }];
  }
  mdaMetrics.sieveRuns.inc({ outcome: 'ran' });
  if (result.vacationSkipped) {
    // RFC 5230 4.5/4.6: a list, bulk mail, an auto-reply, the null sender, or mail not sent to the user.
    mdaMetrics.sieveRuns.inc({ outcome: 'vacation-skipped' });
    log.info({ ...where, why: result.vacationSkipped }, 'sieve vacation: no reply due');
  }
  return result.actions;
}

/** The store's name for a Sieve mailbox argument: INBOX in any case is INBOX (RFC 3501 5.1). */
function mailboxName(name: string): string {
  return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}

/** A name the script may create: no control characters, no empty level of the '/' hierarchy. */
function usableMailboxName(name: string): boolean {
  const control = [...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
  return name.length > 0 && name.length <= 255 && !control && !name.split('/').includes('');
}

async function existingMailboxes(pool: Pool, accountId: string, names: string[]): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  const { rows } = await pool.query<{ name: string }>(
    'SELECT name FROM mailboxes WHERE account_id = $1 AND name = ANY($2::text[])',
    [accountId, names],
  );
  return new Set(rows.map((r) => r.name));
}

/** `recipient\naccount` pairs this event has already filed a copy for. */
async function recipientsFiled(pool: Pool, eventId: string): Promise<Set<string>> {
  const { rows } = await pool.query<{ recipient: string; account_id: string }>(
    'SELECT DISTINCT recipient, account_id FROM deliveries WHERE event_id = $1',
    [eventId],
  );
  return new Set(rows.map((r) => `${r.recipient}\n${r.account_id}`));
}

/**
 * The header block as MessageView wants it: fields in order, each unfolded (CRLF + WSP -> WSP, as
 * Dovecot does), value not decoded. By hand because it is ten lines over bytes the mime library
 * already parsed into a summary that does not keep every field.
 */
async function headerFields(blobs: BlobStore, event: MailAccepted): Promise<MessageView['headers']> {
  const bytes =
    event.body.byteLength > 0
      ? Buffer.from(event.body.buffer, event.body.byteOffset, Math.min(event.body.byteLength, HEADER_BYTES))
      : await buffer(await blobs.get(event.blobKey, { start: 0, end: HEADER_BYTES - 1 }));
  const text = bytes.toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  const block = end === -1 ? text : text.slice(0, end);
  const fields: MessageView['headers'] = [];
  for (const line of block.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && fields.length > 0) {
      fields[fields.length - 1]!.value += ` ${line.slice(1)}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  return fields;
}
