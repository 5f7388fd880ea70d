import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { BlockCoverage } from './coverage.js';
import { Mutator } from './mutator.js';
import {
  HEADER_BYTES,
  SLOT_EXECUTIONS,
  SLOT_INPUT_LENGTH,
  type WorkerMessage,
  type WorkerSettings,
  type WorkerStats,
} from './protocol.js';
import { Random } from './random.js';
import type { FuzzTarget } from './target.js';

// One fuzz target in its own thread: the runner watches it from outside, so an input that spins
// forever or exhausts the heap is caught and named instead of freezing or killing the test run.

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const settings = workerData as WorkerSettings;
const port = parentPort!;
const send = (message: WorkerMessage) => port.postMessage(message);

const target = ((await import(settings.targetUrl)) as { default: FuzzTarget }).default;
const maxBytes = target.maxInputBytes ?? 64 * 1024;
const allocation = target.allocation ?? { floorBytes: 16 * 1024 * 1024, perInputByte: 64 };

const seeds = readdirSync(settings.seedsDir)
  .sort()
  .map((name) => readFileSync(join(settings.seedsDir, name)));
if (seeds.length === 0) throw new Error(`no seeds in ${settings.seedsDir}`);

const largest = Math.max(maxBytes, ...seeds.map((seed) => seed.length));
const shared = new SharedArrayBuffer(HEADER_BYTES + largest);
const slots = new Int32Array(shared, 0, HEADER_BYTES / 4);
const current = new Uint8Array(shared, HEADER_BYTES);
send({ type: 'ready', shared });

const heapNow = () => {
  const heap = getHeapStatistics();
  return heap.used_heap_size + heap.external_memory;
};

const stats: WorkerStats = {
  executions: 0,
  seeds: seeds.length,
  corpusSize: 0,
  features: 0,
  maxMsPerInput: 0,
  maxHeapGrowthBytes: 0,
  maxHeapGrowthPerInputByte: 0,
};

/** Runs one input; returns false when it produced a finding (already reported). */
async function execute(input: Buffer): Promise<boolean> {
  current.set(input);
  Atomics.store(slots, SLOT_INPUT_LENGTH, input.length);
  Atomics.add(slots, SLOT_EXECUTIONS, 1);
  stats.executions++;
  const before = heapNow();
  const started = performance.now();
  try {
    await target.run(input);
  } catch (error) {
    send({ type: 'finding', kind: 'crash', message: describe(error), input });
    return false;
  }
  stats.maxMsPerInput = Math.max(stats.maxMsPerInput, performance.now() - started);
  let grown = heapNow() - before;
  const bound = allocation.floorBytes + allocation.perInputByte * input.length;
  if (grown > bound) {
    // Garbage of earlier inputs may have been counted: measure again from a collected heap.
    gc();
    const again = heapNow();
    await target.run(input);
    grown = heapNow() - again;
    if (grown > bound) {
      const message = `heap grew ${grown} bytes for a ${input.length}-byte input (bound ${bound})`;
      send({ type: 'finding', kind: 'allocation', message, input });
      return false;
    }
  }
  stats.maxHeapGrowthBytes = Math.max(stats.maxHeapGrowthBytes, grown);
  if (input.length > 0) {
    stats.maxHeapGrowthPerInputByte = Math.max(stats.maxHeapGrowthPerInputByte, grown / input.length);
  }
  return true;
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

const coverage = new BlockCoverage(target.coverage);
coverage.take();
const seen = new Set<string>();
const learn = (): boolean => {
  let fresh = false;
  for (const feature of coverage.take()) {
    if (!seen.has(feature)) {
      seen.add(feature);
      fresh = true;
    }
  }
  return fresh;
};

/** Seeds first (all kept), then mutations of the corpus until the budget ends or a finding. */
async function fuzz(): Promise<void> {
  const corpus: Buffer[] = [];
  for (const seed of seeds) {
    if (!(await execute(seed))) return;
    learn();
    corpus.push(seed);
    stats.corpusSize = corpus.length;
  }
  const random = new Random(settings.seed);
  const mutator = new Mutator(random, target.dictionary ?? [], maxBytes);
  const deadline = settings.seconds > 0 ? Date.now() + settings.seconds * 1000 : Infinity;
  const limit = settings.executions > 0 ? settings.executions : settings.seconds > 0 ? Infinity : 0;
  if (settings.saveDir) mkdirSync(settings.saveDir, { recursive: true });
  for (let i = 0; i < limit && Date.now() < deadline; i++) {
    const input = mutator.mutate(random.pick(corpus), random.pick(corpus));
    if (!(await execute(input))) return;
    if (learn()) {
      corpus.push(input);
      stats.corpusSize = corpus.length;
      if (settings.saveDir) {
        const name = createHash('sha1').update(input).digest('hex').slice(0, 16);
        writeFileSync(join(settings.saveDir, name), input);
      }
    }
  }
}

await fuzz();
stats.features = seen.size;
coverage.close();
send({ type: 'done', stats });
