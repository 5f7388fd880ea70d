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

/** A new SMTP session at one of the remote servers, and how many it held then, itself included. */
export interface SessionStart {
  server: string;
  open: number;
}

export interface RemoteMta {
  port: number;
  received: ReceivedMessage[];
  /** Decides each RCPT TO; null accepts. Replaceable at any time. */
  verdict: (recipient: string) => Verdict;
  /** Awaited before the reply to RCPT TO: a test holds a session before any message is accepted. */
  beforeRcptReply: (recipient: string) => Promise<void>;
  /** Awaited before the reply to DATA: a test makes the remote slow, or holds transactions, here. */
  beforeDataReply: (message: ReceivedMessage) => Promise<void>;
  /** Every session as it started, in order. */
  sessions: SessionStart[];
  /** How long the servers take to answer QUIT, holding the session meanwhile. */
  quitDelayMs: number;
  close(): Promise<void>;
}

/** The part of smtp-server's (untyped) session object that runs QUIT. */
interface SessionHandlers {
  handler_QUIT(command: unknown, callback: () => void): void;
}

const slowQuitSessions = new WeakSet<SessionHandlers>();

/**
 * smtp-server has no hook for QUIT; its session runs each command through a `handler_<VERB>`
 * method, so this one is wrapped to answer late, like a remote still busy with the session.
 */
function answerQuitSlowly(session: SessionHandlers, delayMs: () => number): void {
  if (slowQuitSessions.has(session)) return;
  slowQuitSessions.add(session);
  const quit = session.handler_QUIT.bind(session);
  session.handler_QUIT = (command, callback) => {
    const delay = delayMs();
    if (delay > 0) setTimeout(() => quit(command, callback), delay).unref();
    else quit(command, callback);
  };
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
    beforeRcptReply: async () => {},
    beforeDataReply: async () => {},
    sessions: [],
    quitDelayMs: 0,
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
        remote.beforeRcptReply(address.address).then(
          () => {
            const verdict = remote.verdict(address.address);
            if (!verdict) return callback();
            callback(Object.assign(new Error(verdict[1]), { responseCode: verdict[0] }));
          },
          (error: unknown) => callback(error as Error),
        );
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const message: ReceivedMessage = {
            server: host,
            mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            recipients: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks),
            secure: session.secure,
            ehloName: session.hostNameAppearsAs,
            sessionId: session.id,
          };
          remote.beforeDataReply(message).then(
            () => {
              remote.received.push(message);
              callback();
            },
            (error: unknown) => callback(error as Error),
          );
        });
      },
    });
    // smtp-server takes an accepted socket on the next turn of the event loop, adds its session to
    // `connections` and checks maxClients against that set; a session leaves it at QUIT or when the
    // socket goes. Sampling right after that turn sees what a remote's connection limit would.
    server.server.on('connection', () =>
      setImmediate(() => {
        remote.sessions.push({ server: host, open: server.connections.size });
        const newest = [...server.connections].at(-1) as SessionHandlers | undefined;
        if (newest) answerQuitSlowly(newest, () => remote.quitDelayMs);
      }),
    );
    remote.port = await listen(server, remote.port, host);
    servers.push(server);
  }
  remote.close = async () => {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  };
  return remote;
}
