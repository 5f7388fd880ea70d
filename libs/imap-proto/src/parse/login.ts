import type { Reader } from '../lexer/reader.js';
import { readAstringText } from '../lexer/string.js';

export interface LoginRequest {
  command: 'LOGIN';
  username: string;
  password: string;
}

export function parseLogin(r: Reader): LoginRequest {
  r.sp('LOGIN');
  const username = readAstringText(r, 'a user name');
  r.sp('the user name');
  const password = readAstringText(r, 'a password');
  r.expectEnd('LOGIN');
  return { command: 'LOGIN', username, password };
}
