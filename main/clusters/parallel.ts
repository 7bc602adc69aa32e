/** Bounded fan-out for cluster operations (and, re-exported, the abortable sleep of main/util.ts). */

/** How one item of a bounded fan-out ended. */
export type Settled<R> =
  { readonly status: 'done'; readonly value: R } | { readonly status: 'failed'; readonly error: unknown } | { readonly status: 'skipped' };

/**
 * Runs `fn` over `items` with at most `limit` in flight. Never rejects: every item settles, so the caller can record
 * what each one did. Once `signal` aborts, items not yet begun are `skipped`; items in flight run to their end (they
 * check the signal between their own steps), so nothing that was created goes unrecorded.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal,
  fn: (item: T, index: number) => Promise<R>,
): Promise<Settled<R>[]> {
  const out: Settled<R>[] = new Array<Settled<R>>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      if (signal.aborted) {
        out[i] = { status: 'skipped' };
        continue;
      }
      try {
        out[i] = { status: 'done', value: await fn(items[i]!, i) };
      } catch (error) {
        out[i] = { status: 'failed', error };
      }
    }
  };
  const width = Math.max(1, Math.min(Math.floor(limit) || 1, items.length));
  await Promise.all(Array.from({ length: width }, worker));
  return out;
}

/** The abortable sleep lives in main/util.ts (one home); re-exported for the cluster operations that import it here. */
export { sleep } from '../util';
