import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { BlobNotFoundError, BlobTooLargeError } from '../src/port.js';
import type { BlobStore } from '../src/port.js';

/** What each adapter's test file hands the contract: a store plus views only the adapter can give. */
export interface BlobContractSubject {
  store: BlobStore;
  /** A store of the same kind whose backend cannot be reached. */
  unreachable(): BlobStore;
  /** Temporary objects/files still present (every put must clean its own up). */
  temporaryLeftovers(): Promise<string[]>;
  dispose(): Promise<void>;
}

/** Deterministic pseudo-random bytes, generated chunk by chunk so no test holds a whole body. */
function* generatedChunks(totalBytes: number, seed: number, chunkSize = 64 * 1024): Generator<Buffer> {
  let state = seed >>> 0 || 1;
  for (let offset = 0; offset < totalBytes; offset += chunkSize) {
    const chunk = Buffer.allocUnsafe(Math.min(chunkSize, totalBytes - offset));
    for (let i = 0; i < chunk.length; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      chunk[i] = state & 0xff;
    }
    yield chunk;
  }
}

function generated(totalBytes: number, seed: number): Readable {
  return Readable.from(generatedChunks(totalBytes, seed));
}

function expectedDigest(totalBytes: number, seed: number): string {
  const hash = createHash('sha256');
  for (const chunk of generatedChunks(totalBytes, seed)) hash.update(chunk);
  return hash.digest('hex');
}

