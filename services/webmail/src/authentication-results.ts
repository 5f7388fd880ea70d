import type { AuthenticationSummary } from './api-types.js';

export type { AuthenticationSummary } from './api-types.js';

const METHODS = ['spf', 'dkim', 'dmarc'] as const;

/**
 * SPF/DKIM/DMARC as our own MX judged them, from the Authentication-Results field (RFC 8601) it
 * added. Only a field naming our authserv-id counts: anybody can write such a field into a message,
 * and smtp-ingress removes every one claiming our id before adding its own (docs/security.md,
 * "Forged Authentication-Results"), so what is left with our id is ours. Fields of other hosts are
 * not evidence of anything and are ignored. Null when there is no field of ours (e.g. mail appended
 * over IMAP, or sent by the user through submission).
 */
export function authenticationSummary(
  headerLines: readonly { key: string; line: string }[],
  authservId: string | undefined,
): AuthenticationSummary | null {
  if (!authservId) return null;
  const ours = authservId.toLowerCase();
  // The topmost field is the one our MX added last (it prepends its field to the header).
  for (const { key, line } of headerLines) {
    if (key !== 'authentication-results') continue;
    const value = withoutComments(line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' '));
    const [id = '', ...resinfos] = value.split(';').map((part) => part.trim());
    if (id.split(/\s+/)[0]?.toLowerCase() !== ours) continue;
    const summary: AuthenticationSummary = { spf: null, dkim: null, dmarc: null };
    for (const resinfo of resinfos) {
      const match = /^([a-z0-9-]+)\s*=\s*([a-z]+)/i.exec(resinfo);
      if (!match) continue;
      const method = match[1]!.toLowerCase() as (typeof METHODS)[number];
      if (!METHODS.includes(method)) continue;
      const result = match[2]!.toLowerCase();
      // Several DKIM signatures: one pass is a pass (the summary says whether any signature held).
      if (summary[method] === null || result === 'pass') summary[method] = result;
    }
    return summary;
  }
  return null;
}

/** RFC 8601 allows comments anywhere (CFWS); none of them changes a result, so they go. */
function withoutComments(value: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const char = value[i]!;
    if (char === '\\' && (quoted || depth > 0)) {
      if (depth === 0) out += char + (value[i + 1] ?? '');
      i++;
    } else if (char === '"' && depth === 0) {
      quoted = !quoted;
      out += char;
    } else if (char === '(' && !quoted) depth++;
    else if (char === ')' && !quoted && depth > 0) depth--;
    else if (depth === 0) out += char;
  }
  return out;
}
