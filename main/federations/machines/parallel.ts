/**
 * Bounded fan-out over machines: at most `concurrency` calls at once, one settled result per item in input order.
 * A failing machine never rejects the batch — the federation service reports per-machine outcomes.
 */
import type { ErrorData } from '../../../preload/contract';
import { toErrorData } from '../../errors';

export type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ErrorData };

export const DEFAULT_CONCURRENCY = 8;

/** Runs `fn` over `items` with bounded parallelism; items not started before `signal` aborts settle as `cancelled`. */
export async function mapSettled<I, R>(
  items: readonly I[],
  fn: (item: I, index: number, signal: AbortSignal) => Promise<R>,
  opts: { readonly concurrency?: number; readonly signal?: AbortSignal } = {},
): Promise<Settled<R>[]> {
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? DEFAULT_CONCURRENCY));
  const signal = opts.signal ?? new AbortController().signal;
  const results: Settled<R>[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      if (signal.aborted) {
        results[i] = { ok: false, error: { code: 'cancelled', message: 'The operation was cancelled.' } };
        continue;
      }
      try {
        results[i] = { ok: true, value: await fn(items[i]!, i, signal) };
      } catch (err) {
        results[i] = { ok: false, error: toErrorData(err) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
