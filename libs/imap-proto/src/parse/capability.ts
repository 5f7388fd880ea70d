import type { Reader } from '../lexer/reader.js';
import { expectNoArguments } from './no-arguments.js';

export interface CapabilityRequest {
  command: 'CAPABILITY';
}

export function parseCapability(r: Reader): CapabilityRequest {
  expectNoArguments(r, 'CAPABILITY');
  return { command: 'CAPABILITY' };
}
