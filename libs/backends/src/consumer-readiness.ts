import { describeStall, type Subscription } from '@correo/bus';
import type { ReadinessCheck } from '@correo/telemetry';

/**
 * A readiness check that fails while a consumer waits for a backend that is down, naming the
 * topic, partition, how long and the last error: /readyz then says why mail is not moving.
 */
export function stallCheck(subscriptions: Subscription[]): ReadinessCheck {
  return async () => {
    const stall = subscriptions.map((s) => s.stalled()).find((s) => s !== undefined);
    if (stall) throw new Error(describeStall(stall));
  };
}
