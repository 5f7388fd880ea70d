import type { Reader } from '../lexer/reader.js';
import { expectNoArguments } from './no-arguments.js';

export interface StartTlsRequest {
  command: 'STARTTLS';
}

export function parseStartTls(r: Reader): StartTlsRequest {
  expectNoArguments(r, 'STARTTLS');
  return { command: 'STARTTLS' };
}
