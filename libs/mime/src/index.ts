export { analyzeMessage, MessageAnalyzer } from './analyze.js';
export { findPart, sectionRange, parseSectionPath } from './sections.js';
export { PREVIEW_MAX_CHARS, PREVIEW_READ_OCTETS, previewPart, previewText } from './preview.js';
export { transferDecoder, transferDecoding } from './transfer-decoder.js';
export type { TransferDecoding } from './transfer-decoder.js';
export type { ByteRange, SectionText } from './sections.js';
export { addressListText, authorAddresses, decodedAddressList, decodeHeaderText } from './address.js';
export {
  STORED_SHAPE_VERSION,
  StoredShapeError,
  readStoredBodyStructure,
  readStoredEnvelope,
  storedBodyStructure,
  storedEnvelope,
} from './stored.js';
export type { StoredBodyStructure, StoredEnvelope } from './stored.js';
export type {
  AddressEntry,
  AnalyzeOptions,
  AttachmentInfo,
  BasicBody,
  BodyStructure,
  ContentDisposition,
  DecodedHeaders,
  Envelope,
  ImapAddress,
  MessageAnalysis,
  MessageBody,
  MultipartBody,
  PartOffsets,
  RawHeaders,
  TextBody,
} from './types.js';
export { messageSummary, type MessageSummary } from './summary.js';
export {
  decodeSummaryWire,
  encodeSummaryWire,
  SUMMARY_WIRE_MAX_BYTES,
  SUMMARY_WIRE_VERSION,
} from './summary-wire.js';
export { baseSubject, sortKeys, type SortKeySource, type SortKeys } from './sort-keys.js';
