import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { testBackends, uniqueName } from '@correo/testkit';
import { createRedisNotifier } from '../src/index.js';

test('deployments sharing one Redis with different channel prefixes never hear each other', async () => {
  const { redisUrl } = testBackends();
  const a = createRedisNotifier({ url: redisUrl, channelPrefix: `${uniqueName('a')}.` });
  const b = createRedisNotifier({ url: redisUrl, channelPrefix: `${uniqueName('b')}.` });
  const a2 = createRedisNotifier({ url: redisUrl, channelPrefix: `${uniqueName('a2')}.` });
  try {
    const heardByB: string[] = [];
    await b.subscribe('correo.mailbox.1', (payload) => heardByB.push(payload));
    const heardByA: string[] = [];
    await a.subscribe('correo.mailbox.1', (payload) => heardByA.push(payload));
    await a.publish('correo.mailbox.1', 'from a');
    await a2.publish('correo.mailbox.1', 'from a2');
    for (let i = 0; i < 100 && heardByA.length === 0; i++) await sleep(10);
    // A marker sent after the others through b's own namespace: once b hears it, it has had
    // every chance to hear the others too.
    await b.publish('correo.mailbox.1', 'marker');
    for (let i = 0; i < 100 && !heardByB.includes('marker'); i++) await sleep(10);
    assert.deepEqual(heardByA, ['from a']);
    assert.deepEqual(heardByB, ['marker']);
  } finally {
    await Promise.all([a.close(), b.close(), a2.close()]);
  }
});
