import type { Reader } from '../lexer/reader.js';
import type { CopyRequest } from './copy.js';
import { parseCopy } from './copy.js';

export type MoveRequest = CopyRequest & { command: 'MOVE' };

export function parseMove(r: Reader, uid: boolean): MoveRequest {
  return parseCopy(r, 'MOVE', uid) as MoveRequest;
}
