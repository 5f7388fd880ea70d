import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { analyzeMessage } from '../src/index.js';
import type { AnalyzeOptions, BodyStructure, MessageAnalysis } from '../src/index.js';

/** Joins lines with CRLF, as a message on the wire. */
export function crlf(lines: string[]): Buffer {
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

/** Feeds `raw` in chunks of the given sizes (cycled), to exercise lines split across writes. */
export async function analyze(
  raw: Buffer,
  chunkSizes: number[] = [raw.length || 1],
  options?: AnalyzeOptions,
) {
  const chunks: Buffer[] = [];
  let pos = 0;
  let i = 0;
  while (pos < raw.length) {
    const n = Math.max(1, chunkSizes[i++ % chunkSizes.length]!);
    chunks.push(raw.subarray(pos, pos + n));
    pos += n;
  }
  return analyzeMessage(Readable.from(chunks), options);
}

export function* allParts(node: BodyStructure): Generator<BodyStructure> {
  yield node;
  if (node.kind === 'multipart') for (const p of node.parts) yield* allParts(p);
  if (node.kind === 'message') yield* allParts(node.body);
}

export function leaves(node: BodyStructure): BodyStructure[] {
  return [...allParts(node)].filter((p) => p.kind !== 'multipart' && p.kind !== 'message');
}

export function slice(raw: Buffer, start: number, end: number): string {
  return raw.subarray(start, end).toString('utf8');
}

/**
 * Offsets that any analysis must satisfy, whatever the input: ranges ordered and inside the
 * message, every child inside its parent's body, sizes equal to the body ranges.
 */
export function assertOffsetsSane(a: MessageAnalysis): void {
  const check = (node: BodyStructure, lo: number, hi: number): void => {
    const o = node.offsets;
    assert.ok(lo <= o.headerStart && o.headerStart <= o.bodyStart, `header order in ${node.section}`);
    assert.ok(o.bodyStart <= o.bodyEnd && o.bodyEnd <= hi, `body order in ${node.section}`);
    if (node.kind !== 'multipart') assert.equal(node.size, o.bodyEnd - o.bodyStart);
    if (node.kind === 'multipart') {
      let prevEnd = o.bodyStart;
      for (const p of node.parts) {
        assert.ok(p.offsets.headerStart >= prevEnd, `siblings ordered in ${p.section}`);
        check(p, o.bodyStart, o.bodyEnd);
        prevEnd = p.offsets.bodyEnd;
      }
    }
    if (node.kind === 'message') {
      assert.equal(node.body.offsets.headerStart, o.bodyStart);
      assert.equal(node.body.offsets.bodyEnd, o.bodyEnd);
      check(node.body, o.bodyStart, o.bodyEnd);
    }
  };
  const root = a.bodystructure;
  assert.equal(root.offsets.headerStart, 0);
  assert.equal(root.offsets.bodyEnd, a.size);
  check(root, 0, a.size);
}
