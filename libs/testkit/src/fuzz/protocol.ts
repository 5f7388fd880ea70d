/** What the fuzz worker tells the runner (worker.ts -> runner.ts). */

/** Int32 slots at the start of the shared buffer; the current input's bytes follow them. */
export const SLOT_EXECUTIONS = 0;
export const SLOT_INPUT_LENGTH = 1;
export const HEADER_BYTES = 8;

export type FindingKind = 'crash' | 'hang' | 'out-of-memory' | 'allocation';

export interface WorkerStats {
  /** Inputs run, seeds included. */
  executions: number;
  seeds: number;
  /** Seeds plus every mutated input that reached a new coverage feature. */
  corpusSize: number;
  features: number;
  maxMsPerInput: number;
  /** The largest heap growth one input caused, and the largest per byte of its input. */
  maxHeapGrowthBytes: number;
  maxHeapGrowthPerInputByte: number;
}

export interface WorkerSettings {
  targetUrl: string;
  seedsDir: string;
  /** Mutated inputs that found new coverage are written here (one file each); unset: kept in memory. */
  saveDir: string | undefined;
  executions: number;
  seconds: number;
  seed: number;
}

export type WorkerMessage =
  | { type: 'ready'; shared: SharedArrayBuffer }
  | { type: 'finding'; kind: FindingKind; message: string; input: Uint8Array }
  | { type: 'done'; stats: WorkerStats };
