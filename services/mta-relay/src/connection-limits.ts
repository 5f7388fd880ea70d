import { closeSession, isOpen, resetSession } from './smtp-session.js';
import type { OpenSession } from './smtp-session.js';

export interface Lease {
  /** A parked session to the same destination domain to use first, if one was waiting. */
  readonly reused: OpenSession | undefined;
  /** Gives the permit back; a healthy session passed here is parked for the next message. */
  release(keep?: OpenSession): Promise<void>;
}

interface DomainState {
  /** Sessions open or being opened to the domain, parked ones included. */
  permits: number;
  parked: { session: OpenSession; timer: NodeJS.Timeout }[];
  waiters: (() => void)[];
}

/**
 * Caps concurrent SMTP sessions per destination domain and messages per session, and keeps a
 * finished session parked for a moment so the next message to that domain skips the connect,
 * EHLO and STARTTLS round trips. Small and specific to this relay, so written here: nodemailer's
 * pool is per host and cannot follow our MX fallback.
 */
export class ConnectionLimits {
  private readonly domains = new Map<string, DomainState>();
  private closed = false;

  constructor(
    private readonly maxPerDomain: number,
    private readonly maxMessagesPerSession: number,
    private readonly idleMs: number,
  ) {}

  async acquire(domain: string): Promise<Lease> {
    const state = this.state(domain);
    for (;;) {
      const parked = state.parked.pop();
      if (parked) {
        clearTimeout(parked.timer);
        if (isOpen(parked.session)) return this.lease(domain, parked.session);
        await closeSession(parked.session);
        state.permits -= 1;
        continue;
      }
      if (state.permits < this.maxPerDomain) {
        state.permits += 1;
        return this.lease(domain, undefined);
      }
      await new Promise<void>((resolve) => state.waiters.push(resolve));
    }
  }

  /** Closes every parked session; sessions in use close when their lease is released. */
  async close(): Promise<void> {
    this.closed = true;
    const quits: Promise<void>[] = [];
    for (const state of this.domains.values()) {
      for (const { session, timer } of state.parked.splice(0)) {
        clearTimeout(timer);
        quits.push(closeSession(session).then(() => this.free(state)));
      }
    }
    await Promise.all(quits);
  }

  private state(domain: string): DomainState {
    let state = this.domains.get(domain);
    if (!state) {
      state = { permits: 0, parked: [], waiters: [] };
      this.domains.set(domain, state);
    }
    return state;
  }

  private lease(domain: string, reused: OpenSession | undefined): Lease {
    let released = false;
    return {
      reused,
      release: async (keep) => {
        if (released) return;
        released = true;
        const state = this.state(domain);
        if (keep && !this.closed && keep.sent < this.maxMessagesPerSession && (await resetSession(keep))) {
          const timer = setTimeout(() => {
            const index = state.parked.findIndex((p) => p.session === keep);
            if (index !== -1) state.parked.splice(index, 1);
            this.freeAfter(state, keep);
          }, this.idleMs);
          timer.unref();
          state.parked.push({ session: keep, timer });
          state.waiters.shift()?.();
          return;
        }
        if (keep) this.freeAfter(state, keep);
        else this.free(state);
      },
    };
  }

  /**
   * The permit comes back only once the session is over: freed at once, the next connection could
   * reach the server while it still holds this one (our QUIT in flight or unanswered), and a
   * server limiting sessions per client would count one more than we allow.
   */
  private freeAfter(state: DomainState, session: OpenSession): void {
    void closeSession(session).then(() => this.free(state));
  }

  private free(state: DomainState): void {
    state.permits -= 1;
    state.waiters.shift()?.();
  }
}
