/** One resinfo of an Authentication-Results header (RFC 8601), as MailAccepted carries it. */
export interface AuthenticationResultEntry {
  /** spf, dkim, dmarc, arc */
  method: string;
  /** pass, fail, softfail, neutral, none, temperror, permerror, policy */
  result: string;
  /** The comment mailauth wrote, '' when none. */
  reason: string;
  /** ptype.property -> value: smtp.mailfrom, header.d, header.from, policy.dmarc, ... */
  properties: Record<string, string>;
}

// mailauth's resinfo text is already RFC 8601 syntax with escaped comments and quoted values; these only
// guard what becomes a header line of ours against line breaks and overlong lines.
const FOLD_AT = 100;

/** `Authentication-Results: <authserv-id>;` then one resinfo per line, folded at spaces, with its CRLF. */
export function authenticationResultsHeader(authservId: string, resinfos: string[]): string {
  const lines = resinfos.map((resinfo) => fold(resinfo.replace(/[\r\n]+/g, ' ').trim()));
  const body = lines.length > 0 ? lines.join(';\r\n\t') : 'none';
  return `Authentication-Results: ${authservId};\r\n\t${body}\r\n`;
}

/** Folding puts CRLF before an existing space, so unfolding gives back the same text (RFC 5322 2.2.3). */
function fold(text: string): string {
  const words = text.split(' ');
  let line = '';
  const lines: string[] = [];
  for (const word of words) {
    if (line !== '' && line.length + 1 + word.length > FOLD_AT) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.join('\r\n ');
}

/**
 * RFC 8601 section 5: a border MTA removes Authentication-Results fields that claim its own authserv-id,
 * so nothing downstream (mda rules, webmail) trusts results a sender forged. The same for
 * ARC-Authentication-Results (RFC 8617 4.1.1: `i=<n>;` then the authserv-id): we seal no ARC set, so one
 * naming us is forged too. Runs on every listener whatever the sender checks do. `headerBlock` is latin1
 * text with CRLF line ends; fields of other authserv-ids stay. X-Correo-Sender-Checks is ours alone
 * (session-checks.ts): any copy the client sent goes.
 */
export function withoutForgedAuthenticationResults(headerBlock: string, authservId: string): string {
  const fields = headerBlock.match(/[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*/g) ?? [];
  const consumed = fields.join('').length;
  const id = authservId.toLowerCase();
  const kept = fields.filter((field) => {
    if (/^x-correo-sender-checks[ \t]*:/i.test(field)) return false;
    const plain = /^authentication-results[ \t]*:([\s\S]*)$/i.exec(field);
    if (plain) return claimedAuthservId(plain[1]!) !== id;
    const arc = /^arc-authentication-results[ \t]*:([\s\S]*)$/i.exec(field);
    if (arc) return claimedAuthservId(withoutInstance(arc[1]!)) !== id;
    return true;
  });
  return kept.join('') + headerBlock.slice(consumed);
}

/** ARC-Authentication-Results starts with the instance tag `i=<n>;` before the authserv-id. */
function withoutInstance(value: string): string {
  const text = skipComments(value.replace(/\r\n/g, ''));
  const match = /^i[ \t]*=[ \t]*[0-9]+[ \t]*;/i.exec(text);
  return match ? text.slice(match[0].length) : text;
}

/** The authserv-id a field's value starts with (after folding white space and comments), lowercased. */
function claimedAuthservId(value: string): string {
  const text = skipComments(value.replace(/\r\n/g, ''));
  return (/^[^\s;()]+/.exec(text)?.[0] ?? '').toLowerCase();
}

function skipComments(value: string): string {
  let text = value.trimStart();
  while (text.startsWith('(')) {
    const close = text.indexOf(')');
    if (close === -1) break;
    text = text.slice(close + 1).trimStart();
  }
  return text;
}
