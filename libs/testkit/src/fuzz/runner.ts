import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  HEADER_BYTES,
  SLOT_EXECUTIONS,
  SLOT_INPUT_LENGTH,
  type FindingKind,
  type WorkerMessage,
  type WorkerSettings,
  type WorkerStats,
} from './protocol.js';

export interface FuzzRunOptions {
  /** The target module, `<package>/test/fuzz/<name>.fuzz.ts`. */
  target: URL;
  /** Mutated inputs to run after the seeds (the bounded run of `make test`). */
  executions?: number;
  /** Or a time budget (the longer run of `make fuzz`); whichever ends first. */
  seconds?: number;
  /** The generator's seed: the same seed makes the same choices for the same coverage. */
  seed?: number;
  /**
   * One input running longer than this is a hang. Generous on purpose: it is a liveness check that
   * tells a stuck parser from a slow machine, not a measure of speed.
   */
  hangMs?: number;
  /** The worker's heap; exhausting it is an out-of-memory finding. */
  heapLimitMb?: number;
  /** Where new corpus entries and finding inputs are written (`make fuzz`: .fuzz/). */
  saveDir?: string;
}

export interface FuzzFinding {
  kind: FindingKind;
  message: string;
  input: Buffer;
  /** The file the input was written to, when saveDir was given. */
  savedAs?: string;
}

export interface FuzzReport extends WorkerStats {
  name: string;
  seconds: number;
  findings: FuzzFinding[];
}

/** `<dir>/corpus/<name>/` next to `<dir>/<name>.fuzz.ts`. */
export function seedsDirOf(target: URL): string {
  const file = fileURLToPath(target);
  return join(dirname(file), 'corpus', targetName(target));
}

export function targetName(target: URL): string {
  return basename(fileURLToPath(target)).replace(/\.fuzz\.ts$/, '');
}

/**
 * Runs one target in a worker thread under a watchdog: the worker publishes each input before it
 * runs it, so when the worker stops making progress (hang) or dies (heap exhausted) the runner still
 * knows which input did it.
 */
export async function runFuzz(options: FuzzRunOptions): Promise<FuzzReport> {
  const name = targetName(options.target);
  const hangMs = options.hangMs ?? 20_000;
  const settings: WorkerSettings = {
    targetUrl: options.target.href,
    seedsDir: seedsDirOf(options.target),
    saveDir: options.saveDir ? join(options.saveDir, 'corpus', name) : undefined,
    executions: options.executions ?? 0,
    seconds: options.seconds ?? 0,
    seed: options.seed ?? 1,
  };
  const started = Date.now();
  // Node 20 does not hand the tsx loader of this thread to a worker: the worker registers it itself.
  const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
    .then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./worker.ts', import.meta.url).href)}); })`;
  const worker = new Worker(bootstrap, {
    eval: true,
    workerData: settings,
    resourceLimits: { maxOldGenerationSizeMb: options.heapLimitMb ?? 1024 },
  });
  const findings: FuzzFinding[] = [];
  let stats: WorkerStats | null = null;
  let shared: SharedArrayBuffer | null = null;

  const currentInput = (): Buffer => {
    if (!shared) return Buffer.alloc(0);
    const length = Atomics.load(new Int32Array(shared, 0, HEADER_BYTES / 4), SLOT_INPUT_LENGTH);
    return Buffer.from(new Uint8Array(shared, HEADER_BYTES, length));
  };
  const executions = (): number =>
    shared ? Atomics.load(new Int32Array(shared, 0, HEADER_BYTES / 4), SLOT_EXECUTIONS) : 0;

  await new Promise<void>((resolve) => {
    let lastCount = -1;
    let lastProgress = Date.now();
    let stopping = false;
    const watchdog = setInterval(() => {
      const count = executions();
      if (count !== lastCount) {
        lastCount = count;
        lastProgress = Date.now();
      } else if (shared && !stopping && Date.now() - lastProgress > hangMs) {
        stopping = true;
        findings.push({
          kind: 'hang',
          message: `one input ran longer than ${hangMs} ms`,
          input: currentInput(),
        });
        void worker.terminate();
      }
    }, 100);
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'ready') {
        // The clock starts once the target is loaded: loading (and compiling) it is no input.
        shared = message.shared;
        lastProgress = Date.now();
      } else if (message.type === 'finding') {
        findings.push({ kind: message.kind, message: message.message, input: Buffer.from(message.input) });
      } else stats = message.stats;
    });
    worker.on('error', (error: Error & { code?: string }) => {
      const kind = error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'out-of-memory' : 'crash';
      findings.push({ kind, message: error.stack ?? error.message, input: currentInput() });
    });
    worker.on('exit', () => {
      clearInterval(watchdog);
      resolve();
    });
  });

  if (options.saveDir) {
    const dir = join(options.saveDir, 'findings');
    mkdirSync(dir, { recursive: true });
    for (const finding of findings) {
      const hash = createHash('sha1').update(finding.input).digest('hex').slice(0, 16);
      finding.savedAs = join(dir, `${name}-${finding.kind}-${hash}`);
      writeFileSync(finding.savedAs, finding.input);
    }
  }
  const partial: WorkerStats = {
    executions: executions(),
    seeds: 0,
    corpusSize: 0,
    features: 0,
    maxMsPerInput: 0,
    maxHeapGrowthBytes: 0,
    maxHeapGrowthPerInputByte: 0,
  };
  return { name, seconds: (Date.now() - started) / 1000, findings, ...(stats ?? partial) };
}

/** A finding as a test failure message: what happened and the input, to add to the corpus. */
export function describeFindings(report: FuzzReport): string {
  return report.findings
    .map((finding) => {
      const input = finding.input.subarray(0, 4096).toString('base64');
      const where = finding.savedAs ? ` (saved as ${finding.savedAs})` : '';
      return `${report.name}: ${finding.kind}${where}\n${finding.message}\ninput (base64): ${input}`;
    })
    .join('\n\n');
}
