import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { analyzeMessage } from '../src/index.js';
import type { TextBody } from '../src/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MB = 1024 * 1024;
const LINE = Buffer.from('QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n');
const TEXT_LINE = Buffer.from('the quick brown fox jumps over the lazy dog, again and again and again.\r\n');

/** A ~30 MB message made on the fly, 64 KiB at a time, so the test itself holds none of it. */
function* hugeMessage(targetBytes: number): Generator<Buffer> {
  yield Buffer.from(
    [
      'From: big@example.test',
      'Subject: thirty megabytes',
      'Content-Type: multipart/mixed; boundary="=_big"',
      '',
      '--=_big',
      'Content-Type: text/plain; charset=utf-8',
      '',
      '',
    ].join('\r\n'),
  );
  // 10 MB of text: more than the search text cap, which must hold.
  const textChunk = Buffer.concat(Array(800).fill(TEXT_LINE));
  for (let sent = 0; sent < targetBytes / 3; sent += textChunk.length) yield textChunk;
  yield Buffer.from(
    '--=_big\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n',
  );
  const chunk = Buffer.concat(Array(840).fill(LINE));
  for (let sent = 0; sent < (targetBytes * 2) / 3; sent += chunk.length) yield chunk;
  yield Buffer.from('--=_big--\r\n');
}

test('a 30 MB message streams through in far less than 30 MB', { timeout: 120_000 }, async (t) => {
  // Warm up first, so JIT code and V8's young generation (which grows to a fixed size under any
  // allocation-heavy load) are not charged to the big message.
  await analyzeMessage(Readable.from(hugeMessage(4 * MB)));
  // What the analysis keeps alive, sampled after a full GC: peak RSS would also count garbage
  // not yet collected, which depends on the machine's load rather than on the code.
  const live = () => {
    gc();
    const usage = process.memoryUsage();
    return usage.heapUsed + usage.arrayBuffers;
  };
  const before = live();
  let peak = before;
  let n = 0;
  const source = Readable.from(
    (function* () {
      for (const chunk of hugeMessage(30 * MB)) {
        if (++n % 50 === 0) peak = Math.max(peak, live());
        yield chunk;
      }
    })(),
  );
  const a = await analyzeMessage(source);
  const after = live();

  assert.ok(a.size > 30 * MB - 200_000, `size ${a.size}`);
  assert.equal(a.bodystructure.kind, 'multipart');
  const parts = a.bodystructure.kind === 'multipart' ? a.bodystructure.parts : [];
  assert.equal(parts.length, 2);
  assert.ok((parts[0] as TextBody).lines > 100_000);
  assert.equal(a.searchTextTruncated, true);
  assert.equal(a.searchText.length, 256 * 1024);
  const peakGrowth = (peak - before) / MB;
  const retained = (after - before) / MB;
  t.diagnostic(`live memory peak +${peakGrowth.toFixed(2)} MB, retained +${retained.toFixed(2)} MB`);
  assert.ok(peakGrowth < 8, `live memory grew ${peakGrowth.toFixed(1)} MB while streaming 30 MB`);
  assert.ok(retained < 2, `live memory after grew ${retained.toFixed(1)} MB`);
});
