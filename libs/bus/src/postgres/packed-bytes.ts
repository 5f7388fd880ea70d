/**
 * Several byte strings as ONE binary query parameter plus their lengths, for multi-row statements.
 * `pg` sends a Buffer parameter as binary, but an array of Buffers (`$1::bytea[]`) as an array literal
 * of hex strings: every byte doubled, escaped, measured and copied again in Node, then parsed back in
 * PostgreSQL (docs/performance.md, fourth round: ~5% of the busy time at 20 sessions). In SQL, row
 * `n` (1-based) is `substring($bytes FROM starts[n] FOR lengths[n])`; unnest the two int arrays with
 * the other columns.
 */
export interface PackedBytes {
  bytes: Buffer;
  /** 1-based start of each item in `bytes`, as SQL's substring counts. */
  starts: number[];
  lengths: number[];
}

export function packBytes(items: readonly Uint8Array[]): PackedBytes {
  const starts: number[] = [];
  const lengths: number[] = [];
  let at = 1;
  for (const item of items) {
    starts.push(at);
    lengths.push(item.byteLength);
    at += item.byteLength;
  }
  return { bytes: Buffer.concat(items), starts, lengths };
}
