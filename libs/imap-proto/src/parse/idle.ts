import type { Reader } from '../lexer/reader.js';
import { expectNoArguments } from './no-arguments.js';

export interface IdleRequest {
  command: 'IDLE';
}

export function parseIdle(r: Reader): IdleRequest {
  expectNoArguments(r, 'IDLE');
  return { command: 'IDLE' };
}

/**
 * While idling, the client's next line must be DONE (RFC 2177, any case). Takes the line as the
 * receiver hands it over (without CRLF).
 */
export function isIdleDone(line: Buffer): boolean {
  return line.length === 4 && line.toString('latin1').toUpperCase() === 'DONE';
}
