/**
 * The notify port: fan-out of mailbox changes to every pod (IMAP IDLE, POP3), best effort
 * and fast. Adapters: Redis pub/sub (ioredis) and in-process. Notifications are hints:
 * readers always re-read the store, so a lost notification delays, never corrupts.
 */
export type Unsubscribe = () => Promise<void>;

export interface Notifier {
  readonly kind: 'redis' | 'memory';
  publish(channel: string, payload: string): Promise<void>;
  /** Resolves once the subscription is active (a publish after this is seen). */
  subscribe(channel: string, listener: (payload: string) => void): Promise<Unsubscribe>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
