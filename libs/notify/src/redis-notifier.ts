import type { Notifier, Unsubscribe } from './port.js';
import { closeRedis, openRedis } from '@correo/redis';
import type { RedisConnectionOptions, RedisLink } from '@correo/redis';

type Listener = (payload: string) => void;

interface ChannelSubscription {
  listeners: Set<Listener>;
  /** Settles when Redis acknowledged SUBSCRIBE for this channel. */
  active: Promise<unknown>;
}

/**
 * Redis pub/sub. A connection in subscriber mode cannot publish, so there are two: the
 * publisher, and a subscriber opened on the first subscribe (publish-only pods never open it).
 * One Redis subscription per channel per pod, fanned out to local listeners.
 */
export interface RedisNotifierOptions extends RedisConnectionOptions {
  /**
   * Prepended to every channel name, so that deployments (or test runs) sharing one Redis never
   * hear each other's notifications. Default: none.
   */
  channelPrefix?: string;
}

export function createRedisNotifier(options: RedisNotifierOptions): Notifier {
  const prefix = options.channelPrefix ?? '';
  const { redis: publisher, unreachable } = openRedis(options, 'notify-pub');
  let subscriberLink: RedisLink | undefined;
  const channels = new Map<string, ChannelSubscription>();

  function subscriberConnection(): RedisLink {
    if (!subscriberLink) {
      subscriberLink = openRedis(options, 'notify-sub');
      subscriberLink.redis.on('message', (redisChannel: string, payload: string) => {
        const channel = redisChannel.slice(prefix.length);
        for (const listener of channels.get(channel)?.listeners ?? []) {
          try {
            listener(payload);
          } catch {
            // One faulty listener must not starve the others; notifications are only hints.
          }
        }
      });
    }
    return subscriberLink;
  }

  async function unsubscribeListener(channel: string, listener: Listener): Promise<void> {
    const entry = channels.get(channel);
    if (!entry || !entry.listeners.delete(listener) || entry.listeners.size > 0) return;
    channels.delete(channel);
    await subscriberLink?.redis.unsubscribe(prefix + channel);
  }

  return {
    kind: 'redis',

    async publish(channel, payload) {
      try {
        await publisher.publish(prefix + channel, payload);
      } catch (err) {
        throw unreachable(err);
      }
    },

    async subscribe(channel, listener) {
      const link = subscriberConnection();
      try {
        await link.whenReady();
      } catch (err) {
        throw link.unreachable(err);
      }
      let entry = channels.get(channel);
      if (!entry) {
        const active = link.redis.subscribe(prefix + channel);
        entry = { listeners: new Set(), active };
        channels.set(channel, entry);
        active.catch(() => {
          // A failed SUBSCRIBE must not leave a channel that later subscribers think is active.
          if (channels.get(channel)?.active === active) channels.delete(channel);
        });
      }
      const wrapped: Listener = (payload) => listener(payload);
      entry.listeners.add(wrapped);
      try {
        await entry.active;
      } catch (err) {
        entry.listeners.delete(wrapped);
        throw link.unreachable(err);
      }
      let done = false;
      const unsubscribe: Unsubscribe = async () => {
        if (done) return;
        done = true;
        await unsubscribeListener(channel, wrapped);
      };
      return unsubscribe;
    },

    async ping() {
      try {
        await publisher.ping();
      } catch (err) {
        throw unreachable(err);
      }
    },

    async close() {
      channels.clear();
      await Promise.all([
        closeRedis(publisher),
        subscriberLink ? closeRedis(subscriberLink.redis) : undefined,
      ]);
    },
  };
}
