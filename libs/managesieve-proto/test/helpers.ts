import { WireReader } from '../src/index.js';
import type { ReaderDirection, ReaderLimits, WireLine } from '../src/index.js';

export const LIMITS: ReaderLimits = { maxLineBytes: 1024, maxLiteralBytes: 64 * 1024 };

/** Every line of `input`, fed in pieces of `size` octets. */
export function readAll(
  input: Buffer | string,
  size = Infinity,
  limits: ReaderLimits = LIMITS,
  direction: ReaderDirection = 'commands',
): WireLine[] {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const reader = new WireReader(limits, direction);
  const lines: WireLine[] = [];
  const step = Math.max(1, Math.min(size, bytes.length || 1));
  for (let offset = 0; offset < bytes.length; offset += step) {
    reader.push(bytes.subarray(offset, offset + step));
    for (let line = reader.next(); line; line = reader.next()) lines.push(line);
  }
  return lines;
}
