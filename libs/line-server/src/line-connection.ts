import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { SecureContext } from 'node:tls';
import { LoginDeadline, TransferRateGuard } from '@correo/limits';
import type { Logger } from '@correo/telemetry';
import { looksLikeProxyHeader } from './proxy-header.js';
import { ConnectionClosedError } from './protocol.js';
import type { GoodbyeReason, LineConnectionIo, LineProtocol, LineSession } from './protocol.js';
import type { StreamLayer } from './stream-layer.js';

/** Timers and rates of one connection (the protocol's configuration). */
export interface ConnectionTimers {
  /** No octet from the client for this long: autologout (held during IMAP IDLE). */
  idleTimeoutMs: number;
  /**
   * From connect to login, however active the client is; again in full from a logout that keeps the
   * connection (ManageSieve UNAUTHENTICATE) to the next login.
   */
  preAuthTimeoutMs: number;
  /** Octets per second a bulk transfer (IMAP literal) must average; 0 or absent: no check. */
  minTransferRate?: number;
  transferRateWindowMs?: number;
}

export interface ConnectionContext {
  listener: string;
  remoteAddress: string;
  secure: boolean;
  /** For STARTTLS; undefined where it is not offered. */
  secureContext: SecureContext | undefined;
  /** The peer sent no PROXY header that was read: one arriving now is refused. */
  refuseProxyHeader: boolean;
  timers: ConnectionTimers;
  logger: Logger;
  /** See LineConnectionIo.admitUser: the server's per-user caps. */
  admitUser(user: string): Promise<boolean>;
  /** After a frame that leaves the session logged out: gives back the user's slots admitUser took. */
  releaseUser(): void;
}

/** After QUIT/LOGOUT the client has this long to take the last reply before the socket is cut. */
const CLOSE_GRACE_MS = 5000;

/**
 * One client connection of a line protocol: reads frames through the session's framer and hands them
 * to the session one at a time, in order (the socket is paused while one is answered, so pipelined
 * commands wait in the kernel buffer), writes with backpressure, runs the pre-auth, idle and
 * transfer-rate timers, upgrades with STARTTLS and says goodbye on drain.
 */
export class LineConnection<F> {
  private socket: Socket;
  private readonly session: LineSession<F>;
  private busy = false;
  private closed = false;
  private draining = false;
  private idleHeld = false;
  private readingHolds = 0;
  private firstOctets = true;
  private frameWaiter: { resolve: (frame: F) => void; reject: (error: Error) => void } | null = null;
  private readonly loginDeadline: LoginDeadline;
  /** The session's `authenticated` when last read: the pre-auth deadline follows its changes. */
  private loggedIn = false;
  private readonly transferRate: TransferRateGuard;
  private readonly logger: Logger;
  private readonly onData = (chunk: Buffer) => this.received(chunk);
  /** The session's layer (IMAP COMPRESS): wire octets pass through it both ways. */
  private layer: StreamLayer | null = null;
  /** The socket corked until the end of this tick (see coalesce). */
  private corked: Socket | null = null;
  /** Resolves when the connection is gone and its session released everything. */
  readonly finished: Promise<void>;
  private finish!: () => void;

  constructor(
    private readonly raw: Socket,
    private readonly protocol: LineProtocol<F>,
    private readonly context: ConnectionContext,
  ) {
    this.socket = raw;
    this.logger = context.logger;
    this.finished = new Promise((resolve) => (this.finish = resolve));
    const { timers } = context;
    this.loginDeadline = new LoginDeadline(timers.preAuthTimeoutMs, () =>
      this.goodbye('Autologout: no login in time', 'timeout'),
    );
    this.transferRate = new TransferRateGuard({
      minBytesPerSecond: timers.minTransferRate ?? 0,
      windowMs: timers.transferRateWindowMs ?? 30_000,
      onTooSlow: () => this.goodbye('Literal data arrives too slowly', 'timeout'),
    });
    this.session = protocol.open(this.io());
    this.watch(raw);
    raw.on('data', this.onData);
    this.write(this.session.greeting()).catch(() => {});
    this.updateReading();
  }

  private io(): LineConnectionIo<F> {
    const { listener, remoteAddress, secure, secureContext } = this.context;
    const layered = () => this.layer !== null;
    return {
      remoteAddress,
      listener,
      secure,
      startTlsAvailable: secureContext !== undefined && !secure,
      logger: this.logger,
      write: (...data) => this.write(...data),
      nextFrame: () => this.nextFrame(),
      holdIdleTimer: (held) => {
        this.idleHeld = held;
      },
      holdReading: (until) => this.holdReading(until),
      goodbye: (text, reason) => this.goodbye(text, reason),
      addLayer: (layer) => this.addLayer(layer),
      get layered() {
        return layered();
      },
      close: () => this.socket.destroy(),
      admitUser: (user) => this.context.admitUser(user),
    };
  }

