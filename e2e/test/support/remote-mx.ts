import { SMTPServer } from 'smtp-server';
import { freePort } from '@correo/testkit';

/** Another domain's MX on loopback (smtp-server, no TLS), for mail the relay sends out. */
export interface RemoteMx {
  port: number;
  /** Recipients of every message it accepted, in order. */
  received: string[];
  /**
   * Every message it accepted: its recipients, its Message-ID header ('' without one), when (ms), and
   * the acceptance it came from (acceptanceOf: '' when correo's Received header is not there).
   */
  messages: { recipients: string[]; messageId: string; at: number; acceptance: string }[];
  close(): Promise<void>;
}

/**
 * The id of the acceptance a message came from: smtp-ingress names its MailAccepted event in the
 * Received header it prepends ("by ... (correo) with ESMTPSA id <event id>"); the topmost one is the
 * last time correo accepted the message. A client that resent a message because its first 250 was
 * lost (RFC 1047) made two acceptances, so two ids; one acceptance sent twice shows one id twice.
 */
export function acceptanceOf(headers: string): string {
  return /\(correo\) with \S+ id ([^\s;()]+)/.exec(headers)?.[1] ?? '';
}

/**
 * `refuses` names the recipients it answers 550 5.1.1 (a bounce, and a DSN, for the sender);
 * `defersOnce` those it answers 451 4.3.0 the first time only (the relay queues and retries them);
 * `defers` is asked at every RCPT and answers 451 4.3.0 when it says so (a flaky remote site).
 */
export async function startRemoteMx(
  refuses: (recipient: string) => boolean = () => false,
  options: { defersOnce?: (recipient: string) => boolean; defers?: (recipient: string) => boolean } = {},
): Promise<RemoteMx> {
  const port = await freePort();
  const received: string[] = [];
  const messages: RemoteMx['messages'] = [];
  const deferred = new Set<string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const recipient = address.address;
      if ((options.defersOnce?.(recipient) && !deferred.has(recipient)) || options.defers?.(recipient)) {
        deferred.add(recipient);
        return callback(Object.assign(new Error('4.3.0 try again later'), { responseCode: 451 }));
      }
      if (!refuses(recipient)) return callback();
      callback(Object.assign(new Error('5.1.1 no such user'), { responseCode: 550 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const recipients = session.envelope.rcptTo.map((r) => r.address);
        received.push(...recipients);
        const text = Buffer.concat(chunks).toString('utf8');
        const headers = text.slice(0, Math.max(0, text.indexOf('\r\n\r\n')));
        const messageId = /^message-id:\s*(\S+)/im.exec(headers)?.[1] ?? '';
        messages.push({ recipients, messageId, at: Date.now(), acceptance: acceptanceOf(headers) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    received,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
