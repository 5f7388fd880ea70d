import { Transform, type TransformCallback } from 'node:stream';

export class MessageTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`message exceeds ${maxBytes} bytes`);
    this.name = 'MessageTooLargeError';
  }
}

/** Fails the stream as soon as the DATA passes `maxBytes`, so an oversize message is never stored whole. */
export class DataSizeLimit extends Transform {
  private seen = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.maxBytes) return callback(new MessageTooLargeError(this.maxBytes));
    callback(null, chunk);
  }
}
