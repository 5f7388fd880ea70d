import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { SecureContext } from 'node:tls';
import { LineReader, errReply, okReply } from '@correo/pop3-proto';
import type { InputLine } from '@correo/pop3-proto';
import { LoginDeadline } from '@correo/limits';
import type { Logger } from '@correo/telemetry';
import { Pop3Session } from './session.js';
import type { SessionDeps, SessionSettings } from './session.js';

export class ConnectionClosedError extends Error {
  constructor() {
    super('connection closed');
    this.name = 'ConnectionClosedError';
  }
}

export interface ConnectionOptions {
  deps: SessionDeps;
  /** Whether STLS is available follows from the listener (not on 995), so the connection sets it. */
  settings: Omit<SessionSettings, 'tlsAvailable'>;
  /** For STLS; undefined means STLS is not offered. */
  secureContext: SecureContext | undefined;
  /** True on the implicit-TLS listener. */
  secure: boolean;
  idleTimeoutMs: number;
  /** Until login, however active the client is. */
  preAuthTimeoutMs: number;
  logger: Logger;
}

/** Lines read ahead of the one being answered (PIPELINING) before the socket stops being read. */
const MAX_QUEUED_LINES = 32;
/** After QUIT the client has this long to take the last reply before the socket is cut. */
const CLOSE_GRACE_MS = 5000;

/**
 * The I/O side of one POP3 connection: bounded line reading, one command answered at a time in
 * order (so pipelined commands are safe), output backpressure, the idle timer and the STLS upgrade.
 * The protocol itself is Pop3Session's.
 */
export class Pop3Connection {
  private socket: Socket;
  private readonly reader: LineReader;
  private readonly queue: InputLine[] = [];
  private readonly session: Pop3Session;
  private processing = false;
  private closed = false;
  private readonly loginDeadline: LoginDeadline;
  private readonly onData = (chunk: Buffer) => this.received(chunk);
  /** Resolves when the connection is gone and its session has released everything. */
  readonly finished: Promise<void>;
  private finish!: () => void;

  constructor(
    private readonly raw: Socket,
    private readonly options: ConnectionOptions,
  ) {
    this.socket = raw;
    this.finished = new Promise((resolve) => (this.finish = resolve));
    this.reader = new LineReader(options.settings.maxLineLength);
    this.session = new Pop3Session(
      options.deps,
      { ...options.settings, tlsAvailable: options.secureContext !== undefined },
      { write: (data) => this.write(data), disconnect: (reason) => this.abort(reason) },
      { remoteAddress: raw.remoteAddress ?? '', secure: options.secure },
    );
    this.loginDeadline = new LoginDeadline(options.preAuthTimeoutMs, () => {
      if (this.closed) return;
      this.socket.end(errReply('Autologout: no login in time'));
      this.socket.destroy();
    });
    this.watch(raw);
    raw.on('data', this.onData);
    this.write(this.session.greeting()).catch(() => {});
  }

  /** Server shutdown: the session ends without UPDATE, as for any dropped connection. */
  shutdown(): Promise<void> {
    if (!this.closed) {
      this.socket.write(errReply('Server shutting down', 'SYS/TEMP'));
      this.socket.destroy();
    }
    return this.finished;
  }

  private watch(socket: Socket): void {
    socket.setTimeout(this.options.idleTimeoutMs);
    socket.on('timeout', () => {
      if (this.socket !== socket) return;
      // RFC 1939 3: an autologout ends the session without entering UPDATE.
      socket.end(errReply('Autologout: idle for too long'));
      socket.destroy();
    });
    socket.on('error', (error) =>
      this.options.logger.debug({ error: error.message }, 'POP3 connection error'),
    );
    socket.on('close', () => void this.closedNow());
  }

  private received(chunk: Buffer): void {
    this.queue.push(...this.reader.push(chunk));
    if (this.queue.length > MAX_QUEUED_LINES) this.socket.pause();
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (!this.closed && this.queue.length > 0) {
        const action = await this.session.handle(this.queue.shift()!);
        if (action === 'close') {
          this.endGracefully();
          return;
        }
        if (action === 'starttls') await this.startTls();
        if (this.session.loggedIn) this.loginDeadline.stop();
        if (this.queue.length <= MAX_QUEUED_LINES / 2 && this.socket.isPaused()) this.socket.resume();
      }
    } catch (error) {
      if (!(error instanceof ConnectionClosedError)) {
        this.options.logger.warn({ error: (error as Error).message }, 'POP3 command failed, closing');
      }
      this.socket.destroy();
    } finally {
      this.processing = false;
    }
  }

  private async startTls(): Promise<void> {
    const plain = this.socket;
    // Nothing the client sent before the handshake may be read as a command after it (RFC 2595 4,
    // the STARTTLS command-injection attacks): stop reading plaintext and drop what was pipelined.
    plain.off('data', this.onData);
    this.queue.length = 0;
    this.reader.reset();
    await this.write(okReply('Begin TLS negotiation'));
    plain.setTimeout(0);
    const secured = new TLSSocket(plain, { isServer: true, secureContext: this.options.secureContext! });
    this.socket = secured;
    this.watch(secured);
    await new Promise<void>((resolve, reject) => {
      secured.once('secure', resolve);
      secured.once('close', () => reject(new ConnectionClosedError()));
    });
    this.session.tlsStarted();
    secured.on('data', this.onData);
  }

  private write(data: string | Buffer): Promise<void> {
    const socket = this.socket;
    if (this.closed || socket.destroyed) return Promise.reject(new ConnectionClosedError());
    if (socket.write(data)) return Promise.resolve();
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

  private abort(reason: string): void {
    this.options.logger.warn({ reason }, 'POP3 session aborted');
    this.socket.destroy();
  }

  private async closedNow(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.loginDeadline.stop();
    this.raw.destroy();
    this.queue.length = 0;
    try {
      await this.session.close();
    } finally {
      this.finish();
    }
  }
}
