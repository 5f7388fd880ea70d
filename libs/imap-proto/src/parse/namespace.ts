import type { Reader } from '../lexer/reader.js';
import { expectNoArguments } from './no-arguments.js';

export interface NamespaceRequest {
  command: 'NAMESPACE';
}

export function parseNamespace(r: Reader): NamespaceRequest {
  expectNoArguments(r, 'NAMESPACE');
  return { command: 'NAMESPACE' };
}
