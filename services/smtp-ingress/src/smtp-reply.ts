/**
 * A refusal with its exact SMTP reply. smtp-server sends `responseCode` and `message`; the message starts
 * with the enhanced status code (RFC 3463), which connection-hooks.ts keeps smtp-server from doubling.
 */
export class SmtpReply extends Error {
  readonly responseCode: number;

  constructor(
    code: number,
    readonly enhancedCode: string,
    text: string,
    /** Label for the rejection metrics. */
    readonly reason: string,
    cause?: unknown,
  ) {
    super(`${enhancedCode} ${text}`, cause === undefined ? undefined : { cause });
    this.name = 'SmtpReply';
    this.responseCode = code;
  }
}

export const replies = {
  relayDenied: () => new SmtpReply(554, '5.7.1', 'Relay access denied', 'relay_denied'),
  outboundLimit: (text: string) => new SmtpReply(450, '4.7.1', text, 'outbound_limit'),
  relayAddressing: () =>
    new SmtpReply(554, '5.7.1', 'Relay access denied: % and ! addressing are not accepted', 'relay_denied'),
  unknownUser: () =>
    new SmtpReply(550, '5.1.1', 'Recipient address rejected: no such user here', 'unknown_user'),
  aliasLoop: () => new SmtpReply(550, '5.4.6', 'Recipient address rejected: alias loop', 'alias_loop'),
  badAddress: (why?: string) =>
    new SmtpReply(
      501,
      '5.1.3',
      `Bad recipient address syntax${why ? `: ${why.replace(/[^\x20-\x7e]/g, '?')}` : ''}`,
      'bad_address',
    ),
  badSender: () => new SmtpReply(501, '5.1.7', 'Bad sender address syntax', 'bad_address'),
  senderNotOwned: (login: string) =>
    new SmtpReply(553, '5.7.1', `Sender address rejected: not owned by user ${login}`, 'sender_not_owned'),
  authorNotOwned: (address: string, login: string) =>
    new SmtpReply(
      553,
      '5.7.1',
      `From header address rejected: ${JSON.stringify(address.slice(0, 100))} not owned by user ${login}`,
      'author_not_owned',
    ),
  tooLarge: (max: number) =>
    new SmtpReply(552, '5.3.4', `Message size exceeds fixed maximum message size ${max}`, 'too_large'),
  headerTooLarge: (max: number) =>
    new SmtpReply(552, '5.3.4', `Message header exceeds ${max} bytes`, 'header_too_large'),
  lineTooLong: (max: number) =>
    new SmtpReply(500, '5.5.2', `Message line longer than ${max} bytes`, 'line_too_long'),
  dmarcReject: (domain: string) =>
    new SmtpReply(550, '5.7.1', `DMARC policy of ${domain} rejects this message`, 'dmarc_reject'),
  dmarcTemporaryFailure: (domain: string) =>
    new SmtpReply(
      451,
      '4.7.0',
      `Temporary DNS failure verifying the DMARC policy of ${domain}, please try again later`,
      'dmarc_temperror',
    ),
  backendFailure: (cause?: unknown) =>
    new SmtpReply(
      451,
      '4.3.0',
      'Temporary failure in processing, please try again later',
      'backend_error',
      cause,
    ),
  authBackendFailure: (cause?: unknown) =>
    new SmtpReply(
      454,
      '4.7.0',
      'Temporary authentication failure, please try again later',
      'backend_error',
      cause,
    ),
  tooManyConnections: () =>
    new SmtpReply(
      421,
      '4.7.0',
      'Too many connections from your address, try again later',
      'too_many_connections',
    ),
  /** A rate limit of rate-windows.ts at connect; `limit` names it ('block-connections-minute'). */
  connectionRateLimited: (limit: string) =>
    new SmtpReply(
      421,
      '4.7.0',
      `Too many connections from your ${limit.startsWith('block') ? 'network' : 'address'}, try again later`,
      `limit:${limit}`,
    ),
  messageRateLimited: (limit: string) =>
    new SmtpReply(
      451,
      '4.7.1',
      `Too many messages from your ${limit.startsWith('block') ? 'network' : 'address'}, try again later`,
      `limit:${limit}`,
    ),
  accountRecipientsLimited: () =>
    new SmtpReply(
      452,
      '4.5.3',
      'Too many recipients from this account this hour, try again later',
      'limit:account-recipients-hour',
    ),
  tooManyRecipients: (max: number) =>
    new SmtpReply(
      452,
      '4.5.3',
      `Too many recipients for one message (at most ${max})`,
      'limit:message-recipients',
    ),
  greylisted: (seconds: number) =>
    new SmtpReply(
      451,
      '4.7.1',
      `Greylisted: this is a first attempt from your network, please try again in ${seconds} seconds`,
      'greylisted',
    ),
  dnsBlocked: (ip: string, zone: string) =>
    new SmtpReply(554, '5.7.1', `Service unavailable; client [${ip}] blocked using ${zone}`, 'dnsbl'),
  sessionTimeout: () =>
    new SmtpReply(421, '4.4.2', 'Session time limit exceeded, closing', 'session_timeout'),
  dataTooSlow: () => new SmtpReply(421, '4.4.2', 'Data arrives too slowly, closing', 'data_too_slow'),
  /** RFC 3463 4.3.2 "system not accepting network messages": the client retries elsewhere or later. */
  shuttingDown: () => new SmtpReply(421, '4.3.2', 'Service shutting down, try again later', 'shutting_down'),
};
