/**
 * The server's side of RFC 5804's responses: status lines with response codes, and the data lines of
 * CAPABILITY, LISTSCRIPTS, GETSCRIPT and SASL challenges. Everything is returned as wire text or
 * octets; nothing is written here.
 */

export type ResponseStatus = 'OK' | 'NO' | 'BYE';

/**
 * A response code (RFC 5804 1.3): an atom such as `NONEXISTENT` or `QUOTA/MAXSIZE`, with the string
 * argument some carry (`TAG`, `SASL`, `REFERRAL`).
 */
export interface ResponseCode {
  name: string;
  args?: readonly string[];
}

/** Longer strings (and any with CR, LF or NUL) go as literals, as RFC 5804 4 advises for quoted. */
export const MAX_QUOTED_BYTES = 1024;

function quotable(bytes: Buffer): boolean {
  return (
    bytes.length <= MAX_QUOTED_BYTES && !bytes.includes(0x0d) && !bytes.includes(0x0a) && !bytes.includes(0)
  );
}

/**
 * A string as the server sends it: quoted (with `"` and `\` escaped) when it can be, else a
 * literal-s2c `{n}` CRLF octets.
 */
export function encodeString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (quotable(bytes)) return Buffer.from(`"${bytes.toString('utf8').replace(/["\\]/g, '\\$&')}"`, 'utf8');
  return Buffer.concat([Buffer.from(`{${bytes.length}}\r\n`), bytes]);
}

function encodeCode(code: ResponseCode): Buffer {
  const parts: Buffer[] = [Buffer.from(`(${code.name}`)];
  for (const arg of code.args ?? []) parts.push(Buffer.from(' '), encodeString(arg));
  parts.push(Buffer.from(')'));
  return Buffer.concat(parts);
}

/** `OK|NO|BYE [(CODE ...)] ["text"]` CRLF. */
export function statusResponse(status: ResponseStatus, text?: string, code?: ResponseCode): Buffer {
  const parts: Buffer[] = [Buffer.from(status)];
  if (code) parts.push(Buffer.from(' '), encodeCode(code));
  if (text !== undefined) parts.push(Buffer.from(' '), encodeString(text));
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

export const okResponse = (text?: string, code?: ResponseCode): Buffer => statusResponse('OK', text, code);
export const noResponse = (text?: string, code?: ResponseCode): Buffer => statusResponse('NO', text, code);
export const byeResponse = (text?: string, code?: ResponseCode): Buffer => statusResponse('BYE', text, code);

/** One data line of strings (a capability, a SASL challenge). */
export function dataLine(...values: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [];
  values.forEach((value, i) => {
    if (i > 0) parts.push(Buffer.from(' '));
    parts.push(encodeString(value));
  });
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

/** CAPABILITY's lines (and the greeting's), without the final OK: `"NAME" ["value"]` each. */
export function capabilityLines(capabilities: readonly (readonly [string, string?])[]): Buffer {
  return Buffer.concat(
    capabilities.map(([name, value]) => (value === undefined ? dataLine(name) : dataLine(name, value))),
  );
}

/** LISTSCRIPTS' lines, without the final OK: `"name"` or `"name" ACTIVE`. */
export function scriptListLines(scripts: readonly { name: string; active: boolean }[]): Buffer {
  return Buffer.concat(
    scripts.map((s) => Buffer.concat([encodeString(s.name), Buffer.from(s.active ? ' ACTIVE\r\n' : '\r\n')])),
  );
}

/** GETSCRIPT's data, without the final OK: always a literal (scripts have line ends). */
export function scriptContent(content: string): Buffer {
  const bytes = Buffer.from(content, 'utf8');
  return Buffer.concat([Buffer.from(`{${bytes.length}}\r\n`), bytes, Buffer.from('\r\n')]);
}
