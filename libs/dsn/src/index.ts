export { buildDsn } from './report.js';
export type { DsnInput } from './report.js';
export { deliveryStatusBody, rfc5322Date } from './delivery-status.js';
export type { DeliveryStatusFields, DsnAction, DsnRecipient } from './delivery-status.js';
export { headerSection, headerValue } from './original-headers.js';
export { parseDsn } from './parse.js';
export type { ParsedReport } from './parse.js';
export { buildRejectionNotice, buildVacationReply } from './auto-reply.js';
export type { AutoReplyInput, RejectionNoticeInput, VacationReplyInput } from './auto-reply.js';
