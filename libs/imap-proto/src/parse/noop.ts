import type { Reader } from '../lexer/reader.js';
import { expectNoArguments } from './no-arguments.js';

export interface NoopRequest {
  command: 'NOOP';
}

export function parseNoop(r: Reader): NoopRequest {
  expectNoArguments(r, 'NOOP');
  return { command: 'NOOP' };
}
