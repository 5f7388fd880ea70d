import { logLevel } from 'kafkajs';
import type { logCreator } from 'kafkajs';
import type { BusLog } from '../log.js';

/**
 * kafkajs logs every error response at ERROR (topic already exists, coordinator still
 * loading, rebalancing) even when it retries or hands the error to the caller; those stay
 * quiet. So does its warning about bounded producer retries: publish must fail within seconds
 * when Kafka is down (smtp-ingress answers 451), and duplicates are absorbed downstream by
 * idempotency keys.
 */
function isNoise(namespace: string, message: string): boolean {
  return (
    (namespace === 'Connection' && message.startsWith('Response ')) ||
    message.startsWith('Limiting retries for the idempotent producer')
  );
}

/** Routes kafkajs's warnings and errors to the bus log instead of its own console logger. */
export function kafkaLogCreator(log: BusLog): logCreator {
  return () =>
    ({ namespace, level, log: entry }) => {
      if (level !== logLevel.ERROR && level !== logLevel.WARN) return;
      const { message, timestamp: _timestamp, logger: _logger, ...fields } = entry;
      if (isNoise(namespace, message)) return;
      log(level === logLevel.ERROR ? 'error' : 'warn', `kafkajs ${namespace}: ${message}`, fields);
    };
}
