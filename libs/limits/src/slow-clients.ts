/**
 * Timers against idle and slow clients, shared by the line-protocol gateways (IMAP, POP3, ManageSieve).
 * Both are absolute, unlike a socket idle timeout that every byte resets: a client sending one byte a
 * minute is not idle, but it must not hold a session (and its buffers) for hours.
 */

/**
 * Ends a connection that has not logged in within `ms` of connecting (or of logging out while it stays
 * open), however active it is.
 */
export class LoginDeadline {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ms: number,
    private readonly onExpired: () => void,
  ) {
    this.restart();
  }

  /**
   * Logged out without leaving (ManageSieve UNAUTHENTICATE): the client is back where it was at connect,
   * so it gets the full time again from now, not the idle timeout of a logged-in session.
   */
  restart(): void {
    this.stop();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onExpired();
    }, this.ms);
    this.timer.unref();
  }

  /** True until the client logged in (or the connection ended). */
  get pending(): boolean {
    return this.timer !== null;
  }

  /** Logged in, or gone: the deadline no longer applies. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

export interface TransferRateOptions {
  /** Octets per second a bulk transfer must average over each window; 0 turns the check off. */
  minBytesPerSecond: number;
  windowMs: number;
  onTooSlow: () => void;
}

/**
 * The slowloris check for bulk uploads (IMAP literals and APPEND, SMTP DATA): while the connection
 * says a transfer is under way, each full window must bring at least minBytesPerSecond x window
 * octets. Time the server spends not reading (its own work, backpressure) is never held against the
 * client: the connection marks the transfer inactive then, which also restarts the window.
 */
export class TransferRateGuard {
  private timer: NodeJS.Timeout | null = null;
  private bytes = 0;

  constructor(private readonly options: TransferRateOptions) {}

  received(octets: number): void {
    this.bytes += octets;
  }

  /** Whether a transfer is under way and the server is reading it. */
  setActive(active: boolean): void {
    if (active === (this.timer !== null) || this.options.minBytesPerSecond <= 0) return;
    if (!active) {
      this.stop();
      return;
    }
    this.bytes = 0;
    const needed = (this.options.minBytesPerSecond * this.options.windowMs) / 1000;
    this.timer = setInterval(() => {
      if (this.bytes < needed) {
        this.stop();
        this.options.onTooSlow();
      }
      this.bytes = 0;
    }, this.options.windowMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
