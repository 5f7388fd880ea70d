import { metrics } from '@correo/telemetry';
import type { Stall } from './port.js';

const stalledGauge = metrics.gauge({
  name: 'correo_bus_consumer_stalled',
  help: 'Partitions of a consumer group whose delivery waits for a backend that is down (0 when flowing).',
  labelNames: ['group', 'topic'],
});
const backendRetries = metrics.counter({
  name: 'correo_bus_backend_retries_total',
  help: 'Handler attempts that failed because a backend was down; retried without limit, never dead-lettered.',
  labelNames: ['group', 'topic'],
});
const stalledSince = metrics.gauge({
  name: 'correo_bus_consumer_stalled_since_seconds',
  help: 'Unix time the oldest current stall of a consumer group began; 0 when it is flowing.',
  labelNames: ['group', 'topic'],
});

/**
 * Which partitions of one subscription are held up by a backend failure, for /readyz (what is
 * stuck and why) and for the metrics above (how long). Cleared as soon as the message goes through.
 */
export class StallTracker {
  private readonly stalls = new Map<number, Stall>();

  constructor(
    private readonly group: string,
    private readonly topic: string,
  ) {
    // 0 from the start: the retry panels show a flat line for a healthy group, not "No data".
    backendRetries.inc({ group, topic }, 0);
    this.publish();
  }

  backendFailed(partition: number, offset: string, error: string): void {
    const known = this.stalls.get(partition);
    this.stalls.set(partition, {
      topic: this.topic,
      group: this.group,
      partition,
      offset,
      error,
      since: known?.offset === offset ? known.since : new Date(),
      retries: known?.offset === offset ? known.retries + 1 : 1,
    });
    backendRetries.inc({ group: this.group, topic: this.topic });
    this.publish();
  }

  cleared(partition: number): void {
    if (this.stalls.delete(partition)) this.publish();
  }

  /** The subscription stopped: whatever it waited for is no longer its business. */
  reset(): void {
    this.stalls.clear();
    this.publish();
  }

  /** The longest-running stall, or undefined while every partition flows. */
  oldest(): Stall | undefined {
    let oldest: Stall | undefined;
    for (const stall of this.stalls.values()) if (!oldest || stall.since < oldest.since) oldest = stall;
    return oldest;
  }

  private publish(): void {
    const labels = { group: this.group, topic: this.topic };
    stalledGauge.set(labels, this.stalls.size);
    const oldest = this.oldest();
    stalledSince.set(labels, oldest ? oldest.since.getTime() / 1000 : 0);
  }
}

/** One line for /readyz and logs: what waits, since when, and on what. */
export function describeStall(stall: Stall, now = new Date()): string {
  const seconds = Math.round((now.getTime() - stall.since.getTime()) / 1000);
  return (
    `delivery of ${stall.topic} partition ${stall.partition} (group ${stall.group}) waits for a backend ` +
    `since ${seconds} s, ${stall.retries} retries, offset ${stall.offset}: ${stall.error}`
  );
}
