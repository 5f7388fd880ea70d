import { BlobNotFoundError } from '@correo/blobs';
import type { BlobStore } from '@correo/blobs';
import type { SearchKey } from '@correo/imap-proto';
import { analyzeMessage, messageSummary } from '@correo/mime';
import { readImapMessages, searchImapMailbox } from '@correo/store';
import type { ImapMessageRow, Pool, SearchCondition } from '@correo/store';
import libmime from 'libmime';
import { readSpan } from './fetch/body-section.js';
import type { MailboxView } from './mailbox-view.js';
import { searchCondition } from './search-program.js';
import type { HeaderScanKey, HeaderScanLeaf } from './search-program.js';

/**
 * The most header blocks one SEARCH reads. Like Dovecot without FTS we scan rather than index every
 * field, but here each read is a blob-store GET, so a search that the other keys leave wider than
 * this is refused with NO [LIMIT] (RFC 5530) instead of holding the session for minutes; an exact
 * answer or none, never a partial one. Messages that the SQL part of the search already rules out
 * are not read, so adding keys such as SINCE or UID brings a search under the limit.
 */
export const MAX_HEADER_SCANS_PER_SEARCH = 100_000;

/** Header blocks are read up to this size; fields past it are not searched. */
export const MAX_SCANNED_HEADER_BYTES = 256 * 1024;

/** Ranged GETs in flight at once for one search. */
const PARALLEL_READS = 8;

export class HeaderScanLimitError extends Error {
  constructor(readonly candidates: number) {
    super(
      `HEADER search would read ${candidates} message headers (at most ${MAX_HEADER_SCANS_PER_SEARCH}); ` +
        'narrow it with other search keys',
    );
  }
}

export interface HeaderScanServices {
  pool: Pool;
  blobs: BlobStore;
  /** Messages read from the store per query (IMAP_FETCH_BATCH). */
  batchSize: number;
}

const scanId = (key: HeaderScanKey): string => `${key.part}\0${key.field}\0${key.value.toLowerCase()}`;

function uidRanges(uids: number[]): Array<[number, number]> {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const ranges: Array<[number, number]> = [];
  for (const uid of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && last[1] === uid - 1) last[1] = uid;
    else ranges.push([uid, uid]);
  }
  return ranges;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** RFC 6532 headers are UTF-8; other 8-bit bytes are kept one for one as latin1. */
