/**
 * POP3 replies as wire text. Status lines are "+OK text" or "-ERR [CODE] text" (RFC 2449 8 response
 * codes); multi-line replies end with a lone "." and dot-stuff every line that begins with ".".
 */

/** RFC 2449 IN-USE and LOGIN-DELAY, RFC 3206 SYS/TEMP, SYS/PERM and AUTH. */
export type ResponseCode = 'IN-USE' | 'LOGIN-DELAY' | 'SYS/TEMP' | 'SYS/PERM' | 'AUTH';

export const CRLF = '\r\n';
export const TERMINATOR = '.\r\n';

/** Free text must never smuggle a line end (and with it a forged reply) into the stream. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

export function okReply(text = ''): string {
  return text === '' ? `+OK${CRLF}` : `+OK ${oneLine(text)}${CRLF}`;
}

export function errReply(text: string, code?: ResponseCode): string {
  return code ? `-ERR [${code}] ${oneLine(text)}${CRLF}` : `-ERR ${oneLine(text)}${CRLF}`;
}

/** A SASL server challenge (RFC 5034 4): "+ " and base64, empty for PLAIN. */
export function continuationReply(base64 = ''): string {
  return `+ ${base64}${CRLF}`;
}

/** "+OK text", then the lines dot-stuffed, then the terminator. */
export function multilineReply(status: string, lines: readonly string[]): string {
  const body = lines.map((line) => {
    const text = oneLine(line);
    return text.startsWith('.') ? `.${text}` : text;
  });
  return okReply(status) + body.map((line) => line + CRLF).join('') + TERMINATOR;
}
