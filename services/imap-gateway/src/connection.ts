import { CommandReceiver, continuation, errorResponse, untaggedStatus } from '@correo/imap-proto';
import type { LiteralSink, ReceiverEvent, ReceiverOptions } from '@correo/imap-proto';
import { deflateLayer } from '@correo/line-server';
import type { Framer, LineAction, LineConnectionIo, LineProtocol, LineSession } from '@correo/line-server';
import type { GatewayServices, SessionIo } from './command-context.js';
import { startUpload } from './message-facts.js';
import type { StreamedUpload } from './message-facts.js';
import { ImapSession } from './session.js';

/**
 * Before login a client is a stranger: literals up to 4 KiB (LITERAL-, RFC 7888: a larger {n+} is
 * refused and the connection closed, since its octets follow anyway), lines up to 8 KiB (a LOGIN or
 * an AUTHENTICATE PLAIN response fits many times), commands up to 16 KiB. After login, the limits
 * of the configuration (APPENDLIMIT) apply.
 */
export const PRE_AUTH_LITERAL_LIMIT = 4096;
const PRE_AUTH_LINE_LIMIT = 8192;
const PRE_AUTH_COMMAND_LIMIT = 16 * 1024;

/**
 * After login, APPEND literals larger than this go straight to the blob store as they arrive
 * (startUpload); smaller ones are held with their command, within IMAP_LITERAL_MEMORY.
 */
export const STREAM_LITERALS_FROM = 64 * 1024;

/** IMAP on the line server: its goodbye is `* BYE`, its framer imap-proto's CommandReceiver. */
export function imapProtocol(services: GatewayServices): LineProtocol<ReceiverEvent> {
  return {
    name: 'imap',
    open: (io) => new ImapConnection(services, io),
    goodbye: (text, reason) => untaggedStatus('BYE', text, reason === 'limit' ? { code: 'LIMIT' } : null),
  };
}

/**
 * The IMAP side of one connection: framing through CommandReceiver (literals and their "+"
 * continuations, tighter limits before login), the gateway-wide literal memory budget, APPEND
 * literals streamed to the blob store, raw lines for AUTHENTICATE and IDLE. Protocol behaviour is
 * ImapSession's; the socket is the line server's.
 */
class ImapConnection implements LineSession<ReceiverEvent>, Framer<ReceiverEvent> {
  readonly framer = this;
  private receiver: CommandReceiver;
  private readonly session: ImapSession;
  /** Literal octets taken from the gateway's budget: for the command being received, and the one running. */
  private literalsReceiving = 0;
  private literalsRunning = 0;
  /** Streamed APPEND literals of the command being received, by their sink. */
  private readonly uploads = new Map<LiteralSink, StreamedUpload>();

  constructor(
    private readonly services: GatewayServices,
    private readonly io: LineConnectionIo<ReceiverEvent>,
  ) {
    const sessionIo: SessionIo = {
      write: (...data) => io.write(...data),
      readLine: () => this.readLine(),
      setIdling: (idling) => io.holdIdleTimer(idling),
      close: () => io.close(),
      admitUser: (accountId) => io.admitUser(accountId),
    };
    this.session = new ImapSession(services, sessionIo, io.remoteAddress, io.secure);
    this.receiver = new CommandReceiver(this.receiverLimits());
  }

  get authenticated(): boolean {
    return this.session.state !== 'not-authenticated';
  }

  greeting(): Buffer {
    return this.session.greeting();
  }

  tlsStarted(): void {
    this.session.tlsActive = true;
  }

  push(chunk: Buffer): void {
    this.receiver.push(chunk);
  }

  next(): ReceiverEvent | null {
    return this.receiver.next();
  }

  get receivingBulk(): boolean {
    return this.receiver.inLiteral;
  }

  discard(): void {
    this.releaseLiterals('receiving');
    this.receiver = new CommandReceiver(this.receiverLimits());
  }

  async handle(event: ReceiverEvent): Promise<LineAction> {
    if (event.type === 'continue') {
      await this.io.write(continuation('Ready for literal data'));
    } else if (event.type === 'error') {
      // The refused command's literals are dropped with it.
      this.releaseLiterals('receiving');
      await this.io.write(errorResponse(event.error));
      // Before login the refused {n+} octets are not read at all: BAD, then the connection ends.
      if (!this.authenticated && this.receiver.skippingLiteral) {
        this.io.goodbye('Literal too big before login', 'protocol');
      }
    } else if (event.type === 'command') {
      return this.run(event.bytes, event.streamed);
    }
    return 'continue';
  }

  private async run(bytes: Buffer, streamed: LiteralSink[]): Promise<LineAction> {
    this.literalsRunning += this.literalsReceiving;
    this.literalsReceiving = 0;
    const uploads = streamed.map((sink) => this.uploads.get(sink)!);
    for (const sink of streamed) this.uploads.delete(sink);
    const wasAuthenticated = this.authenticated;
    try {
      const then = await this.session.handle(bytes, uploads);
      if (!wasAuthenticated && this.authenticated) this.receiver.setLimits(this.receiverLimits());
      if (then === 'compress') {
        // The tagged OK is written: everything after it, both ways, is deflated (RFC 4978 3).
        this.io.addLayer(deflateLayer());
        this.session.compressionActive = true;
        return 'continue';
      }
      return then ?? 'continue';
    } finally {
      this.releaseLiterals('running');
    }
  }

  private async readLine(): Promise<Buffer> {
    this.receiver.expectLine();
    for (;;) {
      const event = await this.io.nextFrame();
      if (event.type === 'line') return event.bytes;
    }
  }

  private receiverLimits(): ReceiverOptions {
    const { config } = this.services;
    const admitLiteral = (size: number) => this.admitLiteral(size);
    if (!this.authenticated) {
      return {
        maxLineLength: Math.min(config.maxLineLength, PRE_AUTH_LINE_LIMIT),
        maxLiteralSize: PRE_AUTH_LITERAL_LIMIT,
        maxNonSyncLiteral: PRE_AUTH_LITERAL_LIMIT,
        maxCommandSize: PRE_AUTH_COMMAND_LIMIT,
        admitLiteral,
      };
    }
    return {
      maxLineLength: config.maxLineLength,
      maxLiteralSize: config.appendLimit,
      maxCommandSize: config.appendLimit + 1024 * 1024,
      admitLiteral,
      streamLiteral: (firstLine, size) => this.streamLiteral(firstLine, size),
    };
  }

  private admitLiteral(size: number): boolean {
    if (!this.services.literalBudget.take(size)) return false;
    this.literalsReceiving += size;
    return true;
  }

  private streamLiteral(firstLine: Buffer, size: number): LiteralSink | null {
    if (size < STREAM_LITERALS_FROM) return null;
    if (firstLine.toString('latin1').split(' ', 3)[1]?.toUpperCase() !== 'APPEND') return null;
    const { config, blobs } = this.services;
    const { sink, upload } = startUpload(blobs, size, config.appendLimit, (drained) =>
      this.io.holdReading(drained),
    );
    this.uploads.set(sink, upload);
    return sink;
  }

  private releaseLiterals(which: 'receiving' | 'running'): void {
    const budget = this.services.literalBudget;
    if (which === 'receiving') {
      budget.give(this.literalsReceiving);
      this.literalsReceiving = 0;
    } else {
      budget.give(this.literalsRunning);
      this.literalsRunning = 0;
    }
  }

  async close(): Promise<void> {
    this.releaseLiterals('receiving');
    this.releaseLiterals('running');
    this.receiver.abandon();
    this.uploads.clear();
    await this.session.close();
  }
}
