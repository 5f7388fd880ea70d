import { MAILBOX_DELIMITER } from '@correo/store';
import type { CommandContext, Completion } from './command-context.js';
import { bad } from './command-context.js';

/**
 * A mailbox name as the store keeps it, or null when it cannot be one: INBOX in any case is INBOX, a
 * trailing delimiter is dropped (RFC 9051 6.3.4), empty levels are refused.
 */
export function storedMailboxName(name: string): string | null {
  let trimmed = name;
  while (trimmed.endsWith(MAILBOX_DELIMITER)) trimmed = trimmed.slice(0, -1);
  if (trimmed === '' || trimmed.startsWith(MAILBOX_DELIMITER) || trimmed.includes('//')) return null;
  if (/[\0\r\n]/.test(trimmed) || [...trimmed].length > 255) return null;
  if (trimmed.toUpperCase() === 'INBOX') return 'INBOX';
  // "inbox/x" is a child of INBOX.
  const [first, ...rest] = trimmed.split(MAILBOX_DELIMITER);
  if (first?.toUpperCase() === 'INBOX') return ['INBOX', ...rest].join(MAILBOX_DELIMITER);
  return trimmed;
}

/** The pattern LIST matches: the reference joined to the pattern (RFC 9051 6.3.9). */
export function listPattern(reference: string, pattern: string): string {
  return pattern.startsWith(MAILBOX_DELIMITER) || reference === '' ? pattern : reference + pattern;
}

/**
 * BAD [LIMIT] when a LIST/LSUB pattern (with its reference) holds more wildcards than
 * IMAP_MAX_LIST_WILDCARDS; real clients use one or two.
 */
export function tooManyWildcards(
  ctx: CommandContext,
  reference: string,
  patterns: string[],
): Completion | null {
  const limit = ctx.services.config.maxListWildcards;
  for (const pattern of patterns) {
    let count = 0;
    for (const ch of listPattern(reference, pattern)) if (ch === '*' || ch === '%') count++;
    if (count > limit) return bad(`A mailbox pattern may hold at most ${limit} wildcards`, { code: 'LIMIT' });
  }
  return null;
}

/**
 * The names with a subscribed descendant that no pattern matches, so the descendant is not listed
 * itself: LIST (SUBSCRIBED RECURSIVEMATCH) gives such a name CHILDINFO ("SUBSCRIBED") (RFC 5258
 * section 5 example 9) and LSUB lists it, as \Noselect when it is not subscribed (RFC 3501 6.3.9).
 * One pass over the names: no scan of the folders per folder.
 */
export function parentsOfUnlistedSubscriptions(
  mailboxes: readonly { name: string; subscribed: boolean }[],
  matches: (name: string) => boolean,
): Set<string> {
  const parents = new Set<string>();
  for (const { name, subscribed } of mailboxes) {
    if (!subscribed || matches(name)) continue;
    for (let i = name.indexOf(MAILBOX_DELIMITER); i !== -1; i = name.indexOf(MAILBOX_DELIMITER, i + 1)) {
      parents.add(name.slice(0, i));
    }
  }
  return parents;
}

/**
 * LIST's reference + pattern as a matcher: "*" matches anything, "%" anything but the delimiter.
 *
 * Never a RegExp built from the pattern: a backtracking engine takes exponential time on
 * `*a*a*a*a*a*c` against a long name and blocks every session of the process. This matcher keeps the
 * set of name positions reachable after each piece of the pattern (at most name.length + 1 of them),
 * so one name costs O(name length x pattern length) whatever the pattern.
 */
export function listMatcher(reference: string, pattern: string): (name: string) => boolean {
  const full = listPattern(reference, pattern);
  const exact = compileGlob(full);
  // INBOX is case-insensitive, also as the first level of a pattern.
  const inboxFirst = /^inbox(\/|$)/i.test(full) ? compileGlob('INBOX' + full.slice(5)) : null;
  return (name) => exact(name) || (inboxFirst !== null && inboxFirst(name));
}

type GlobPiece = { kind: 'text'; text: string } | { kind: '*' } | { kind: '%' };

function compileGlob(pattern: string): (name: string) => boolean {
  const pieces: GlobPiece[] = [];
  let text = '';
  let literalLength = 0;
  for (const ch of pattern) {
    if (ch !== '*' && ch !== '%') {
      text += ch;
      continue;
    }
    if (text) pieces.push({ kind: 'text', text });
    literalLength += text.length;
    text = '';
    // "**" and "*%" match what "*" alone does: fewer pieces, same answer.
    const last = pieces[pieces.length - 1];
    if (ch === '*' && last?.kind === '%') pieces[pieces.length - 1] = { kind: '*' };
    else if (!(last?.kind === '*') && !(ch === '%' && last?.kind === '%')) pieces.push({ kind: ch });
  }
  if (text) pieces.push({ kind: 'text', text });
  literalLength += text.length;
  return (name) => {
    if (literalLength > name.length) return false;
    // reachable[p]: the pieces so far can match name[0, p).
    let reachable = new Uint8Array(name.length + 1);
    reachable[0] = 1;
    for (const piece of pieces) {
      const next = new Uint8Array(name.length + 1);
      let any = false;
      if (piece.kind === 'text') {
        for (let p = 0; p + piece.text.length <= name.length; p++) {
          if (reachable[p] && name.startsWith(piece.text, p)) {
            next[p + piece.text.length] = 1;
            any = true;
          }
        }
      } else {
        // One forward sweep: a wildcard extends every reachable position to the right ("%" stops at "/").
        let open = false;
        for (let p = 0; p <= name.length; p++) {
          if (reachable[p]) open = true;
          if (open) {
            next[p] = 1;
            any = true;
          }
          if (piece.kind === '%' && name[p] === MAILBOX_DELIMITER) open = false;
        }
      }
      if (!any) return false;
      reachable = next;
    }
    return reachable[name.length] === 1;
  };
}
