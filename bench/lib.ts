/** Shared helpers for benchmarks: repetitions, medians and the JSON line format of docs/architecture.md (Benchmarks). */

export interface BenchLine {
  readonly bench: string;
  readonly case: string;
  readonly ms: number;
  readonly baseline: string;
  readonly baseline_ms: number;
  readonly [extra: string]: unknown;
}

/** Median of the samples. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error('median of no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs `fn` `reps` times (after `warmup` untimed runs) and returns the median wall time in ms. */
export async function timeMedian(fn: () => unknown | Promise<unknown>, reps: number, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

/** Prints one JSON line with the ratio ms / baseline_ms. */
export function report(line: BenchLine): void {
  const round = (n: number) => Math.round(n * 100) / 100;
  const out = { ...line, ms: round(line.ms), baseline_ms: round(line.baseline_ms), ratio: round(line.ms / line.baseline_ms) };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
