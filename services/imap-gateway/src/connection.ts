import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { SecureContext } from 'node:tls';
import { CommandReceiver, continuation, errorResponse, untaggedStatus } from '@correo/imap-proto';
import type { LiteralSink, ReceiverOptions } from '@correo/imap-proto';
import { LoginDeadline, TransferRateGuard } from '@correo/limits';
import type { Logger } from '@correo/telemetry';
import type { GatewayServices, SessionIo } from './command-context.js';
import { startUpload } from './message-facts.js';
import type { StreamedUpload } from './message-facts.js';
import { ImapSession } from './session.js';

export class ConnectionClosedError extends Error {
  constructor() {
    super('connection closed');
    this.name = 'ConnectionClosedError';
  }
}

export interface ConnectionOptions {
  services: GatewayServices;
  /** For STARTTLS; undefined on the implicit-TLS listener. */
  secureContext: SecureContext | undefined;
  /** True on the implicit-TLS listener. */
  secure: boolean;
  logger: Logger;
}

/** After LOGOUT the client has this long to read the last response before the socket is cut. */
const CLOSE_GRACE_MS = 5000;

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

/**
 * The I/O side of one IMAP connection: framing through imap-proto's CommandReceiver (literals and
 * their "+" continuations), one command at a time in order (the socket is paused while one runs, so
 * pipelined commands wait in the kernel buffer), raw lines for AUTHENTICATE and IDLE, output
 * backpressure, the autologout timer and the STARTTLS upgrade. Protocol behaviour is ImapSession's.
 */
export class ImapConnection {
  private socket: Socket;
  private receiver: CommandReceiver;
  private readonly session: ImapSession;
  private busy = false;
  private closed = false;
  private idling = false;
  private lineWaiter: { resolve: (line: Buffer) => void; reject: (error: Error) => void } | null = null;
  private readonly loginDeadline: LoginDeadline;
  /** Literal octets taken from the gateway's budget: for the command being received, and the one running. */
  private literalsReceiving = 0;
  private literalsRunning = 0;
  /** Streamed APPEND literals of the command being received, by their sink. */
  private readonly uploads = new Map<LiteralSink, StreamedUpload>();
  private readonly streamLiteral = (firstLine: Buffer, size: number): LiteralSink | null => {
    if (size < STREAM_LITERALS_FROM) return null;
    if (firstLine.toString('latin1').split(' ', 3)[1]?.toUpperCase() !== 'APPEND') return null;
    const { config, blobs } = this.options.services;
    const { sink, upload } = startUpload(blobs, size, config.appendLimit, (drained) => {
      this.socket.pause();
      void drained.then(() => {
        if (!this.busy && !this.closed && !this.lineWaiter) this.socket.resume();
      });
    });
    this.uploads.set(sink, upload);
    return sink;
  };
  private readonly admitLiteral = (size: number): boolean => {
    if (!this.options.services.literalBudget.take(size)) return false;
    this.literalsReceiving += size;
    return true;
  };
  private readonly transferRate: TransferRateGuard;
  private readonly onData = (chunk: Buffer) => {
    this.transferRate.received(chunk.length);
    this.receiver.push(chunk);
    this.drain();
  };
  /** Resolves when the connection is gone and its session released everything. */
  readonly finished: Promise<void>;
  private finish!: () => void;

  constructor(
    private readonly raw: Socket,
    private readonly options: ConnectionOptions,
  ) {
    this.socket = raw;
    this.finished = new Promise((resolve) => (this.finish = resolve));
    const { config } = options.services;
    this.loginDeadline = new LoginDeadline(config.preAuthTimeoutMs, () =>
      this.cutOff('Autologout: no login in time'),
    );
    this.transferRate = new TransferRateGuard({
      minBytesPerSecond: config.minTransferRate,
      windowMs: config.transferRateWindowMs,
      onTooSlow: () => this.cutOff('Literal data arrives too slowly'),
    });
    this.receiver = this.newReceiver();
    const io: SessionIo = {
      write: (...data) => this.write(...data),
      readLine: () => this.readLine(),
      startTls: () => this.startTls(),
      setIdling: (idling) => {
        this.idling = idling;
      },
      close: () => this.socket.destroy(),
    };
    this.session = new ImapSession(options.services, io, raw.remoteAddress ?? '', options.secure);
    this.watch(raw);
    raw.on('data', this.onData);
    this.write(this.session.greeting()).catch(() => {});
  }

  private newReceiver(): CommandReceiver {
    return new CommandReceiver(this.receiverLimits());
  }

  private receiverLimits(): ReceiverOptions {
    const { config } = this.options.services;
    if (this.loginDeadline.pending) {
      return {
        maxLineLength: Math.min(config.maxLineLength, PRE_AUTH_LINE_LIMIT),
        maxLiteralSize: PRE_AUTH_LITERAL_LIMIT,
        maxNonSyncLiteral: PRE_AUTH_LITERAL_LIMIT,
        maxCommandSize: PRE_AUTH_COMMAND_LIMIT,
        admitLiteral: this.admitLiteral,
      };
    }
    return {
      maxLineLength: config.maxLineLength,
      maxLiteralSize: config.appendLimit,
      maxCommandSize: config.appendLimit + 1024 * 1024,
      admitLiteral: this.admitLiteral,
      streamLiteral: this.streamLiteral,
    };
  }

  private releaseLiterals(which: 'receiving' | 'running'): void {
    const budget = this.options.services.literalBudget;
    if (which === 'receiving') {
      budget.give(this.literalsReceiving);
      this.literalsReceiving = 0;
    } else {
      budget.give(this.literalsRunning);
      this.literalsRunning = 0;
    }
  }

