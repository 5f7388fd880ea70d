import { ParseError } from '../errors.js';
import { readAtom } from '../lexer/atom.js';
import type { Reader } from '../lexer/reader.js';

export interface AuthenticateRequest {
  command: 'AUTHENTICATE';
  /** Uppercased SASL mechanism name, e.g. PLAIN. */
  mechanism: string;
  /** SASL-IR (RFC 4959) initial response, decoded; an empty Buffer for "=", null when none was sent. */
  initialResponse: Buffer | null;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64(text: string): Buffer | null {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : null;
}

export function parseAuthenticate(r: Reader): AuthenticateRequest {
  r.sp('AUTHENTICATE');
  const mechanism = readAtom(r, 'a SASL mechanism').toUpperCase();
  let initialResponse: Buffer | null = null;
  if (r.trySp()) {
    const text = r.bytes.subarray(r.pos).toString('latin1');
    r.pos = r.bytes.length;
    initialResponse = text === '=' ? Buffer.alloc(0) : decodeBase64(text);
    if (!initialResponse) r.fail('The initial response is not valid base64');
  }
  r.expectEnd('AUTHENTICATE');
  return { command: 'AUTHENTICATE', mechanism, initialResponse };
}

/**
 * One client line answering a "+ " challenge during AUTHENTICATE: decoded bytes, or 'cancel' for "*"
 * (RFC 9051 6.2.2). Throws ParseError for anything that is not base64.
 */
export function parseSaslResponse(line: Buffer): Buffer | 'cancel' {
  const text = line.toString('latin1');
  if (text === '*') return 'cancel';
  const decoded = text === '=' || text === '' ? Buffer.alloc(0) : decodeBase64(text);
  if (!decoded) throw new ParseError('The authentication response is not valid base64');
  return decoded;
}