function headerText(bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

function decodeWords(value: string): string {
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

/** The top-level header block (the root's bodyStart; the whole blob up to the cap when no analysis). */
async function readHeaderBlock(blobs: BlobStore, row: ImapMessageRow): Promise<Buffer> {
  const end = Math.min(row.bodystructure?.offsets.bodyStart ?? row.size, row.size, MAX_SCANNED_HEADER_BYTES);
  try {
    return await readSpan(blobs, row.blobKey, { start: 0, end });
  } catch (error) {
    // Expunged and collected since the row was read: the message is gone, so it matches nothing.
    if (error instanceof BlobNotFoundError) return Buffer.alloc(0);
    throw error;
  }
}

/**
 * RFC 9051 6.4.4 HEADER: the message has the field and its value contains the string, case-insensitively.
 * libmime unfolds the block (stopping at the blank line) and decodes RFC 2047 words, so the test sees
 * the value a user reads.
 */
function matchingScans(block: Buffer, scans: HeaderScanKey[]): HeaderScanKey[] {
  const fields = libmime.decodeHeaders(headerText(block));
  return scans.filter((scan) => {
    const values = Object.hasOwn(fields, scan.field) ? fields[scan.field] : undefined;
    if (!values) return false;
    const needle = scan.value.toLowerCase();
    return values.some((value) => decodeWords(value).toLowerCase().includes(needle));
  });
}

/**
 * BODY and TEXT of a message whose decoded text the store did not keep (stored before it did, or
 * longer than the analyzer keeps): the whole message is read and decoded again, so the answer stays
 * a substring test over all of it.
 */
async function matchingTextScans(
  blobs: BlobStore,
  row: ImapMessageRow,
  scans: HeaderScanKey[],
): Promise<HeaderScanKey[]> {
  let summary;
  try {
    summary = messageSummary(
      await analyzeMessage(await blobs.get(row.blobKey), { searchTextLimit: row.size }),
    );
  } catch (error) {
    if (error instanceof BlobNotFoundError) return [];
    throw error;
  }
  const body = (summary.bodyText ?? '').toLowerCase();
  const header = summary.headerText.toLowerCase();
  return scans.filter((scan) => {
    const needle = scan.value.toLowerCase();
    return body.includes(needle) || (scan.part === 'text' && header.includes(needle));
  });
}

/** Reads `uids` in batches and calls `match` on each row, a few rows in flight at once. */
async function scanRows(
  services: HeaderScanServices,
  accountId: string,
  mailboxId: string,
  uids: number[],
  match: (row: ImapMessageRow) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < uids.length; i += services.batchSize) {
    const batch = uids.slice(i, i + services.batchSize);
    const rows = await readImapMessages(services.pool, accountId, mailboxId, batch, { bodystructure: true });
    for (let j = 0; j < rows.length; j += PARALLEL_READS) {
      await Promise.all(rows.slice(j, j + PARALLEL_READS).map(match));
    }
  }
}

/**
 * The UIDs (ascending) and MODSEQs of the messages matching `criteria` (ANDed). Without HEADER keys
 * the store can't answer this is one SQL query. With them: a first query stands in for each scanned
 * test the condition that can only widen the result (TRUE, or FALSE under a NOT), which leaves the
 * candidates; their header blocks are read in batches (and, for BODY/TEXT, the whole message of the
 * candidates whose decoded text the store did not keep); a second query then gets the exact answer,
 * each scanned test replaced by the set of candidate UIDs it matched, restricted to the candidates.
 */
export async function searchMailbox(
  services: HeaderScanServices,
  accountId: string,
  view: MailboxView,
  criteria: readonly SearchKey[],
): Promise<{ uid: number; modseq: number }[]> {
  const build = (leaf: HeaderScanLeaf): SearchCondition => ({
    kind: 'and',
    operands: criteria.map((key) => searchCondition(key, view, leaf)),
  });
  const scans = new Map<string, HeaderScanKey>();
  const widest = build((key, negated) => {
    scans.set(scanId(key), key);
    return { kind: negated ? 'none' : 'all' };
  });
  const found = await searchImapMailbox(services.pool, accountId, view.mailboxId, widest);
  if (scans.size === 0) return found;

  // Messages the client has not been told about yet would be dropped from the answer anyway.
  const candidates = found.map((m) => m.uid).filter((uid) => view.isLive(uid));
  if (candidates.length === 0) return [];
  if (candidates.length > MAX_HEADER_SCANS_PER_SEARCH) throw new HeaderScanLimitError(candidates.length);

  const wanted = [...scans.values()];
  const matched = new Map<string, number[]>();
  const match = (scan: HeaderScanKey, uid: number) => {
    const uids = matched.get(scanId(scan));
    if (uids) uids.push(uid);
    else matched.set(scanId(scan), [uid]);
  };
  const fieldScans = wanted.filter((scan) => scan.part === 'field');
  const textScans = wanted.filter((scan) => scan.part !== 'field');
  if (fieldScans.length) {
    await scanRows(services, accountId, view.mailboxId, candidates, async (row) => {
      const block = await readHeaderBlock(services.blobs, row);
      for (const scan of matchingScans(block, fieldScans)) match(scan, row.uid);
    });
  }
  if (textScans.length) {
    // Only the candidates without kept text: the others were answered in SQL.
    const unkept = await searchImapMailbox(services.pool, accountId, view.mailboxId, {
      kind: 'and',
      operands: [
        { kind: 'uid', ranges: uidRanges(candidates) },
        { kind: 'not', operand: { kind: 'text-kept' } },
      ],
    });
    // Every candidate has its text kept and no header was scanned: the first query was already exact.
    if (unkept.length === 0 && fieldScans.length === 0) return found.filter((m) => view.isLive(m.uid));
    await scanRows(
      services,
      accountId,
      view.mailboxId,
      unkept.map((m) => m.uid),
      async (row) => {
        for (const scan of await matchingTextScans(services.blobs, row, textScans)) {
          match(scan, row.uid);
        }
      },
    );
  }

  const exact: SearchCondition = {
    kind: 'and',
    operands: [
      { kind: 'uid', ranges: uidRanges(candidates) },
      build((key) => ({ kind: 'uid', ranges: uidRanges(matched.get(scanId(key)) ?? []) })),
    ],
  };
  return searchImapMailbox(services.pool, accountId, view.mailboxId, exact);
}
