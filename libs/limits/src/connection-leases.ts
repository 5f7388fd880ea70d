import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { metrics } from '@correo/telemetry';
import type { Logger } from '@correo/telemetry';
import type { LeaseCap, LeaseRef, Limits } from './port.js';

export const connectionLeaseMetrics = {
  unchecked: metrics.counter<'protocol'>({
    name: 'correo_connection_caps_unchecked_total',
    help: 'Connections and logins admitted without their cross-pod caps because the limits backend did not answer in time (fail-open: the per-process caps still held).',
    labelNames: ['protocol'],
  }),
};

/** How long a lease lives without renewal, and how long an accept waits for the limits backend. */
export interface LeaseTiming {
  /** A killed pod's connections stop counting at most this long after its last heartbeat. */
  ttlMs: number;
  /** Past this the connection is admitted on the per-process caps alone (see docs/security.md). */
  timeoutMs: number;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = { ttlMs: 60_000, timeoutMs: 500 };

export interface ConnectionLeasesOptions {
  limits: Limits;
  /** Names the lease sets (`imap:ip:192.0.2.1`) and labels the metric: imap, pop3, smtp. */
  protocol: string;
  timing?: LeaseTiming;
  logger: Logger;
}

export type LeaseAdmission =
  | { admitted: true; lease: ConnectionLease }
  /** The cap at `index` of the request was reached on some pod. */
  | { admitted: false; index: number };

export interface ConnectionLease {
  /** Frees the slots (idempotent); when the backend is away the lease expires by itself. */
  release(): void;
}

/** Renewals per script call, so one call never carries every connection of a big pod. */
const RENEW_BATCH = 500;

/**
 * Connection caps that hold across pods: each admitted connection holds a lease in the limits port's
 * set for its key, renewed by one heartbeat per process (every ttl/3) while it lives, released when
 * it ends. A pod killed without releasing stops renewing, so its leases run out within one ttl.
 *
 * Fail-open: when the backend does not answer within timing.timeoutMs, the connection is admitted
 * (logged once per outage, counted in correo_connection_caps_unchecked_total) and its lease is still
 * kept: the next heartbeat writes it, so the counts are right again once the backend is back.
 */
export class ConnectionLeases {
  private readonly pod = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private sequence = 0;
  private readonly held = new Set<readonly LeaseRef[]>();
  private readonly timing: LeaseTiming;
  private readonly heartbeat: NodeJS.Timeout;
  private renewing = false;
  private unavailable = false;

  constructor(private readonly options: ConnectionLeasesOptions) {
    this.timing = options.timing ?? DEFAULT_LEASE_TIMING;
    this.heartbeat = setInterval(() => void this.renew(), Math.max(1, Math.floor(this.timing.ttlMs / 3)));
    // The heartbeat must never keep a finished process (or test) alive.
    this.heartbeat.unref();
  }

  /** Joins every set of `caps` (keys are the protocol's: `ip:<address>`), or says which one is full. */
  async acquire(caps: readonly LeaseCap[]): Promise<LeaseAdmission> {
    const holder = `${this.pod}:${++this.sequence}`;
    const scoped = caps.map(({ key, cap }) => ({ key: `${this.options.protocol}:${key}`, cap }));
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = await Promise.race([
        this.options.limits.acquireLease(scoped, holder, this.timing.ttlMs),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`limits backend gave no answer within ${this.timing.timeoutMs} ms`)),
            this.timing.timeoutMs,
          );
        }),
      ]);
      this.recovered();
      if (!answer.admitted) return answer;
    } catch (error) {
      this.failed(error, 'connection caps across pods unavailable: admitting on the per-process caps');
      connectionLeaseMetrics.unchecked.inc({ protocol: this.options.protocol });
    } finally {
      clearTimeout(timer);
    }
    return { admitted: true, lease: this.hold(scoped.map(({ key }) => ({ key, holder }))) };
  }

  /** Stops the heartbeat (the leases of connections still open then run out by themselves). */
  close(): void {
    clearInterval(this.heartbeat);
  }

  private hold(refs: readonly LeaseRef[]): ConnectionLease {
    this.held.add(refs);
    return {
      release: () => {
        if (!this.held.delete(refs)) return;
        this.options.limits
          .releaseLeases(refs)
          .catch((error: unknown) => this.failed(error, 'connection lease not released: it expires instead'));
      },
    };
  }

  private async renew(): Promise<void> {
    if (this.renewing || this.held.size === 0) return;
    this.renewing = true;
    try {
      const all = [...this.held].flat();
      for (let start = 0; start < all.length; start += RENEW_BATCH) {
        await this.options.limits.renewLeases(all.slice(start, start + RENEW_BATCH), this.timing.ttlMs);
      }
      this.recovered();
    } catch (error) {
      this.failed(error, 'connection leases not renewed: retrying at the next heartbeat');
    } finally {
      this.renewing = false;
    }
  }

  // Logged once per outage, not once per connection: an outage under load would flood the log.
  private failed(error: unknown, message: string): void {
    if (this.unavailable) return;
    this.unavailable = true;
    this.options.logger.warn({ err: error, protocol: this.options.protocol }, message);
  }

  private recovered(): void {
    if (!this.unavailable) return;
    this.unavailable = false;
    this.options.logger.info(
      { protocol: this.options.protocol },
      'connection caps across pods available again',
    );
  }
}
