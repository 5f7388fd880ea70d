import { LineReader, errReply, okReply } from '@correo/pop3-proto';
import type { InputLine } from '@correo/pop3-proto';
import type { Framer, LineAction, LineConnectionIo, LineProtocol, LineSession } from '@correo/line-server';
import { Pop3Session } from './session.js';
import type { SessionDeps, SessionSettings } from './session.js';

/**
 * POP3 on the line server: its goodbye is `-ERR` ([SYS/TEMP] when the client should come back; an
 * autologout ends the session without UPDATE, RFC 1939 3), its framer pop3-proto's bounded LineReader.
 */
export function pop3Protocol(
  deps: SessionDeps,
  settings: Omit<SessionSettings, 'tlsAvailable'>,
): LineProtocol<InputLine> {
  return {
    name: 'pop3',
    open: (io) => new Pop3Connection(deps, settings, io),
    goodbye: (text, reason) =>
      errReply(text, reason === 'limit' || reason === 'shutdown' ? 'SYS/TEMP' : undefined),
  };
}

/** Whole lines, in order; nothing of an unfinished line survives STLS. */
class LineFramer implements Framer<InputLine> {
  private readonly reader: LineReader;
  private readonly lines: InputLine[] = [];

  constructor(maxLineLength: number) {
    this.reader = new LineReader(maxLineLength);
  }

  push(chunk: Buffer): void {
    this.lines.push(...this.reader.push(chunk));
  }

  next(): InputLine | null {
    return this.lines.shift() ?? null;
  }

  discard(): void {
    this.lines.length = 0;
    this.reader.reset();
  }
}

class Pop3Connection implements LineSession<InputLine> {
  readonly framer: LineFramer;
  private readonly session: Pop3Session;

  constructor(
    deps: SessionDeps,
    settings: Omit<SessionSettings, 'tlsAvailable'>,
    private readonly io: LineConnectionIo<InputLine>,
  ) {
    this.framer = new LineFramer(settings.maxLineLength);
    this.session = new Pop3Session(
      deps,
      { ...settings, tlsAvailable: io.startTlsAvailable },
      {
        write: (data) => io.write(data),
        disconnect: (reason) => {
          io.logger.warn({ reason }, 'POP3 session aborted');
          io.close();
        },
      },
      { remoteAddress: io.remoteAddress, secure: io.secure },
    );
  }

  get authenticated(): boolean {
    return this.session.loggedIn;
  }

  greeting(): string {
    return this.session.greeting();
  }

  async handle(line: InputLine): Promise<LineAction> {
    const action = await this.session.handle(line);
    // The line server reads nothing while a command runs and drops what was pipelined behind STLS.
    if (action === 'starttls') await this.io.write(okReply('Begin TLS negotiation'));
    return action;
  }

  tlsStarted(): void {
    this.session.tlsStarted();
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
