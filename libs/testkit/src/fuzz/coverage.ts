import { Session } from 'node:inspector';

interface CoverageRange {
  startOffset: number;
  endOffset: number;
  count: number;
}
interface ScriptCoverage {
  scriptId: string;
  url: string;
  functions: { ranges: CoverageRange[] }[];
}

/**
 * Coverage feedback from V8's own block coverage (the inspector's Profiler domain), so the fuzzer
 * needs no instrumenting build step and no native addon. A feature is a block range of the watched
 * modules together with a power-of-two bucket of its hit count, as AFL counts edges;
 * takePreciseCoverage resets the counters, so each call reports what one input did.
 */
/** Hit counts in power-of-two buckets (0, 1, 2-3, 4-7, ... 128+): loops that run longer are new. */
function bucket(count: number): number {
  return count === 0 ? 0 : Math.min(9, 1 + Math.floor(Math.log2(count)));
}

export class BlockCoverage {
  private readonly session = new Session();

  constructor(private readonly watched: string[]) {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  /** The features hit since the last call. */
  take(): string[] {
    const { result } = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    const features: string[] = [];
    for (const script of result) {
      if (!this.watched.some((path) => script.url.includes(path))) continue;
      for (const fn of script.functions) {
        // V8 reports a nested block only where its count differs from the enclosing one (a branch not
        // taken shows as a count-0 range), so every range of a function that ran is part of the shape.
        if (fn.ranges[0]!.count === 0) continue;
        for (const range of fn.ranges) {
          features.push(`${script.scriptId}:${range.startOffset}:${range.endOffset}:${bucket(range.count)}`);
        }
      }
    }
    return features;
  }

  close(): void {
    this.session.disconnect();
  }

  // The inspector answers a session on its own thread synchronously, inside post().
  private post(method: string, params?: object): unknown {
    let answer: unknown;
    let failure: Error | null = null;
    this.session.post(method, params, (error, result) => {
      failure = error;
      answer = result;
    });
    if (failure) throw failure;
    return answer;
  }
}
