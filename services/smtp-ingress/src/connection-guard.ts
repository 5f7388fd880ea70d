import { isLoopbackAddress } from '@correo/auth';
import { ConnectionCounter, ConnectionLeases } from '@correo/limits';
import type { ConnectionLease, LeaseTiming, Limits } from '@correo/limits';
import type { Logger } from '@correo/telemetry';
import { ingressMetrics } from './metrics.js';
import { clientWindows, countWithin } from './rate-windows.js';
import { replies, type SmtpReply } from './smtp-reply.js';

export interface ConnectionGuardOptions {
  maxPerIp: number;
  /** New connections per address and per block (/24, IPv6 /64), across pods; 0: no such limit. */
  perIpPerMinute: number;
  perIpPerHour?: number;
  perBlockPerMinute?: number;
  perBlockPerHour?: number;
  limits: Limits;
  leaseTiming?: LeaseTiming;
  logger: Logger;
}

/**
 * Concurrent connections per address: counted in this process first (no backend round trip for what
 * this pod alone can refuse), then through connection leases in the limits port, so the cap holds
 * across every ingress pod. The connection rates per address and per block (/24, IPv6 /64) are
 * counters of the limits port too (rate-windows.ts).
 */
export class ConnectionGuard {
  private readonly open: ConnectionCounter;
  private readonly leases: ConnectionLeases;
  private readonly counted = new Map<string, { ip: string; lease?: ConnectionLease }>();

  constructor(private readonly options: ConnectionGuardOptions) {
    this.open = new ConnectionCounter(options.maxPerIp);
    this.leases = new ConnectionLeases({
      limits: options.limits,
      protocol: 'smtp',
      timing: options.leaseTiming,
      logger: options.logger,
    });
  }

  /** null: admitted (and counted until release); otherwise the 421 to refuse with. */
  async admit(sessionId: string, ip: string): Promise<SmtpReply | null> {
    // Counted before any await so that a burst of connections cannot all pass the check at once.
    if (!this.open.acquire(ip)) {
      ingressMetrics.limitHits.inc({ limit: 'ip-open-connections' });
      return replies.tooManyConnections();
    }
    const entry: { ip: string; lease?: ConnectionLease } = { ip };
    this.counted.set(sessionId, entry);
    const { perIpPerMinute, perIpPerHour = 0, perBlockPerMinute = 0, perBlockPerHour = 0 } = this.options;
    // This host (local scripts, benchmarks) is held by the per-minute rate only, as before the
    // hourly and per-network limits existed (docs/spam.md).
    const remote = !isLoopbackAddress(ip);
    try {
      const hit = await countWithin(
        this.options.limits,
        clientWindows('connections', ip, {
          ipPerMinute: perIpPerMinute,
          ipPerHour: remote ? perIpPerHour : 0,
          blockPerMinute: remote ? perBlockPerMinute : 0,
          blockPerHour: remote ? perBlockPerHour : 0,
        }),
      );
      if (hit !== null) {
        this.release(sessionId);
        ingressMetrics.limitHits.inc({ limit: hit });
        return replies.connectionRateLimited(hit);
      }
    } catch (error) {
      // An unreachable limits backend must not stop mail: the per-process limit still holds.
      ingressMetrics.checkFailures.inc({ check: 'limits' });
      this.options.logger.warn({ err: error, ip }, 'connection rate limit unavailable, admitting');
    }
    // Fail-open inside (see ConnectionLeases): an unreachable backend leaves the per-process cap.
    const podsWide = await this.leases.acquire([{ key: `ip:${ip}`, cap: this.options.maxPerIp }]);
    if (!podsWide.admitted) {
      this.release(sessionId);
      ingressMetrics.limitHits.inc({ limit: 'ip-open-connections' });
      return replies.tooManyConnections();
    }
    // The session may have ended while the backend answered: then the lease goes at once.
    if (this.counted.get(sessionId) === entry) entry.lease = podsWide.lease;
    else podsWide.lease.release();
    return null;
  }

  /** True when the session had been admitted (and is now uncounted). */
  release(sessionId: string): boolean {
    const entry = this.counted.get(sessionId);
    if (entry === undefined) return false;
    this.counted.delete(sessionId);
    this.open.release(entry.ip);
    entry.lease?.release();
    return true;
  }

  /** Stops the lease heartbeat (on shutdown, after the sessions ended). */
  close(): void {
    this.leases.close();
  }
}
