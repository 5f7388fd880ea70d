import { SMTPServer } from 'smtp-server';

export interface ReceivedMessage {
  /** Which of the remote servers took it (its listening address). */
  server: string;
  mailFrom: string;
  recipients: string[];
  raw: Buffer;
  /** True when the session had been upgraded with STARTTLS. */
  secure: boolean;
  ehloName: string;
  /** The SMTP session (connection) that carried it. */
  sessionId: string;
}

/** An SMTP reply the remote side gives instead of accepting: e.g. [550, '5.1.1 no such user']. */
export type Verdict = [code: number, text: string] | null;

export interface RemoteMta {
  port: number;
  received: ReceivedMessage[];
  /** Decides each RCPT TO; null accepts. Replaceable at any time. */
  verdict: (recipient: string) => Verdict;
  close(): Promise<void>;
}

function listen(server: SMTPServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.server.address() as { port: number }).port);
    });
  });
}

/**
 * Real SMTP servers (the smtp-server package) on loopback addresses sharing one port, as remote
 * MX hosts: STARTTLS (unless told not to offer it) with smtp-server's built-in self-signed certificate, PIPELINING, 8BITMIME,
 * SMTPUTF8, SIZE. They record what they receive and answer RCPT as `verdict` says.
 */
export async function startRemoteMta(hosts: { address: string; starttls: boolean }[]): Promise<RemoteMta> {
  const remote: RemoteMta = {
    port: 0,
    received: [],
    verdict: () => null,
    close: async () => {},
  };
  const servers: SMTPServer[] = [];
  for (const { address: host, starttls } of hosts) {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: starttls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
      size: 10 * 1024 * 1024,
      logger: false,
      onRcptTo(address, _session, callback) {
        const verdict = remote.verdict(address.address);
        if (!verdict) return callback();
        callback(Object.assign(new Error(verdict[1]), { responseCode: verdict[0] }));
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          remote.received.push({
            server: host,
            mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            recipients: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks),
            secure: session.secure,
            ehloName: session.hostNameAppearsAs,
            sessionId: session.id,
          });
          callback();
        });
      },
    });
    remote.port = await listen(server, remote.port, host);
    servers.push(server);
  }
  remote.close = async () => {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  };
  return remote;
}
