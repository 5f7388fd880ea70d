import { WireReader, byeResponse, type WireLine } from '@correo/managesieve-proto';
import type { Framer, LineAction, LineConnectionIo, LineProtocol, LineSession } from '@correo/line-server';
import { ManageSieveSession, type SessionDeps, type SessionSettings } from './session.js';

export interface ManageSieveLimits {
  maxLineLength: number;
  maxLiteralBytes: number;
}

/**
 * ManageSieve on the line server: its goodbye is BYE (TRYLATER when the client should come back),
 * its framer managesieve-proto's bounded WireReader.
 */
export function manageSieveProtocol(
  deps: SessionDeps,
  settings: Omit<SessionSettings, 'tlsAvailable'>,
  limits: ManageSieveLimits,
): LineProtocol<WireLine> {
  return {
    name: 'managesieve',
    open: (io) => new ManageSieveConnection(deps, settings, limits, io),
    goodbye: (text, reason) =>
      byeResponse(text, reason === 'limit' || reason === 'shutdown' ? { name: 'TRYLATER' } : undefined),
  };
}

/** Whole lines (literals included), in order; nothing received before STARTTLS survives it. */
class WireFramer implements Framer<WireLine> {
  private readonly reader: WireReader;

  constructor(limits: ManageSieveLimits) {
    this.reader = new WireReader({
      maxLineBytes: limits.maxLineLength,
      maxLiteralBytes: limits.maxLiteralBytes,
    });
  }

  get receivingBulk(): boolean {
    return this.reader.receivingBulk;
  }

  push(chunk: Buffer): void {
    this.reader.push(chunk);
  }

  next(): WireLine | null {
    return this.reader.next();
  }

  discard(): void {
    this.reader.discard();
  }
}

class ManageSieveConnection implements LineSession<WireLine> {
  readonly framer: WireFramer;
  private readonly session: ManageSieveSession;

  constructor(
    deps: SessionDeps,
    settings: Omit<SessionSettings, 'tlsAvailable'>,
    limits: ManageSieveLimits,
    private readonly io: LineConnectionIo<WireLine>,
  ) {
    this.framer = new WireFramer(limits);
    this.session = new ManageSieveSession(
      deps,
      { ...settings, tlsAvailable: io.startTlsAvailable },
      { write: (data) => io.write(data), admitUser: (accountId) => io.admitUser(accountId) },
      { remoteAddress: io.remoteAddress, secure: io.secure },
    );
  }

  get authenticated(): boolean {
    return this.session.authenticated;
  }

  greeting(): Buffer {
    return this.session.greeting();
  }

  handle(line: WireLine): Promise<LineAction> {
    return this.session.handle(line);
  }

  tlsStarted(): void {
    // RFC 5804 2.2: the capabilities again, unasked; the client waits for them before its next command.
    this.io.write(this.session.tlsStarted()).catch(() => {});
  }

  async close(): Promise<void> {
    this.session.close();
  }
}
