import { readAtom } from '../lexer/atom.js';
import type { Reader } from '../lexer/reader.js';

export interface AuthenticateRequest {
  command: 'AUTHENTICATE';
  /** Uppercased SASL mechanism name, e.g. PLAIN. */
  mechanism: string;
  /**
   * SASL-IR (RFC 4959) initial response as sent ("=" for an empty one), null when none was sent. It is
   * decoded by @correo/auth with every other SASL line, so IMAP, POP3 and ManageSieve read SASL alike.
   */
  initialResponse: string | null;
}

export function parseAuthenticate(r: Reader): AuthenticateRequest {
  r.sp('AUTHENTICATE');
  const mechanism = readAtom(r, 'a SASL mechanism').toUpperCase();
  let initialResponse: string | null = null;
  if (r.trySp()) {
    initialResponse = r.bytes.subarray(r.pos).toString('latin1');
    r.pos = r.bytes.length;
  }
  r.expectEnd('AUTHENTICATE');
  return { command: 'AUTHENTICATE', mechanism, initialResponse };
}
