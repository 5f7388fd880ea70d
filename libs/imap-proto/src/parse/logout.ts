import type { Reader } from '../lexer/reader.js';
import { expectNoArguments } from './no-arguments.js';

export interface LogoutRequest {
  command: 'LOGOUT';
}

export function parseLogout(r: Reader): LogoutRequest {
  expectNoArguments(r, 'LOGOUT');
  return { command: 'LOGOUT' };
}
