import type { Resolver } from 'node:dns/promises';
import type { Readable } from 'node:stream';
import type { ConnectionLimits } from './connection-limits.js';
import { routeFor } from './mx.js';
import type { RoutingRules } from './mx.js';
import { closeSession, openSession, sendMessage } from './smtp-session.js';
import type { Envelope, OpenSession, SessionSettings, SmtpError } from './smtp-session.js';

export type RecipientResultKind = 'delivered' | 'permanent' | 'temporary';

export interface RecipientResult {
  recipient: string;
  kind: RecipientResultKind;
  /** RFC 3463 enhanced status code. */
  status: string;
  /** The remote reply, or our own reason when no server answered. */
  reply: string;
  /** The MX host that answered, when one did. */
  remoteMta?: string | undefined;
}

export interface AttemptContext {
  resolver: Resolver;
  routing: RoutingRules;
  connections: ConnectionLimits;
  session: SessionSettings;
  smtpPort: number;
  requireTlsDomains: string[];
}

export interface OutgoingMessage {
  destinationDomain: string;
  envelope: Envelope;
  /** A fresh stream of the (signed) message, once per host tried. */
  open(): Promise<Readable>;
  /**
   * The attempt's deadline: once it fires, the session in use is closed, no further host is tried
   * and the recipients are deferred. Bounded so that the claim on a queued job outlives the attempt.
   */
  deadline?: AbortSignal | undefined;
  /** Asked before each transaction starts: false when this relay no longer holds the job. */
  mayStillSend?: (() => Promise<boolean>) | undefined;
}

/** The relay lost its claim on the job before sending it: another relay owns the job now. */
export class ClaimLostError extends Error {
  constructor() {
    super('the claim on the queued job was lost before sending');
  }
}

/** 250 2.1.5 ok -> 2.1.5; a reply without one gets the class default. */
export function enhancedStatus(reply: string, fallback: string): string {
  const match = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(reply);
  if (match) return match[1]!;
  const code = reply.charAt(0);
  return code === '2' ? '2.0.0' : code === '4' ? '4.0.0' : code === '5' ? '5.0.0' : fallback;
}

function fromReply(
  recipient: string,
  reply: string,
  code: number | undefined,
  host: string,
): RecipientResult {
  const kind: RecipientResultKind = code !== undefined && code >= 500 ? 'permanent' : 'temporary';
  return {
    recipient,
    kind,
    status: enhancedStatus(reply, kind === 'permanent' ? '5.0.0' : '4.0.0'),
    reply,
    remoteMta: host,
  };
}

function describe(error: unknown): string {
  const smtp = error as SmtpError;
  const what = smtp.response ?? `${smtp.code ?? 'error'}: ${smtp.message}`;
  return smtp.command && smtp.command !== 'CONN' ? `${smtp.command}: ${what}` : what;
}

/**
 * One delivery attempt for the recipients of one destination domain: the MX hosts in preference
 * order, each address in turn, until one holds an SMTP transaction. A host that cannot be reached
 * or refuses the session hands over to the next; once a transaction happens, its replies decide
 * per recipient (2xx delivered, 4xx temporary, 5xx permanent).
 */
export async function attemptDelivery(
  ctx: AttemptContext,
  message: OutgoingMessage,
  recipients: string[],
): Promise<RecipientResult[]> {
  const domain = message.destinationDomain;
  const { deadline } = message;
  const route = await routeFor(ctx.resolver, domain, ctx.routing, deadline);
  if (route.kind !== 'hosts') {
    return recipients.map((recipient) => ({
      recipient,
      kind: route.kind,
      status: route.status,
      reply: route.reason,
    }));
  }
  const requireTls = ctx.requireTlsDomains.includes(domain.toLowerCase());
  const lease = await ctx.connections.acquire(domain);
  let keep: OpenSession | undefined;
  const hostErrors: string[] = [];
  // At the deadline the session in use is closed: its pending command fails and the loop ends.
  let current: OpenSession | undefined;
  const cut = () => current?.connection.close();
  deadline?.addEventListener('abort', cut);
  try {
    let reused = lease.reused;
    const targets = route.hosts.flatMap((host) =>
      host.addresses.map((address) => ({
        host: host.name,
        address,
        port: host.port ?? ctx.smtpPort,
        requireTls,
      })),
    );
    for (let i = 0; i < targets.length; i++) {
      if (deadline?.aborted) break;
      let session: OpenSession;
      if (reused) {
        session = reused;
        reused = undefined;
        i -= 1; // the parked session does not use up a target
      } else {
        try {
          session = await openSession(targets[i]!, ctx.session);
        } catch (error) {
          hostErrors.push(`${targets[i]!.host}[${targets[i]!.address}]: ${describe(error)}`);
          continue;
        }
      }
      if (deadline?.aborted) {
        await closeSession(session);
        break;
      }
      if (message.mayStillSend && !(await message.mayStillSend())) {
        keep = session;
        throw new ClaimLostError();
      }
      current = session;
      const envelope = { ...message.envelope, to: recipients };
      try {
        const info = await sendMessage(session, envelope, await message.open());
        keep = session;
        return resultsOf(recipients, session.target.host, info.response, info.rejectedErrors ?? []);
      } catch (error) {
        const smtp = error as SmtpError;
        if (
          typeof smtp.responseCode === 'number' &&
          (smtp.code === 'EENVELOPE' || smtp.code === 'EMESSAGE')
        ) {
          keep = session;
          return resultsOf(
            recipients,
            session.target.host,
            smtp.response ?? '',
            smtp.rejectedErrors ?? [],
            smtp,
          );
        }
        await closeSession(session);
        hostErrors.push(`${session.target.host}[${session.target.address}]: ${describe(error)}`);
      }
    }
  } finally {
    deadline?.removeEventListener('abort', cut);
    await lease.release(keep);
  }
  if (deadline?.aborted) {
    // The deadline is the attempt's timeout, the relay's shutdown or its claim given up (process-job.ts).
    const reason = deadline.reason as Error | undefined;
    hostErrors.push(
      reason?.name === 'TimeoutError'
        ? 'the attempt reached its deadline (RELAY_ATTEMPT_TIMEOUT)'
        : `the attempt was stopped: ${reason?.message ?? 'aborted'}`,
    );
  }
  const reason = `no MX host of ${domain} took the message: ${hostErrors.join('; ')}`;
  return recipients.map((recipient) => ({ recipient, kind: 'temporary', status: '4.4.1', reply: reason }));
}

function resultsOf(
  recipients: string[],
  host: string,
  response: string,
  rejected: (SmtpError & { recipient?: string })[],
  transactionError?: SmtpError,
): RecipientResult[] {
  return recipients.map((recipient) => {
    const own = rejected.find((r) => r.recipient === recipient);
    if (own) return fromReply(recipient, own.response ?? '', own.responseCode, host);
    if (transactionError) return fromReply(recipient, response, transactionError.responseCode, host);
    return {
      recipient,
      kind: 'delivered',
      status: enhancedStatus(response, '2.0.0'),
      reply: response,
      remoteMta: host,
    };
  });
}
