import type { Limits } from '@correo/limits';
import type { Logger } from '@correo/telemetry';
import { replies, type SmtpReply } from './smtp-reply.js';

export interface ConnectionGuardOptions {
  maxPerIp: number;
  /** 0: no rate limit. */
  perIpPerMinute: number;
  limits: Limits;
  logger: Logger;
}

/**
 * Concurrent connections per address are counted in this process (a pod knows its own sockets); the
 * connection rate per address is counted through the limits port, so it holds across every pod.
 */
export class ConnectionGuard {
  private readonly open = new Map<string, number>();
  private readonly counted = new Map<string, string>();

  constructor(private readonly options: ConnectionGuardOptions) {}

  /** null: admitted (and counted until release); otherwise the 421 to refuse with. */
  async admit(sessionId: string, ip: string): Promise<SmtpReply | null> {
    const current = this.open.get(ip) ?? 0;
    if (current >= this.options.maxPerIp) return replies.tooManyConnections();
    // Counted before any await so that a burst of connections cannot all pass the check at once.
    this.open.set(ip, current + 1);
    this.counted.set(sessionId, ip);
    if (this.options.perIpPerMinute > 0) {
      try {
        const recent = await this.options.limits.increment(`smtp:connections:${ip}`, 60_000);
        if (recent > this.options.perIpPerMinute) {
          this.release(sessionId);
          return replies.tooManyConnections();
        }
      } catch (error) {
        // An unreachable limits backend must not stop mail: the per-process limit still holds.
        this.options.logger.warn({ err: error, ip }, 'connection rate limit unavailable, admitting');
      }
    }
    return null;
  }

  /** True when the session had been admitted (and is now uncounted). */
  release(sessionId: string): boolean {
    const ip = this.counted.get(sessionId);
    if (ip === undefined) return false;
    this.counted.delete(sessionId);
    const remaining = (this.open.get(ip) ?? 1) - 1;
    if (remaining <= 0) this.open.delete(ip);
    else this.open.set(ip, remaining);
    return true;
  }
}
