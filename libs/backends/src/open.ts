import { createFsBlobStore, createS3BlobStore, type BlobStore } from '@correo/blobs';
import { createKafkaBus, createPostgresBus, type Bus, type BusLog } from '@correo/bus';
import type { Config } from '@correo/config';
import { createMemoryLimits, createRedisLimits, type Limits } from '@correo/limits';
import { createMemoryNotifier, createRedisNotifier, type Notifier } from '@correo/notify';
import { observeS3Request } from './metrics.js';

/**
 * The one place where configuration picks adapters, so every service's main.ts (and the
 * all-in-one) opens the same backends the same way. Each opener is separate: a service asks
 * only for the ports it uses.
 */
export function openBus(config: Config, databaseUrl: string | undefined, log?: BusLog): Bus {
  if (config.bus.adapter === 'kafka') {
    return createKafkaBus({
      brokers: config.bus.kafka.brokers,
      clientId: config.bus.kafka.clientId,
      defaultPartitions: config.bus.kafka.topicPartitions,
      replicationFactor: config.bus.kafka.replicationFactor,
      maxAttempts: config.bus.maxAttempts,
      connectionTimeoutMs: config.bus.kafka.connectionTimeoutMs,
      ...(log ? { log } : {}),
    });
  }
  if (!databaseUrl)
    throw new Error('BUS_ADAPTER=postgres needs a database (DATABASE_URL or the embedded one)');
  return createPostgresBus({
    connectionString: databaseUrl,
    maxAttempts: config.bus.maxAttempts,
    partitions: config.bus.kafka.topicPartitions,
    ...(log ? { log } : {}),
  });
}

export function openBlobs(config: Config): BlobStore {
  if (config.blobs.adapter === 'fs') return createFsBlobStore({ dir: config.blobs.dir });
  const s3 = config.blobs.s3;
  return createS3BlobStore({
    region: s3.region,
    bucket: s3.bucket,
    forcePathStyle: s3.forcePathStyle,
    socketTimeoutMs: s3.socketTimeoutMs,
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    ...(s3.accessKeyId ? { accessKeyId: s3.accessKeyId } : {}),
    ...(s3.secretAccessKey ? { secretAccessKey: s3.secretAccessKey } : {}),
    onRequest: observeS3Request,
  });
}

export function openNotifier(config: Config): Notifier {
  if (config.notify.adapter === 'memory') return createMemoryNotifier();
  return createRedisNotifier({ url: requireRedis(config, 'NOTIFY_ADAPTER') });
}

export function openLimits(config: Config): Limits {
  if (config.limits.adapter === 'memory') return createMemoryLimits();
  return createRedisLimits({
    url: requireRedis(config, 'LIMITS_ADAPTER'),
    keyPrefix: config.limits.keyPrefix,
  });
}

function requireRedis(config: Config, variable: string): string {
  if (!config.redis.url) throw new Error(`${variable}=redis needs REDIS_URL`);
  return config.redis.url;
}
