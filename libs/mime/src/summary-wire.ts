import { StoredShapeError, readStoredBodyStructure, readStoredEnvelope } from './stored.js';
import type { MessageSummary } from './summary.js';

/**
 * A MessageSummary as bytes, for carrying the analysis smtp-ingress made while DATA streamed in to
 * the mda inside the mail.accepted event (issue 9, "every byte read once"). JSON with a version
 * tag rather than protobuf fields: the summary's ENVELOPE/BODYSTRUCTURE shapes belong to this
 * library and change with it; a reader that meets another version (a rolling upgrade) ignores the
 * carried analysis and analyses the blob itself, which is always correct, only slower.
 */
export const SUMMARY_WIRE_VERSION = 1;

/** Above this the analysis stays out of the event (a bus message should stay small). */
export const SUMMARY_WIRE_MAX_BYTES = 64 * 1024;

/** The encoded summary, or an empty array when it is larger than `maxBytes`. */
export function encodeSummaryWire(summary: MessageSummary, maxBytes = SUMMARY_WIRE_MAX_BYTES): Uint8Array {
  const bytes = Buffer.from(JSON.stringify({ v: SUMMARY_WIRE_VERSION, s: summary }), 'utf8');
  return bytes.length > maxBytes ? new Uint8Array(0) : bytes;
}

/** The summary carried in `bytes`; undefined when absent, of another version or not readable. */
export function decodeSummaryWire(bytes: Uint8Array): MessageSummary | undefined {
  if (bytes.byteLength === 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { v, s } = parsed as { v?: unknown; s?: unknown };
  if (v !== SUMMARY_WIRE_VERSION || typeof s !== 'object' || s === null) return undefined;
  const summary = s as MessageSummary & { date: string | null };
  try {
    // ENVELOPE and BODYSTRUCTURE are filed as they come: read through their owner (stored.ts), so a
    // damaged one is analysed again from the blob instead of stored for FETCH to refuse later.
    return {
      ...summary,
      envelope: readStoredEnvelope(summary.envelope, 'the carried analysis'),
      bodystructure: readStoredBodyStructure(summary.bodystructure, 'the carried analysis'),
      // The one field JSON cannot carry as itself.
      date: summary.date === null ? null : new Date(summary.date),
    };
  } catch (error) {
    if (error instanceof StoredShapeError) return undefined;
    throw error;
  }
}
