/**
 * Small helpers with one home each, at the bottom of main/ (the state engine, the domains and the app all use them;
 * they import nothing of ours but the error type).
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { ErrorData } from '../preload/contract';
import { cancelledError, toErrorData } from './errors';

/** Waits `ms` without blocking the event loop; resolves false (instead of throwing) when `signal` aborts first. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
    return true;
  } catch {
    return false;
  }
}

/** `sleep`, but a cancellation throws the `cancelled` AppError (for loops that must stop at once). */
export async function sleepOrCancel(ms: number, signal: AbortSignal): Promise<void> {
  if (!(await sleep(ms, signal))) throw cancelledError();
}

/**
 * Does a process with this id exist on this host? (`kill(pid, 0)`.) Only ESRCH says no: EPERM means it exists but
 * is someone else's, and anything else is not proof of death (a lock must never be broken on a guess).
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Is this process still running? `pidAlive`, except that a zombie (exited, not yet reaped: it answers kill(pid, 0))
 * counts as gone. Linux tells through /proc; elsewhere a process that answers is assumed to run.
 */
export async function processRunning(pid: number): Promise<boolean> {
  if (!pidAlive(pid)) return false;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true;
  }
}

/**
 * How one item of a bounded fan-out ended: its value, or its error as data. An item never begun because the signal
 * aborted first settles as `cancelled` with `skipped: true` (an item that began and then failed has no `skipped`).
 */
export type Settled<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: ErrorData; readonly skipped?: true };

/** How many calls a fan-out runs at once unless told otherwise. */
export const DEFAULT_CONCURRENCY = 8;

/**
 * Runs `fn` over `items` with at most `concurrency` calls in flight; one settled result per item, in input order.
 * Never rejects: every item settles, so the caller can record what each one did. Once `signal` aborts, items not yet
 * begun settle as skipped; items in flight run to their end (they check the signal between their own steps), so
 * nothing that was created goes unrecorded.
 */
export async function mapSettled<I, R>(
  items: readonly I[],
  fn: (item: I, index: number, signal: AbortSignal) => Promise<R>,
  opts: { readonly concurrency?: number; readonly signal?: AbortSignal } = {},
): Promise<Settled<R>[]> {
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? DEFAULT_CONCURRENCY) || 1);
  const signal = opts.signal ?? new AbortController().signal;
  const results: Settled<R>[] = new Array<Settled<R>>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      if (signal.aborted) {
        results[i] = { ok: false, error: cancelledError().toData(), skipped: true };
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
