export * from './port.js';
export { createRedisLimits, redisCounterKey } from './redis-limits.js';
export type { RedisLimitsOptions } from './redis-limits.js';
export { createMemoryLimits, MemoryLimitsState } from './memory-limits.js';
export type { MemoryLimitsOptions } from './memory-limits.js';
export { ByteBudget, ConnectionCounter, ConnectionGate } from './connection-caps.js';
export type { Admission } from './connection-caps.js';
export { ConnectionLeases, DEFAULT_LEASE_TIMING, connectionLeaseMetrics } from './connection-leases.js';
export type {
  ConnectionLease,
  ConnectionLeasesOptions,
  LeaseAdmission,
  LeaseTiming,
} from './connection-leases.js';
export { LoginDeadline, TransferRateGuard } from './slow-clients.js';
export type { TransferRateOptions } from './slow-clients.js';
export { OutboundQuota } from './outbound-quota.js';
export type { OutboundQuotaOutcome, OutboundQuotaSettings, OutboundSender } from './outbound-quota.js';
