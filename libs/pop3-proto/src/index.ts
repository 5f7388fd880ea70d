export { parseCommand } from './command.js';
export type { ParseResult, Pop3Command, Pop3CommandName } from './command.js';
export { CRLF, TERMINATOR, continuationReply, errReply, multilineReply, okReply } from './reply.js';
export type { ResponseCode } from './reply.js';
export { MessageEncoder, countWireOctets } from './message-encoder.js';
export type { MessageEncoderOptions } from './message-encoder.js';
export { LineReader } from './line-reader.js';
export type { InputLine } from './line-reader.js';
