/**
 * BODY[HEADER.FIELDS (...)] and HEADER.FIELDS.NOT: the header block's fields (folded lines kept
 * whole) whose names are (or are not) in `names`, then the blank line, as RFC 9051 6.4.5 asks.
 */
export function filterHeaderFields(header: Buffer, names: readonly string[], exclude: boolean): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const text = header.toString('latin1');
  const lines = text.split(/(?<=\n)/);
  const kept: string[] = [];
  let keeping = false;
  for (const line of lines) {
    if (line === '\r\n' || line === '\n') break;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (keeping) kept.push(line);
      continue;
    }
    const colon = line.indexOf(':');
    const name = (colon >= 0 ? line.slice(0, colon) : line).trim().toLowerCase();
    keeping = wanted.has(name) !== exclude;
    if (keeping) kept.push(line.endsWith('\n') ? line : `${line}\r\n`);
  }
  kept.push('\r\n');
  return Buffer.from(kept.join(''), 'latin1');
}
