import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { createLogger } from '@correo/telemetry';
import { CounterWatch, eventually, privateRedis, testBackends, uniqueName } from '@correo/testkit';
import {
  ConnectionLeases,
  connectionLeaseMetrics,
  createMemoryLimits,
  createRedisLimits,
  MemoryLimitsState,
} from '../src/index.js';
import type { Limits, LeaseTiming } from '../src/index.js';

const logger = createLogger('connection-leases-test', 'silent');
/**
 * Short, so that a stopped heartbeat shows within the test (waited on, never slept out); renewals
 * every third of it, a margin no loaded machine's stall reaches.
 */
const SHORT: LeaseTiming = { ttlMs: 1000, timeoutMs: 2000 };

const kinds: Record<string, () => () => Limits> = {
  memory: () => {
    const state = new MemoryLimitsState();
    return () => createMemoryLimits({ state });
  },
  redis: () => {
    // One prefix per suite: both "pods" must share it to share their leases.
    const keyPrefix = `${uniqueName('leases')}:`;
    return () => createRedisLimits({ url: testBackends().redisUrl, keyPrefix });
  },
};

for (const [kind, backend] of Object.entries(kinds)) {
  describe(`connection leases [${kind}]`, () => {
    const opened: Array<{ close(): unknown }> = [];
    const newLimits = backend();
    /** One pod: its own limits client and its own heartbeat. */
    function pod(protocol = 'imap', timing: LeaseTiming = SHORT) {
      const limits = newLimits();
      const leases = new ConnectionLeases({ limits, protocol, timing, logger });
      opened.push(leases, limits);
      return { limits, leases };
    }
    after(async () => {
      for (const part of opened) await part.close();
    });

    test('the cap holds across pods, and a release frees the slot for the other pod', async () => {
      const a = pod();
      const b = pod();
      const key = `ip:${uniqueName('client')}`;
      const first = await a.leases.acquire([{ key, cap: 2 }]);
      const second = await b.leases.acquire([{ key, cap: 2 }]);
      assert.ok(first.admitted && second.admitted);
      assert.deepEqual(await a.leases.acquire([{ key, cap: 2 }]), { admitted: false, index: 0 });
      assert.deepEqual(await b.leases.acquire([{ key, cap: 2 }]), { admitted: false, index: 0 });
      first.lease.release();
      first.lease.release();
      await eventually(
        'the released slot to be free',
        async () => (await b.limits.countLeases(`imap:${key}`)) === 1,
      );
      assert.equal((await b.leases.acquire([{ key, cap: 2 }])).admitted, true);
    });

    test('the protocol names the sets: an SMTP lease does not count against IMAP', async () => {
      const smtp = pod('smtp');
      const imap = pod('imap');
      const key = `ip:${uniqueName('client')}`;
      assert.equal((await smtp.leases.acquire([{ key, cap: 1 }])).admitted, true);
      assert.equal((await imap.leases.acquire([{ key, cap: 1 }])).admitted, true);
    });

    test('a live connection keeps its lease past the ttl; a killed pod’s leases run out and free the slot', async () => {
      const killed = pod();
      const survivor = pod();
      const key = `ip:${uniqueName('client')}`;
      assert.equal((await killed.leases.acquire([{ key, cap: 1 }])).admitted, true);
      // The clock: a lease of the same ttl taken after it and never renewed. Once that one has run
      // out so would the pod's have, and only the heartbeat can have kept it.
      const control = `ip:${uniqueName('control')}`;
      await survivor.limits.acquireLease([{ key: control, cap: 1 }], 'no-heartbeat', SHORT.ttlMs);
      await eventually('the unrenewed control lease to run out', async () => {
        return (await survivor.limits.countLeases(control)) === 0;
      });
      assert.deepEqual(await survivor.leases.acquire([{ key, cap: 1 }]), { admitted: false, index: 0 });
      // SIGKILL as far as the leases can tell: the heartbeat stops and nothing is released.
      killed.leases.close();
      await eventually('the killed pod’s lease to expire', async () => {
        return (await survivor.leases.acquire([{ key, cap: 1 }])).admitted;
      });
    });
  });
}

describe('connection leases when Redis is away (fail-open)', () => {
  const opened: Array<{ close(): unknown }> = [];
  after(async () => {
    for (const part of opened) await part.close();
  });
  function leasesOn(url: string, timing: LeaseTiming, keyPrefix = `${uniqueName('leases')}:`) {
    const limits = createRedisLimits({ url, keyPrefix, timeoutMs: 1000 });
    const leases = new ConnectionLeases({ limits, protocol: 'pop3', timing, logger });
    opened.push(leases, limits);
    return { limits, leases };
  }

  test('an unreachable Redis: admitted on the local caps alone, counted as unchecked', async () => {
    const watch = await CounterWatch.start(connectionLeaseMetrics.unchecked, 'protocol');
    // Port 1 on loopback refuses at once.
    const { leases } = leasesOn('redis://127.0.0.1:1', { ttlMs: 60_000, timeoutMs: 2000 });
    const admission = await leases.acquire([{ key: 'ip:192.0.2.1', cap: 1 }]);
    assert.equal(admission.admitted, true);
    assert.deepEqual(await watch.added(), { pop3: 1 });
    if (admission.admitted) admission.lease.release();
  });

  test('a Redis that never answers does not hold the accept: admitted once the timeout passes', async () => {
    // Takes connections and reads commands, but never replies: a hung server or a black-holed network.
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const watch = await CounterWatch.start(connectionLeaseMetrics.unchecked, 'protocol');
      const { leases } = leasesOn(`redis://127.0.0.1:${port}`, { ttlMs: 60_000, timeoutMs: 100 });
      const admission = await leases.acquire([{ key: 'ip:192.0.2.2', cap: 1 }]);
      assert.equal(admission.admitted, true);
      assert.deepEqual(await watch.added(), { pop3: 1 });
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  test('a lease taken while Redis was down is written by the heartbeat once Redis is back', async () => {
    const redis = await privateRedis();
    const timing = { ttlMs: 1500, timeoutMs: 1000 };
    const keyPrefix = `${uniqueName('leases')}:`;
    try {
      const early = leasesOn(redis.url, timing, keyPrefix);
      const down = await early.leases.acquire([{ key: 'ip:192.0.2.3', cap: 1 }]);
      assert.equal(down.admitted, true, 'fail-open while Redis is down');
      await redis.start();
      await eventually('the heartbeat to write the lease', async () => {
        return (await early.limits.countLeases('pop3:ip:192.0.2.3')) === 1;
      });
      const later = leasesOn(redis.url, timing, keyPrefix);
      assert.deepEqual(await later.leases.acquire([{ key: 'ip:192.0.2.3', cap: 1 }]), {
        admitted: false,
        index: 0,
      });
    } finally {
      await redis.stop();
    }
  });
});
