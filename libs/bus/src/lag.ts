import { metrics } from '@correo/telemetry';

/** The lag of one partition: messages on it that the group has not committed yet. */
export interface PartitionLag {
  partition: number;
  lag: number;
}

type LagSource = () => Promise<PartitionLag[]>;

const sources = new Set<{ group: string; topic: string; read: LagSource }>();
/** A scrape must not wait on a broker that does not answer: that consumer's lag is left out. */
const READ_TIMEOUT_MS = 2_000;

// Read at each scrape from the broker (committed offsets against the partitions' ends), so the
// figure also grows while a consumer is stuck - which a value set by the consumer itself would not.
metrics.gauge({
  name: 'correo_bus_consumer_lag',
  help: 'Messages on a partition that the consumer group has not committed yet (bus lag).',
  labelNames: ['group', 'topic', 'partition'],
  async collect() {
    this.reset();
    await Promise.all(
      [...sources].map(async ({ group, topic, read }) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('lag read timed out')), READ_TIMEOUT_MS);
        });
        try {
          for (const { partition, lag } of await Promise.race([read(), timeout]))
            this.set({ group, topic, partition: String(partition) }, lag);
        } catch {
          // Unknown this time (broker down, group rebalancing): no sample rather than a stale one.
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  },
});

/** Reports the lag of a subscription until the returned function is called. */
export function reportLag(group: string, topic: string, read: LagSource): () => void {
  const source = { group, topic, read };
  sources.add(source);
  return () => void sources.delete(source);
}
