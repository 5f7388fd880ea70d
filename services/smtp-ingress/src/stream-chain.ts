import type { Duplex, Readable, Writable } from 'node:stream';

/** A failure of one stream of a chain that came as a close before its end, not as an error. */
export class StreamClosedEarlyError extends Error {
  constructor() {
    super('a stream of the message closed before its end');
    this.name = 'StreamClosedEarlyError';
  }
}

/**
 * `first.pipe(second).pipe(third)…`, where an error of any of them (or one closing before its end)
 * destroys all of them with that error, so whoever reads or awaits the last one sees it; `done`
 * hears the outcome once: no argument when the last stream has finished (a Writable) or ended.
 *
 * What `stream.pipeline` does for this, by hand because pipeline's bookkeeping is costly per
 * message: each call makes an AbortController and, when it finishes, aborts it (a DOMException)
 * and destroys every stream with an ERR_STREAM_PREMATURE_CLOSE, each with a stack trace. Three
 * pipelines per MX message were ~5% of the all-in-one's CPU in the embedded default's profile
 * (docs/performance.md, "Fifth round"). Here nothing is allocated unless something fails.
 */
export function chainStreams(
  streams: readonly [Readable, ...(Duplex | Writable)[]],
  done: (error?: Error) => void = () => undefined,
): void {
  let settled = false;
  const fail = (error: Error) => {
    if (settled) return;
    settled = true;
    for (const stream of streams) if (!stream.destroyed) stream.destroy(error);
    done(error);
  };
  const last = streams[streams.length - 1]!;
  streams.forEach((stream, index) => {
    stream.on('error', fail);
    stream.once('close', () => {
      if (!settled && !ended(stream)) fail(new StreamClosedEarlyError());
    });
    if (index > 0) (streams[index - 1] as Readable).pipe(stream as Writable);
  });
  const succeed = () => {
    if (settled) return;
    settled = true;
    done();
  };
  if (isReadable(last)) last.once('end', succeed);
  else last.once('finish', succeed);
}

/** chainStreams as a promise: resolves when the last (a Writable) has finished. */
export function chainStreamsInto(streams: readonly [Readable, ...(Duplex | Writable)[]]): Promise<void> {
  return new Promise((resolve, reject) =>
    chainStreams(streams, (error) => (error ? reject(error) : resolve())),
  );
}

function isReadable(stream: Readable | Duplex | Writable): stream is Readable | Duplex {
  return 'readableEnded' in stream;
}

/** Closed after its own end: a Readable (or Duplex) read to its end, a Writable finished. */
function ended(stream: Readable | Duplex | Writable): boolean {
  return isReadable(stream) ? stream.readableEnded : stream.writableFinished;
}