  /**
   * Server shutdown: goodbye now when the session waits for the client (between commands, in IMAP
   * IDLE), else right after the command under way. The server cuts what is left after its grace.
   */
  drain(): Promise<void> {
    if (!this.closed && !this.draining) {
      this.draining = true;
      if (!this.busy || this.frameWaiter) this.goodbye('Server shutting down', 'shutdown');
    }
    return this.finished;
  }

  /** The protocol's last words, then the connection ends (once they are flushed). */
  private goodbye(text: string, reason: GoodbyeReason): void {
    const socket = this.socket;
    if (this.closed || socket.writableEnded) return;
    socket.off('data', this.onData);
    socket.once('finish', () => socket.destroy());
    const last = this.protocol.goodbye(text, reason);
    const layer = this.layer;
    if (layer) {
      layer.outbound.write(last);
      layer.flush(() => socket.end());
    } else socket.end(last);
    setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  private watch(socket: Socket): void {
    // Responses go out as several writes (untagged, then tagged): Nagle would hold the last one back
    // for the client's delayed ACK, some 40 ms per command.
    socket.setNoDelay(true);
    socket.setTimeout(this.context.timers.idleTimeoutMs);
    socket.on('timeout', () => {
      // A client waiting for the server's answer is not idle, nor is one held by the session (IDLE).
      if (this.socket !== socket || this.idleHeld || (this.busy && !this.frameWaiter)) return;
      this.goodbye('Autologout: idle for too long', 'timeout');
    });
    socket.on('error', (error) => this.logger.debug({ err: error }, 'connection error'));
    socket.on('close', () => void this.closedNow());
  }

  /** Reads while nobody is answering a frame (or a command waits for one) and no consumer is full. */
  private updateReading(): void {
    if (this.closed) return;
    const reading = this.readingHolds === 0 && (!this.busy || this.frameWaiter !== null);
    // A layer is paused with the socket: what it already took out of the socket waits in it.
    if (reading) {
      this.socket.resume();
      this.layer?.inbound.resume();
    } else {
      this.socket.pause();
      this.layer?.inbound.pause();
    }
  }

  private received(chunk: Buffer): void {
    if (this.firstOctets) {
      this.firstOctets = false;
      // A PROXY header from a peer not trusted to send one: someone spoofing their address.
      if (this.context.refuseProxyHeader && looksLikeProxyHeader(chunk)) {
        this.logger.info({}, 'PROXY header from an untrusted peer refused');
        this.goodbye('PROXY header not accepted from your address', 'protocol');
        return;
      }
    }
    this.transferRate.received(chunk.length);
    if (this.layer) this.layer.inbound.write(chunk);
    else this.framed(chunk);
  }

  /** Octets as the protocol reads them (after the layer, if one is on). */
  private framed(chunk: Buffer): void {
    this.session.framer.push(chunk);
    this.pump();
  }

  private addLayer(layer: StreamLayer): void {
    if (this.layer) throw new Error('a stream layer is on already');
    this.layer = layer;
    const broken = (error: Error) => {
      // Corrupt compressed input, say: nothing more can be read or written in step with the client.
      this.logger.info({ err: error }, 'stream layer failed, closing the connection');
      this.socket.destroy();
    };
    layer.inbound.on('error', broken);
    layer.outbound.on('error', broken);
    layer.inbound.on('data', (chunk: Buffer) => this.framed(chunk));
    layer.outbound.on('data', (chunk: Buffer) => {
      const socket = this.socket;
      if (socket.destroyed || socket.writableEnded) return;
      if (!socket.write(chunk)) {
        layer.outbound.pause();
        socket.once('drain', () => layer.outbound.resume());
      }
    });
    this.updateReading();
  }

  /** Hands buffered input on: to a command waiting for a frame, else the next frame to the session. */
  private pump(): void {
    const { framer } = this.session;
    while (!this.closed) {
      if (this.frameWaiter) {
        const frame = framer.next();
        if (frame === null) return;
        const waiter = this.frameWaiter;
        this.frameWaiter = null;
        this.updateReading();
        waiter.resolve(frame);
        return;
      }
      if (this.busy || this.draining) return;
      const frame = framer.next();
      // A bulk transfer in progress is held to the minimum rate while the server waits for it.
      this.transferRate.setActive(this.readingHolds === 0 && (framer.receivingBulk ?? false));
      if (frame === null) return;
      this.busy = true;
      this.transferRate.setActive(false);
      this.updateReading();
      void this.run(frame);
      return;
    }
  }

  private async run(frame: F): Promise<void> {
    try {
      const action = await this.session.handle(frame);
      if (action === 'close') {
        this.endGracefully();
        return;
      }
      if (action === 'starttls') await this.startTls();
    } catch (error) {
      if (!(error instanceof ConnectionClosedError)) {
        this.logger.warn({ err: error }, 'command failed, closing the connection');
      }
      this.socket.destroy();
      return;
    } finally {
      this.busy = false;
    }
    // Gone, or saying goodbye (a deadline passed, the session cut it off): nothing more is read.
    if (this.closed || this.socket.writableEnded) return;
    this.followLogin();
    if (this.draining) {
      this.goodbye('Server shutting down', 'shutdown');
      return;
    }
    this.updateReading();
    this.pump();
  }

  /**
   * The pre-auth deadline stops at login and runs again, in full, when the session logs out and stays
   * open (ManageSieve UNAUTHENTICATE): read from the session's state after each frame, so no command that
   * changes it can forget the timer, and a logged-out client never sits under the long idle timeout.
   * A logged-out session holds no user's slots either: a client that logs out and back in would else be
   * refused by its own old slot, and one left logged out would keep the account's slot from everyone.
   * Checked after every such frame, not only at the change: slots a frame took for a login that did not
   * happen go back too.
   */
  private followLogin(): void {
    const authenticated = this.session.authenticated;
    if (!authenticated) this.context.releaseUser();
    if (authenticated === this.loggedIn) return;
    this.loggedIn = authenticated;
    if (authenticated) this.loginDeadline.stop();
    else this.loginDeadline.restart();
  }

  private nextFrame(): Promise<F> {
    if (this.closed) return Promise.reject(new ConnectionClosedError());
    return new Promise((resolve, reject) => {
      this.frameWaiter = { resolve, reject };
      this.updateReading();
      this.pump();
    });
  }

  private holdReading(until: Promise<unknown>): void {
    this.readingHolds++;
    // Time the server does not read is not the client's slowness.
    this.transferRate.setActive(false);
    this.updateReading();
    const release = () => {
      this.readingHolds--;
      this.updateReading();
      if (!this.busy || this.frameWaiter) this.pump();
    };
    until.then(release, release);
  }

  private async startTls(): Promise<void> {
    const plain = this.socket;
    // Stop reading plaintext and drop what was pipelined behind STARTTLS (see Framer.discard).
    plain.off('data', this.onData);
    this.session.framer.discard();
    this.transferRate.setActive(false);
    plain.setTimeout(0);
    const secured = new TLSSocket(plain, { isServer: true, secureContext: this.context.secureContext! });
    this.socket = secured;
    this.watch(secured);
    await new Promise<void>((resolve, reject) => {
      secured.once('secure', resolve);
      secured.once('close', () => reject(new ConnectionClosedError()));
    });
    this.session.tlsStarted();
    secured.on('data', this.onData);
  }

  private write(...data: (Buffer | string)[]): Promise<void> {
    const socket = this.socket;
    if (this.closed || socket.destroyed || socket.writableEnded) {
      return Promise.reject(new ConnectionClosedError());
    }
    const bytes = data.length === 1 ? data[0]! : Buffer.concat(data.map((d) => Buffer.from(d)));
    if (this.layer) return this.writeLayered(this.layer, socket, bytes);
    this.coalesce(socket);
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

  /**
   * A command's responses are written in pieces (untagged, then tagged) within one turn of the event
   * loop: they leave as one send. Each send is a system call that wakes the client, and in the IMAP
   * benchmark's profile those calls were 15% of the main thread's busy time at two per command.
   * Corked until the current tick's promise continuations have run, so nothing waits for a later turn.
   */
  private coalesce(socket: Socket): void {
    if (this.corked === socket) return;
    this.corked = socket;
    socket.cork();
    process.nextTick(() => {
      this.corked = null;
      socket.uncork();
    });
  }

  /** Through the layer, flushed, and resolved once the socket took the result (backpressure). */
  private writeLayered(layer: StreamLayer, socket: Socket, bytes: Buffer | string): Promise<void> {
    return new Promise((resolve, reject) => {
      const gone = () => reject(new ConnectionClosedError());
      socket.once('close', gone);
      layer.outbound.write(bytes);
      layer.flush(() => {
        if (!socket.writableNeedDrain) {
          socket.off('close', gone);
          resolve();
          return;
        }
        socket.once('drain', () => {
          socket.off('close', gone);
          resolve();
        });
      });
    });
  }

  private endGracefully(): void {
    const layer = this.layer;
    if (layer) {
      const socket = this.socket;
      layer.flush(() => socket.end());
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
      return;
    }
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  private async closedNow(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.loginDeadline.stop();
    this.transferRate.stop();
    this.raw.destroy();
    this.layer?.inbound.destroy();
    this.layer?.outbound.destroy();
    this.frameWaiter?.reject(new ConnectionClosedError());
    this.frameWaiter = null;
    try {
      await this.session.close();
    } finally {
      this.finish();
    }
  }
}
