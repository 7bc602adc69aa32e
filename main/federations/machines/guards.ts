/**
 * Shared guards for both machine kinds: path sanity for destructive calls, argument checks, and the time bound /
 * cancellation wrapper every call goes through.
 */
import { posix } from 'node:path';
import { AppError, cancelledError } from '../../errors';

/** Top-level folders whose direct children are never removed wholesale (homes, system trees). */
const PROTECTED_PARENTS = new Set([
  '/home',
  '/Users',
  '/root',
  '/usr',
  '/etc',
  '/var',
  '/opt',
  '/bin',
  '/sbin',
  '/lib',
  '/boot',
  '/srv',
  '/mnt',
  '/media',
  '/proc',
  '/sys',
  '/dev',
  '/run',
  '/snap',
  '/nix',
]);

/**
 * Refuses obviously dangerous targets for a recursive removal: relative or unnormalized paths (`..`, `//`, trailing
 * `/`), `/` itself, top-level folders, direct children of system/home trees, and the temp root itself. The service
 * validates paths against its records; this is the machine's last line of defence.
 */
export function assertRemovable(path: string, host: string, tempRoot: string): void {
  const refuse = (why: string): never => {
    throw new AppError('path-refused', `Refusing to remove ${JSON.stringify(path)} on ${host}: ${why}.`, {
      host,
      path,
      hint: 'Only folders Clusterdesk created under the temp root are removed.',
    });
  };
  if (!posix.isAbsolute(path)) refuse('not an absolute path');
  if (posix.normalize(path) !== path || path.endsWith('/')) refuse('not a normalized path');
  if (/[\0\n]/.test(path)) refuse('control characters in the path');
  const parts = path.split('/').filter(Boolean);
  if (parts.length < 2) refuse('a top-level folder');
  if (path === tempRoot) refuse('the temp root itself');
  if (parts.length === 2 && PROTECTED_PARENTS.has(`/${parts[0]}`)) refuse('a system or home folder');
}

/** Checks a path argument is absolute (remote paths are always given in full). */
export function assertAbsolute(path: string, host: string): void {
  if (!posix.isAbsolute(path) || path.includes('\0')) {
    throw new AppError('invalid-argument', `Expected an absolute path on ${host}, got ${JSON.stringify(path)}.`, { host, path });
  }
}

/** A temp-dir prefix: letters, digits, dot, dash, underscore (it becomes part of a path). */
export function assertPrefix(prefix: string, host: string): void {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(prefix)) {
    throw new AppError('invalid-argument', `Invalid temp folder prefix ${JSON.stringify(prefix)}.`, { host });
  }
}

/**
 * Runs `fn` with a signal that aborts when the caller's signal aborts or `timeoutMs` passes. The promise rejects
 * with `cancelled` or `ssh-timeout` (naming `host`) as soon as that happens, even if `fn` ignores its signal;
 * `fn` is expected to release its resources on abort.
 */
export async function bounded<T>(
  host: string,
  what: string,
  opts: { signal?: AbortSignal; timeoutMs?: number },
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (opts.signal?.aborted) throw cancelledError();
  const inner = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    // Reject before aborting: an inner operation that settles synchronously on abort must not win the race.
    onAbort = () => {
      reject(cancelledError());
      inner.abort();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.timeoutMs !== undefined && opts.timeoutMs > 0) {
      timer = setTimeout(() => {
        reject(
          new AppError('ssh-timeout', `${what} on ${host} did not finish within ${formatMs(opts.timeoutMs!)}.`, {
            host,
            hint: 'The machine may be overloaded or the network slow; retry, or raise the timeout.',
          }),
        );
        inner.abort();
      }, opts.timeoutMs);
    }
  });
  stop.catch(() => undefined);
  try {
    return await Promise.race([fn(inner.signal), stop]);
  } finally {
    if (timer) clearTimeout(timer);
    if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
  }
}

export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
