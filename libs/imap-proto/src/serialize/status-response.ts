import type { ParseError } from '../errors.js';
import { responseText } from './encoder.js';
import type { ResponseCode } from './response-code.js';
import { formatResponseCode } from './response-code.js';

export type CompletionStatus = 'OK' | 'NO' | 'BAD';
export type UntaggedStatus = CompletionStatus | 'BYE' | 'PREAUTH';

function statusLine(
  prefix: string,
  status: string,
  text: string,
  code: ResponseCode | null | undefined,
): Buffer {
  const codeText = code ? formatResponseCode(code) : '';
  return Buffer.from(`${prefix} ${status} ${codeText}${responseText(text) || status}\r\n`);
}

/** "<tag> OK|NO|BAD [CODE] text": the completion of a command. */
export function taggedResponse(
  tag: string,
  status: CompletionStatus,
  text: string,
  code?: ResponseCode | null,
): Buffer {
  return statusLine(tag, status, text, code);
}

/** "* OK|NO|BAD|BYE|PREAUTH [CODE] text". */
export function untaggedStatus(status: UntaggedStatus, text: string, code?: ResponseCode | null): Buffer {
  return statusLine('*', status, text, code);
}

/** "+ text": ready for a literal, or in IDLE. */
export function continuation(text = 'Ready'): Buffer {
  return Buffer.from(`+ ${responseText(text)}\r\n`);
}

/** "+ base64": a SASL challenge ("+ " alone for an empty one). */
export function saslChallenge(challenge: Buffer): Buffer {
  return Buffer.from(`+ ${challenge.toString('base64')}\r\n`);
}

/** Charsets SEARCH accepts; named in NO [BADCHARSET (...)]. */
export const SEARCH_CHARSETS = ['US-ASCII', 'UTF-8'];

/**
 * The answer to a command that failed to parse or frame: `<tag> BAD [TOOBIG] text`, `* BAD text` when no
 * tag could be read, `<tag> NO [BADCHARSET (US-ASCII UTF-8)] text` for an unsupported SEARCH charset,
 * or `<tag> NO [LIMIT] text` when the server has no room for the command now.
 */
export function errorResponse(error: ParseError): Buffer {
  if (error.code === 'BADCHARSET' && error.tag !== null) {
    return taggedResponse(error.tag, 'NO', error.message, { code: 'BADCHARSET', charsets: SEARCH_CHARSETS });
  }
  if (
    (error.code === 'LIMIT' || error.code === 'NONEXISTENT' || error.code === 'CANNOT') &&
    error.tag !== null
  ) {
    return taggedResponse(error.tag, 'NO', error.message, { code: error.code });
  }
  const code: ResponseCode | null =
    error.code === 'TOOBIG' || error.code === 'LIMIT' ? { code: error.code } : null;
  return error.tag === null
    ? untaggedStatus('BAD', error.message, code)
    : taggedResponse(error.tag, 'BAD', error.message, code);
}
