export type * from './port.js';
export type { BusLog } from './log.js';
export { decodeDeadLetter, encodeDeadLetter } from './dead-letter.js';
export type { DeadLetter } from './dead-letter.js';
export { createKafkaBus } from './kafka/bus.js';
export type { KafkaBusOptions } from './kafka/bus.js';
export { createPostgresBus } from './postgres/bus.js';
export type { PostgresBusOptions } from './postgres/bus.js';
