/** RFC 4790 comparators the base spec requires (RFC 5228 2.7.3). */
export type Comparator = 'i;octet' | 'i;ascii-casemap';
export type MatchType = 'is' | 'contains' | 'matches';

/** i;ascii-casemap folds ASCII letters only, never other scripts. */
export function fold(value: string, comparator: string): string {
  return comparator === 'i;ascii-casemap' ? value.replace(/[A-Z]+/g, (s) => s.toLowerCase()) : value;
}

export function matches(value: string, key: string, type: MatchType, comparator: Comparator): boolean {
  return matchCaptures(value, key, type, comparator) !== null;
}

// Both base comparators work on octets (RFC 4790 9.2, 9.3), so "?" is one octet of the UTF-8
// text, as in Pigeonhole: "p??te" matches "pâte". latin1 maps each octet to one code unit.
const octets = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');
const text = (latin1: string): string => Buffer.from(latin1, 'latin1').toString('utf8');

/**
 * Like `matches`, but returns what matched: the whole value first, then for `:matches` the text
 * each `*` and `?` took (RFC 5229 3.2 match variables, leftmost wildcard shortest); null = no match.
 */
export function matchCaptures(
  value: string,
  key: string,
  type: MatchType,
  comparator: Comparator,
): string[] | null {
  const v = fold(value, comparator);
  const k = fold(key, comparator);
  if (type === 'is') return v === k ? [value] : null;
  if (type === 'contains') return v.includes(k) ? [value] : null;
  const original = Array.from(octets(value));
  const spans = wildcard(Array.from(octets(v)), parsePattern(octets(k)));
  if (!spans) return null;
  return [value, ...spans.map(([start, end]) => text(original.slice(start, end).join('')))];
}

type Piece = { kind: 'star' } | { kind: 'one' } | { kind: 'char'; char: string };

/** `*` any run, `?` one character, `\` quotes the next character (RFC 5228 2.7.1). */
function parsePattern(pattern: string): Piece[] {
  const pieces: Piece[] = [];
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    // "**" stays two wildcards: each is a match variable of its own (RFC 5229 3.2).
    if (c === '*') pieces.push({ kind: 'star' });
    else if (c === '?') pieces.push({ kind: 'one' });
    else if (c === '\\' && i + 1 < chars.length) pieces.push({ kind: 'char', char: chars[++i]! });
    else pieces.push({ kind: 'char', char: c });
  }
  return pieces;
}

/**
 * Glob match by the greedy backtrack-to-last-star walk: O(value x pattern) at worst, never the
 * exponential blow-up a translated RegExp can hit on a hostile `*a*a*a*...` script.
 */
function wildcard(value: string[], pattern: Piece[]): [number, number][] | null {
  let v = 0;
  let p = 0;
  let starP = -1;
  let starV = 0;
  // Where each wildcard piece started and ended in the value (the walk re-records them on backtrack).
  const spans = new Map<number, [number, number]>();
  while (v < value.length) {
    const piece = pattern[p];
    if (piece && (piece.kind === 'one' || (piece.kind === 'char' && piece.char === value[v]))) {
      if (piece.kind === 'one') spans.set(p, [v, v + 1]);
      v++;
      p++;
    } else if (piece?.kind === 'star') {
      spans.set(p, [v, v]);
      starP = p++;
      starV = v;
    } else if (starP >= 0) {
      p = starP + 1;
      v = ++starV;
      spans.get(starP)![1] = v;
    } else return null;
  }
  while (pattern[p]?.kind === 'star') spans.set(p++, [v, v]);
  if (p !== pattern.length) return null;
  const out: [number, number][] = [];
  pattern.forEach((piece, i) => {
    if (piece.kind !== 'char') out.push(spans.get(i) ?? [v, v]);
  });
  return out;
}
