import { EventEmitter } from 'node:events';
import type { Notifier, Unsubscribe } from './port.js';

/** The in-process stand-in for Redis pub/sub: every notifier on one bus sees the others' publishes. */
export class MemoryBus {
  readonly emitter = new EventEmitter();

  constructor() {
    // Every IDLE session is a listener; there is no leak to warn about.
    this.emitter.setMaxListeners(0);
  }
}

/** Shared by every memory notifier in the process, as Redis is shared by every pod. */
const processBus = new MemoryBus();

export interface MemoryNotifierOptions {
  /** Defaults to the process-wide bus, so all-in-one services that each create a notifier still talk. */
  bus?: MemoryBus;
}

export function createMemoryNotifier(options: MemoryNotifierOptions = {}): Notifier {
  const { emitter } = options.bus ?? processBus;
  const mine = new Set<{ channel: string; handler: (payload: string) => void }>();

  return {
    kind: 'memory',

    async publish(channel, payload) {
      // Delivered on a later turn, as from Redis: a listener never runs inside the publisher's call.
      setImmediate(() => emitter.emit(channel, payload));
    },

    async subscribe(channel, listener) {
      const entry = {
        channel,
        handler: (payload: string) => {
          try {
            listener(payload);
          } catch {
            // Same as Redis: one faulty listener must not starve the others.
          }
        },
      };
      emitter.on(channel, entry.handler);
      mine.add(entry);
      const unsubscribe: Unsubscribe = async () => {
        if (mine.delete(entry)) emitter.off(channel, entry.handler);
      };
      return unsubscribe;
    },

    async ping() {},

    async close() {
      for (const entry of mine) emitter.off(entry.channel, entry.handler);
      mine.clear();
    },
  };
}
