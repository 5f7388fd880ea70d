import { SMTPServer } from 'smtp-server';
import { freePort } from '@correo/testkit';

/** Another domain's MX on loopback (smtp-server, no TLS), for mail the relay sends out. */
export interface RemoteMx {
  port: number;
  /** Recipients of every message it accepted, in order. */
  received: string[];
  close(): Promise<void>;
}

/**
 * `refuses` names the recipients it answers 550 5.1.1 (a bounce, and a DSN, for the sender);
 * `defersOnce` those it answers 451 4.3.0 the first time only (the relay queues and retries them).
 */
export async function startRemoteMx(
  refuses: (recipient: string) => boolean = () => false,
  options: { defersOnce?: (recipient: string) => boolean } = {},
): Promise<RemoteMx> {
  const port = await freePort();
  const received: string[] = [];
  const deferred = new Set<string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const recipient = address.address;
      if (options.defersOnce?.(recipient) && !deferred.has(recipient)) {
        deferred.add(recipient);
        return callback(Object.assign(new Error('4.3.0 try again later'), { responseCode: 451 }));
      }
      if (!refuses(recipient)) return callback();
      callback(Object.assign(new Error('5.1.1 no such user'), { responseCode: 550 }));
    },
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        received.push(...session.envelope.rcptTo.map((r) => r.address));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
