/** RFC 4790 comparators the base spec requires (RFC 5228 2.7.3). */
export type Comparator = 'i;octet' | 'i;ascii-casemap';
export type MatchType = 'is' | 'contains' | 'matches';

/** i;ascii-casemap folds ASCII letters only, never other scripts. */
function fold(value: string, comparator: Comparator): string {
  return comparator === 'i;ascii-casemap' ? value.replace(/[A-Z]+/g, (s) => s.toLowerCase()) : value;
}

export function matches(value: string, key: string, type: MatchType, comparator: Comparator): boolean {
  const v = fold(value, comparator);
  const k = fold(key, comparator);
  if (type === 'is') return v === k;
  if (type === 'contains') return v.includes(k);
  // Both base comparators work on octets (RFC 4790 9.2, 9.3), so "?" is one octet of the UTF-8
  // text, as in Pigeonhole: "p??te" matches "pâte". latin1 maps each octet to one code unit.
  const octets = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');
  return wildcard(Array.from(octets(v)), parsePattern(octets(k)));
}

type Piece = { kind: 'star' } | { kind: 'one' } | { kind: 'char'; char: string };

/** `*` any run, `?` one character, `\` quotes the next character (RFC 5228 2.7.1). */
function parsePattern(pattern: string): Piece[] {
  const pieces: Piece[] = [];
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') {
      if (pieces.at(-1)?.kind !== 'star') pieces.push({ kind: 'star' });
    } else if (c === '?') pieces.push({ kind: 'one' });
    else if (c === '\\' && i + 1 < chars.length) pieces.push({ kind: 'char', char: chars[++i]! });
    else pieces.push({ kind: 'char', char: c });
  }
  return pieces;
}

/**
 * Glob match by the greedy backtrack-to-last-star walk: O(value x pattern) at worst, never the
 * exponential blow-up a translated RegExp can hit on a hostile `*a*a*a*...` script.
 */
function wildcard(value: string[], pattern: Piece[]): boolean {
  let v = 0;
  let p = 0;
  let starP = -1;
  let starV = 0;
  while (v < value.length) {
    const piece = pattern[p];
    if (piece && (piece.kind === 'one' || (piece.kind === 'char' && piece.char === value[v]))) {
      v++;
      p++;
    } else if (piece?.kind === 'star') {
      starP = p++;
      starV = v;
    } else if (starP >= 0) {
      p = starP + 1;
      v = ++starV;
    } else return false;
  }
  while (pattern[p]?.kind === 'star') p++;
  return p === pattern.length;
}
