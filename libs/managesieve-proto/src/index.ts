export { WireReader } from './reader.js';
export type { ReaderDirection, ReaderLimits, Token, WireLine } from './reader.js';
export { checkScriptName, decodeUtf8, MAX_SCRIPT_NAME_CHARS, parseCommand } from './command.js';
export type { CommandName, ManageSieveCommand, ParsedCommand } from './command.js';
export {
  byeResponse,
  capabilityLines,
  dataLine,
  encodeString,
  MAX_QUOTED_BYTES,
  noResponse,
  okResponse,
  scriptContent,
  scriptListLines,
  statusResponse,
} from './response.js';
export type { ResponseCode, ResponseStatus } from './response.js';
export {
  capabilitiesOf,
  encodeClientString,
  encodeCommand,
  parseServerLine,
  ResponseCollector,
  scriptListOf,
} from './client.js';
export type { DataItem, ManageSieveResponse, ServerLine } from './client.js';