  /** BYE with a reason, then the connection ends (pre-auth deadline, slow literal). */
  private cutOff(reason: string): void {
    if (this.closed) return;
    this.socket.end(untaggedStatus('BYE', reason));
    this.socket.destroy();
  }

  /** Server shutdown: BYE, then the connection ends. */
  shutdown(): Promise<void> {
    if (!this.closed) {
      this.socket.write(untaggedStatus('BYE', 'Server shutting down'));
      this.socket.destroy();
    }
    return this.finished;
  }

  private watch(socket: Socket): void {
    // Responses go out as several writes (untagged, then tagged): Nagle would hold the last one
    // back for the client's delayed ACK, some 40 ms per command.
    socket.setNoDelay(true);
    socket.setTimeout(this.options.services.config.autologoutMs);
    socket.on('timeout', () => {
      if (this.socket !== socket || this.idling) return;
      socket.end(untaggedStatus('BYE', 'Autologout: idle for too long'));
      socket.destroy();
    });
    socket.on('error', (error) =>
      this.options.logger.debug({ error: error.message }, 'IMAP connection error'),
    );
    socket.on('close', () => void this.closedNow());
  }

  /** Hands buffered input on: a raw line to a waiting command, else the next framed command. */
  private drain(): void {
    while (!this.closed) {
      if (this.lineWaiter) {
        const event = this.receiver.next();
        if (!event) return;
        if (event.type === 'line') {
          const waiter = this.lineWaiter;
          this.lineWaiter = null;
          this.socket.pause();
          waiter.resolve(event.bytes);
        }
        continue;
      }
      if (this.busy) return;
      const event = this.receiver.next();
      // A literal in progress is held to the minimum rate while the server waits for it.
      this.transferRate.setActive(this.receiver.inLiteral);
      if (!event) return;
      if (event.type === 'continue') {
        this.write(continuation('Ready for literal data')).catch(() => {});
      } else if (event.type === 'error') {
        // The refused command's literals are dropped with it.
        this.releaseLiterals('receiving');
        if (this.loginDeadline.pending && this.receiver.skippingLiteral) {
          // Before login the refused {n+} octets are not read at all: BAD, then the connection ends.
          this.write(errorResponse(event.error)).catch(() => {});
          this.cutOff('Literal too big before login');
          return;
        }
        this.write(errorResponse(event.error)).catch(() => {});
      } else if (event.type === 'command') {
        this.literalsRunning += this.literalsReceiving;
        this.literalsReceiving = 0;
        this.busy = true;
        this.transferRate.setActive(false);
        this.socket.pause();
        const uploads = event.streamed.map((sink) => this.uploads.get(sink)!);
        for (const sink of event.streamed) this.uploads.delete(sink);
        void this.run(event.bytes, uploads);
        return;
      }
    }
  }

  private async run(bytes: Buffer, uploads: StreamedUpload[]): Promise<void> {
    try {
      const then = await this.session.handle(bytes, uploads);
      if (then === 'close') {
        this.endGracefully();
        return;
      }
      if (then === 'starttls') await this.startTls();
    } catch (error) {
      if (!(error instanceof ConnectionClosedError)) {
        this.options.logger.warn({ err: error }, 'IMAP command failed, closing the connection');
      }
      this.socket.destroy();
      return;
    } finally {
      this.busy = false;
      this.releaseLiterals('running');
    }
    if (this.closed) return;
    if (this.loginDeadline.pending && this.session.state !== 'not-authenticated') {
      this.loginDeadline.stop();
      this.receiver.setLimits(this.receiverLimits());
    }
    this.socket.resume();
    this.drain();
  }

  private readLine(): Promise<Buffer> {
    if (this.closed) return Promise.reject(new ConnectionClosedError());
    return new Promise((resolve, reject) => {
      this.lineWaiter = { resolve, reject };
      this.receiver.expectLine();
      this.socket.resume();
      this.drain();
    });
  }

  private async startTls(): Promise<void> {
    const plain = this.socket;
    // Nothing sent before the handshake may be read as a command after it (RFC 9051 6.2.1, the
    // STARTTLS command-injection attacks): stop reading plaintext and drop what was pipelined.
    plain.off('data', this.onData);
    this.releaseLiterals('receiving');
    this.receiver = this.newReceiver();
    plain.setTimeout(0);
    const secured = new TLSSocket(plain, { isServer: true, secureContext: this.options.secureContext! });
    this.socket = secured;
    this.watch(secured);
    await new Promise<void>((resolve, reject) => {
      secured.once('secure', resolve);
      secured.once('close', () => reject(new ConnectionClosedError()));
    });
    this.session.tlsActive = true;
    secured.on('data', this.onData);
  }

  private write(...data: Buffer[]): Promise<void> {
    const socket = this.socket;
    if (this.closed || socket.destroyed) return Promise.reject(new ConnectionClosedError());
    const bytes = data.length === 1 ? data[0]! : Buffer.concat(data);
    if (socket.write(bytes)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const drained = () => {
        socket.off('close', gone);
        resolve();
      };
      const gone = () => {
        socket.off('drain', drained);
        reject(new ConnectionClosedError());
      };
      socket.once('drain', drained);
      socket.once('close', gone);
    });
  }

  private endGracefully(): void {
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  private async closedNow(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.loginDeadline.stop();
    this.transferRate.stop();
    this.releaseLiterals('receiving');
    this.releaseLiterals('running');
    this.receiver.abandon();
    this.uploads.clear();
    this.raw.destroy();
    this.lineWaiter?.reject(new ConnectionClosedError());
    this.lineWaiter = null;
    try {
      await this.session.close();
    } finally {
      this.finish();
    }
  }
}