/** Hashes and counts a stream as it arrives, keeping only a small window for byte checks. */
async function digestOf(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

async function text(stream: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function sha256(data: string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A body that delivers some bytes and then fails, like a client dropping mid-DATA. */
async function* failingMidway(): AsyncGenerator<Uint8Array> {
  yield* generatedChunks(256 * 1024, 7);
  throw new Error('client went away');
}

export function blobContract(name: string, make: () => Promise<BlobContractSubject>): void {
  describe(`blob contract [${name}]`, () => {
    let subject: BlobContractSubject;
    let store: BlobStore;

    before(async () => {
      subject = await make();
      store = subject.store;
    });
    after(async () => {
      await subject.dispose();
      await subject.store.close();
    });

    test('put returns the sha256 and size of the bytes', async () => {
      const body = `Subject: hi\r\n\r\nhello from ${name} ${Date.now()}\r\n`;
      const stored = await store.put(Readable.from([Buffer.from(body)]));
      assert.equal(stored.sha256, sha256(body));
      assert.equal(stored.key, stored.sha256);
      assert.equal(stored.size, Buffer.byteLength(body));
      assert.deepEqual(await store.stat(stored.key), { size: Buffer.byteLength(body) });
    });

    test('an empty body is a blob too', async () => {
      const stored = await store.put(Readable.from([]));
      assert.equal(stored.sha256, sha256(''));
      assert.equal(stored.size, 0);
      assert.equal(await text(await store.get(stored.key)), '');
    });

    test('the same bytes stored twice are one blob under one key', async () => {
      const body = `same bytes ${name} ${Math.random()}`;
      const first = await store.put(Readable.from([Buffer.from(body)]));
      const second = await store.put(
        (async function* () {
          // Different chunking, same content.
          for (const ch of body) yield Buffer.from(ch);
        })(),
      );
      assert.equal(second.key, first.key);
      assert.equal(await text(await store.get(second.key)), body);
      assert.deepEqual(await subject.temporaryLeftovers(), []);
    });

    test('get round-trips a multi-megabyte stream', async () => {
      const size = 12 * 1024 * 1024 + 12345;
      const seed = Math.floor(Math.random() * 1e9);
      const stored = await store.put(generated(size, seed));
      const expected = expectedDigest(size, seed);
      assert.equal(stored.sha256, expected);
      assert.equal(stored.size, size);
      assert.deepEqual(await digestOf(await store.get(stored.key)), { sha256: expected, size });
      assert.deepEqual(await subject.temporaryLeftovers(), []);
    });

    test('ranged get returns start..end inclusive and start..EOF', async () => {
      const body = `0123456789abcdefghij ${name} ${Math.random()}`;
      const { key } = await store.put(Readable.from([Buffer.from(body)]));
      assert.equal(await text(await store.get(key, { start: 2, end: 5 })), '2345');
      assert.equal(await text(await store.get(key, { start: 0, end: 0 })), '0');
      assert.equal(await text(await store.get(key, { start: 10 })), body.slice(10));
    });

    test('stat is null for a missing blob and delete is idempotent', async () => {
      const { key } = await store.put(Readable.from([Buffer.from(`delete me ${Math.random()}`)]));
      assert.notEqual(await store.stat(key), null);
      await store.delete(key);
      assert.equal(await store.stat(key), null);
      await store.delete(key);
      assert.equal(await store.stat(key), null);
    });

    test('delete removes the bytes for every reader, and a later put of the same bytes stores them again', async () => {
      const body = Buffer.from(`collected ${name} ${Math.random()}`);
      const { key } = await store.put(Readable.from([body]));
      await store.delete(key);
      await assert.rejects(store.get(key), BlobNotFoundError);
      await assert.rejects(store.get(key, { start: 0, end: 3 }), BlobNotFoundError);
      // The blob collector's retry protocol relies on this: a writer whose bytes were collected puts them again.
      assert.equal((await store.put(Readable.from([body]))).key, key);
      assert.equal(await text(await store.get(key)), body.toString('utf8'));
    });

    test('list yields the key of every stored blob, never a deleted one or a temporary upload', async () => {
      const kept = await Promise.all(
        [1, 2, 3].map((n) => store.put(Readable.from([Buffer.from(`listed ${n} ${name} ${Math.random()}`)]))),
      );
      const gone = await store.put(Readable.from([Buffer.from(`unlisted ${name} ${Math.random()}`)]));
      await store.delete(gone.key);
      await assert.rejects(store.put(failingMidway()), /client went away/);
      const listed: string[] = [];
      for await (const key of store.list()) listed.push(key);
      for (const { key } of kept) assert.ok(listed.includes(key), `${key} listed`);
      assert.ok(!listed.includes(gone.key), 'a deleted blob is not listed');
      assert.equal(new Set(listed).size, listed.length, 'each key once');
      for (const key of listed) assert.notEqual(await store.stat(key), null, `${key} exists`);
    });

    test('get of a missing key rejects with BlobNotFoundError', async () => {
      const missing = sha256(`never stored ${Math.random()}`);
      await assert.rejects(store.get(missing), BlobNotFoundError);
      await assert.rejects(store.get(missing, { start: 1, end: 2 }), BlobNotFoundError);
      await assert.rejects(store.get('../../etc/passwd'), BlobNotFoundError);
    });

    test('a body that fails midway leaves nothing behind', async () => {
      const wouldBe = expectedDigest(256 * 1024, 7);
      await assert.rejects(store.put(failingMidway()), /client went away/);
      assert.equal(await store.stat(wouldBe), null);
      assert.deepEqual(await subject.temporaryLeftovers(), []);
    });

    test('a body over maxBytes is refused with BlobTooLargeError and nothing is stored', async () => {
      const size = 6 * 1024 * 1024;
      const seed = Math.floor(Math.random() * 1e9);
      await assert.rejects(store.put(generated(size, seed), { maxBytes: size - 1 }), (err: unknown) => {
        assert.ok(err instanceof BlobTooLargeError);
        assert.equal(err.maxBytes, size - 1);
        return true;
      });
      assert.equal(await store.stat(expectedDigest(size, seed)), null);
      assert.deepEqual(await subject.temporaryLeftovers(), []);
      const exact = await store.put(generated(1000, seed), { maxBytes: 1000 });
      assert.equal(exact.size, 1000);
    });

    test('ping succeeds against a reachable backend', async () => {
      await store.ping();
    });

    test('ping rejects against an unreachable backend', async () => {
      const dead = subject.unreachable();
      try {
        await assert.rejects(dead.ping(), /not (reachable|usable)/);
      } finally {
        await dead.close();
      }
    });
  });
}
