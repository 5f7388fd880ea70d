import { metrics } from '@correo/telemetry';

/** Labels: `listener` is mx, submission or submissions; `reason` names the refusal (see smtp-reply.ts). */
export const ingressMetrics = {
  connections: metrics.counter<'listener'>({
    name: 'correo_smtp_connections_total',
    help: 'SMTP connections accepted by a listener.',
    labelNames: ['listener'],
  }),
  tlsSessions: metrics.counter<'listener'>({
    name: 'correo_smtp_tls_sessions_total',
    help: 'SMTP sessions that went TLS (implicit TLS, or STARTTLS), by listener: the TLS share with connections_total.',
    labelNames: ['listener'],
  }),
  connectionsRefused: metrics.counter<'listener' | 'reason'>({
    name: 'correo_smtp_connections_refused_total',
    help: 'SMTP connections refused at connect time (per-address limits).',
    labelNames: ['listener', 'reason'],
  }),
  activeConnections: metrics.gauge<'listener'>({
    name: 'correo_smtp_active_connections',
    help: 'SMTP connections open now.',
    labelNames: ['listener'],
  }),
  messagesAccepted: metrics.counter<'listener'>({
    name: 'correo_smtp_messages_accepted_total',
    help: 'Messages answered 250: stored in the blob store and published to mail.accepted.',
    labelNames: ['listener'],
  }),
  messagesRejected: metrics.counter<'listener' | 'reason'>({
    name: 'correo_smtp_messages_rejected_total',
    help: 'Messages, senders and recipients refused, by reason.',
    labelNames: ['listener', 'reason'],
  }),
  refusalsByCode: metrics.counter<'listener' | 'code'>({
    name: 'correo_smtp_refusals_total',
    help: 'Refusals by SMTP reply: code and enhanced status code ("550 5.1.1"), a bounded set of correo\'s own replies.',
    labelNames: ['listener', 'code'],
  }),
  acceptedBytes: metrics.counter<'listener'>({
    name: 'correo_smtp_accepted_bytes_total',
    help: 'Bytes of accepted messages as stored (with the Received header).',
    labelNames: ['listener'],
  }),
  senderAuthentication: metrics.counter<'method' | 'result'>({
    name: 'correo_smtp_sender_authentication_total',
    help: 'SPF, DKIM, ARC and DMARC results of messages accepted on the MX listener.',
    labelNames: ['method', 'result'],
  }),
  decisions: metrics.counter<'listener' | 'stage' | 'outcome' | 'reason'>({
    name: 'correo_smtp_decisions_total',
    help: 'Spam and abuse decisions (GET /v1/decisions), every one, recorded or not: by stage, outcome (rejected, tempfailed, greylisted, accepted) and reason.',
    labelNames: ['listener', 'stage', 'outcome', 'reason'],
  }),
  decisionsNotRecorded: metrics.counter({
    name: 'correo_smtp_decisions_not_recorded_total',
    help: 'Refusals counted but not written to mail_decisions: over SMTP_DECISIONS_PER_IP_PER_MINUTE for their address, or lost by the writer.',
  }),
  limitHits: metrics.counter<'limit'>({
    name: 'correo_smtp_limit_hits_total',
    help: 'Connections, messages and recipients refused by a rate limit, by limit (ip-connections-minute, block-messages-hour, account-recipients-hour, ...).',
    labelNames: ['limit'],
  }),
  greylisting: metrics.counter<'result'>({
    name: 'correo_smtp_greylisting_total',
    help: 'Greylisting verdicts at RCPT: greylisted (451), passed (retried after the delay), known (a remembered triplet), skipped (allow-listed or authenticated).',
    labelNames: ['result'],
  }),
  dnsListHits: metrics.counter<'zone' | 'kind'>({
    name: 'correo_smtp_dns_list_hits_total',
    help: 'Clients listed by a DNSBL (kind=block) or DNSWL (kind=allow) zone.',
    labelNames: ['zone', 'kind'],
  }),
  checkFailures: metrics.counter<'check'>({
    name: 'correo_smtp_check_failures_total',
    help: 'Checks that could not finish (DNS failure, limits backend unreachable) and let the client through (fail open).',
    labelNames: ['check'],
  }),
  senderChecks: metrics.counter<'symbol'>({
    name: 'correo_smtp_sender_checks_total',
    help: 'HELO, reverse-DNS and DNSBL findings added to the sender-check score, by symbol.',
    labelNames: ['symbol'],
  }),
};
