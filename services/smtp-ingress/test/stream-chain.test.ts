import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable, Transform, Writable } from 'node:stream';
import { StreamClosedEarlyError, chainStreams, chainStreamsInto } from '../src/stream-chain.js';

/** A Writable that keeps what it is given. */
function collector(): Writable & { chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return Object.assign(sink, { chunks });
}

describe('chainStreams (the MX intake without stream.pipeline)', () => {
  test('passes every byte through and resolves when the last has finished', async () => {
    const sink = collector();
    const upper = new Transform({
      transform: (chunk: Buffer, _e, cb) => cb(null, Buffer.from(chunk.toString().toUpperCase())),
    });
    await chainStreamsInto([Readable.from([Buffer.from('hola '), Buffer.from('mundo')]), upper, sink]);
    assert.equal(Buffer.concat(sink.chunks).toString(), 'HOLA MUNDO');
  });

  test('an error in the middle destroys every stream with it and reaches whoever reads the last', async () => {
    const source = new PassThrough();
    const failing = new Transform({ transform: (_chunk, _e, cb) => cb(new Error('too large')) });
    const last = new PassThrough();
    let heard: Error | undefined;
    chainStreams([source, failing, last], (error) => (heard = error));
    source.write('x');
    await assert.rejects(async () => {
      for await (const _ of last) void _;
    }, /too large/);
    assert.equal(heard?.message, 'too large');
    assert.ok(source.destroyed && failing.destroyed && last.destroyed, 'all destroyed');
  });

  test('a stream closed before its end (a client gone mid-DATA) fails the chain', async () => {
    const source = new PassThrough();
    const sink = collector();
    const outcome = chainStreamsInto([source, new PassThrough(), sink]);
    source.write('half a message');
    source.destroy();
    await assert.rejects(outcome, StreamClosedEarlyError);
    assert.ok(sink.destroyed);
  });

  test('an error given to the first stream reaches the last', async () => {
    const source = new PassThrough();
    const sink = collector();
    const outcome = chainStreamsInto([source, sink]);
    source.destroy(new Error('connection closed during DATA'));
    await assert.rejects(outcome, /connection closed during DATA/);
  });
});
