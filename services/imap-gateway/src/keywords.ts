import { readImapKeywords } from '@correo/store';
import type { AuthenticatedContext, Completion } from './command-context.js';
import { no } from './command-context.js';

const SYSTEM_FLAGS = new Set(['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft', '\\Recent']);

/**
 * NO [LIMIT] when STORE or APPEND would give a mailbox a keyword longer than IMAP_MAX_KEYWORD_LENGTH or
 * more distinct keywords than IMAP_MAX_KEYWORDS: every SELECT sends the whole keyword list in FLAGS, so
 * an unbounded list is an unbounded response for every client of the mailbox. The count is read only
 * when the request brings a keyword (system flags are free); two concurrent STOREs may pass the cap
 * by what each adds, and COPY/MOVE carry keywords along unchecked (each source is bounded itself).
 */
export async function refuseKeywords(
  ctx: AuthenticatedContext,
  mailboxId: string,
  flags: readonly string[],
): Promise<Completion | null> {
  const { config, pool } = ctx.services;
  const keywords = [...new Set(flags.filter((flag) => !SYSTEM_FLAGS.has(flag)))];
  if (keywords.length === 0) return null;
  if (keywords.some((keyword) => Buffer.byteLength(keyword) > config.maxKeywordLength)) {
    return no(`Keywords are limited to ${config.maxKeywordLength} octets`, { code: 'LIMIT' });
  }
  const present = new Set(await readImapKeywords(pool, ctx.account.accountId, mailboxId));
  const added = keywords.filter((keyword) => !present.has(keyword)).length;
  if (added > 0 && present.size + added > config.maxKeywords) {
    return no(`A mailbox holds at most ${config.maxKeywords} different keywords`, { code: 'LIMIT' });
  }
  return null;
}
