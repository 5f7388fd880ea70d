/**
 * In-process caps on open connections, shared by the line-protocol gateways (IMAP, POP3): a pod
 * knows its own sockets, so these need no backend. Cross-pod counts go through the Limits port.
 */

/** Open connections (or sessions) per key on this process: per client IP, per account. */
export class ConnectionCounter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Takes a slot; false (and nothing taken) when the key is at its limit. */
  acquire(key: string): boolean {
    const count = this.counts.get(key) ?? 0;
    if (count >= this.limit) return false;
    this.counts.set(key, count + 1);
    return true;
  }

  release(key: string): void {
    const count = (this.counts.get(key) ?? 0) - 1;
    if (count <= 0) this.counts.delete(key);
    else this.counts.set(key, count);
  }
}

export type Admission =
  | { admitted: true; release(): void }
  /** The answer names the cap so that the refusal can say which one. */
  | { admitted: false; cap: 'total' | 'per-ip' };

/**
 * The door of a gateway: at most `maxTotal` sessions on this process over all its listeners, and at
 * most `maxPerIp` from one client address. Refused connections get a protocol answer from the caller
 * (a bare kernel-level refusal would look like a network fault and be retried at once).
 */
export class ConnectionGate {
  private open = 0;
  private readonly perIp: ConnectionCounter;

  constructor(private readonly options: { maxTotal: number; maxPerIp: number }) {
    this.perIp = new ConnectionCounter(options.maxPerIp);
  }

  /**
   * For the listening socket's own limit (server.maxConnections): above the gate's total, so that
   * refused clients still get their answer; beyond it the kernel-level cap drops them unanswered.
   */
  get socketCap(): number {
    return this.options.maxTotal + Math.max(100, Math.ceil(this.options.maxTotal / 10));
  }

  admit(ip: string): Admission {
    if (this.open >= this.options.maxTotal) return { admitted: false, cap: 'total' };
    if (!this.perIp.acquire(ip)) return { admitted: false, cap: 'per-ip' };
    this.open++;
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        this.open--;
        this.perIp.release(ip);
      },
    };
  }
}

/**
 * Octets of one kind held by all connections of a process (IMAP literals waiting for their command
 * to be complete): a take that would pass the total is refused, so memory stays bounded however many
 * sessions there are.
 */
export class ByteBudget {
  private used = 0;

  constructor(readonly total: number) {}

  take(octets: number): boolean {
    if (this.used + octets > this.total) return false;
    this.used += octets;
    return true;
  }

  give(octets: number): void {
    this.used = Math.max(0, this.used - octets);
  }
}
