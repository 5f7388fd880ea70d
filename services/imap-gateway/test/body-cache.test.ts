import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Readable } from 'node:stream';
import type { BlobStore } from '@correo/blobs';
import { BodyCache } from '../src/body-cache.js';

const key = (n: number) => `${n}`.padStart(64, '0');

test('the body cache holds at most its octets, least recently used out first, and no body over its largest', () => {
  const cache = new BodyCache(10, 6);
  cache.put(key(1), Buffer.from('aaaa'));
  cache.put(key(2), Buffer.from('bbbb'));
  assert.ok(cache.get(key(1)), 'body 1 is used again: body 2 is now the oldest');
  cache.put(key(3), Buffer.from('cccc'));
  assert.equal(cache.get(key(2)), undefined);
  assert.equal(cache.get(key(1))?.toString(), 'aaaa');
  assert.equal(cache.get(key(3))?.toString(), 'cccc');
  assert.equal(cache.bytes, 8);
  cache.put(key(4), Buffer.from('too long'));
  assert.equal(cache.get(key(4)), undefined);
  assert.equal(cache.bytes, 8);
});

test('a kept body is a copy: the buffer it came from may be reused', () => {
  const cache = new BodyCache();
  const received = Buffer.from('literal bytes and the next command');
  cache.put(key(1), received.subarray(0, 13));
  received.fill(0);
  assert.equal(cache.get(key(1))?.toString(), 'literal bytes');
  assert.equal(cache.get(key(1))?.buffer.byteLength, 13);
});

test('whole() reads a small body once from the store; a big one is not read whole', async () => {
  let reads = 0;
  const blobs = {
    get: async () => {
      reads++;
      return Readable.from([Buffer.from('Subject: x\r\n\r\n'), Buffer.from('body')]);
    },
  } as unknown as BlobStore;
  const cache = new BodyCache(1024, 64);
  assert.equal((await cache.whole(blobs, key(1), 18))?.toString(), 'Subject: x\r\n\r\nbody');
  assert.equal((await cache.whole(blobs, key(1), 18))?.toString(), 'Subject: x\r\n\r\nbody');
  assert.equal(reads, 1);
  assert.equal(await cache.whole(blobs, key(2), 65), undefined);
  assert.equal(reads, 1);
});
