/**
 * Small helpers with one home each, at the bottom of main/ (the state engine, the domains and the app all use them;
 * they import nothing of ours but the error type).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { cancelledError } from './errors';

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
