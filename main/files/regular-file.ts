/**
 * Reading files we did not write ourselves (state, lock, config, base image) without ever blocking on them.
 *
 * A FIFO opened for reading waits for a writer forever, `/dev/zero` never ends, a directory or a socket is no file at
 * all — and each such read ties up one of libuv's four pool threads. So every such path is `lstat`ed first (a symlink
 * is followed once and its target checked the same way), opened with O_NONBLOCK (a FIFO swapped in after the check
 * still cannot block the open), checked again through the open handle, and read only up to a byte limit.
 */
import { constants, type Stats } from 'node:fs';
import { lstat, open, stat, type FileHandle } from 'node:fs/promises';

/** What a path is, when it is not a regular file. */
export type SpecialKind = 'fifo' | 'character device' | 'block device' | 'socket' | 'directory' | 'unknown file type';

/** Thrown (never as AppError: each caller maps it to its own typed error) when a path is not a regular file. */
export class NotRegularFileError extends Error {
  constructor(
    readonly path: string,
    readonly kind: SpecialKind,
  ) {
    super(`${path} is a ${kind}, not a regular file`);
    this.name = 'NotRegularFileError';
  }
}

/** Thrown when a file is larger than the caller's limit. */
export class FileTooLargeError extends Error {
  constructor(
    readonly path: string,
    readonly size: number,
    readonly limit: number,
  ) {
    super(`${path} is ${formatBytes(size)}, more than the limit of ${formatBytes(limit)}`);
    this.name = 'FileTooLargeError';
  }
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** The kind of a non-regular file, or null for a regular file. */
export function specialKind(st: Stats): SpecialKind | null {
  if (st.isFile()) return null;
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isSocket()) return 'socket';
  if (st.isDirectory()) return 'directory';
  return 'unknown file type';
}

/**
 * `lstat`s `path` (following one symlink level by `stat`) and throws NotRegularFileError for anything but a regular
 * file. File-system errors (ENOENT, EACCES, …) propagate unchanged. Returns the stats of the file itself.
 */
export async function assertRegularFile(path: string): Promise<Stats> {
  let st = await lstat(path);
  if (st.isSymbolicLink()) st = await stat(path);
  const kind = specialKind(st);
  if (kind) throw new NotRegularFileError(path, kind);
  return st;
}

/** Opens a regular file for reading without ever blocking (see the module comment). */
export async function openRegularFile(path: string): Promise<{ handle: FileHandle; stats: Stats }> {
  await assertRegularFile(path);
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = await handle.stat();
    const kind = specialKind(stats);
    if (kind) throw new NotRegularFileError(path, kind);
    return { handle, stats };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Reads at most `limit` bytes of an open handle; a longer file (even one still growing) is FileTooLargeError. */
export async function readHandleBounded(handle: FileHandle, path: string, size: number, limit: number): Promise<Buffer> {
  if (size > limit) throw new FileTooLargeError(path, size, limit);
  // One byte more than the limit tells a file that grew since fstat from one that is exactly at it.
  let buf = Buffer.allocUnsafe(Math.min(limit, size) + 1);
  let total = 0;
  for (;;) {
    if (total === buf.length) {
      // The file grew since fstat: keep reading up to the limit.
      const bigger = Buffer.allocUnsafe(Math.min(limit + 1, buf.length * 2));
      buf.copy(bigger, 0, 0, total);
      buf = bigger;
    }
    const { bytesRead } = await handle.read(buf, total, buf.length - total, total);
    if (bytesRead === 0) break;
    total += bytesRead;
    if (total > limit) throw new FileTooLargeError(path, total, limit);
  }
  return buf.subarray(0, total);
}

/**
 * Reads a regular file of at most `limit` bytes as UTF-8: NotRegularFileError for a FIFO, device, socket or folder
 * (at once, nothing read), FileTooLargeError when it is larger (checked on the size before reading).
 */
export async function readRegularFile(path: string, limit: number): Promise<{ text: string; stats: Stats }> {
  const { handle, stats } = await openRegularFile(path);
  try {
    const buf = await readHandleBounded(handle, path, stats.size, limit);
    return { text: buf.toString('utf8'), stats };
  } finally {
    await handle.close();
  }
}

/** The same, returning the bytes. */
export async function readRegularBytes(path: string, limit: number): Promise<Buffer> {
  const { handle, stats } = await openRegularFile(path);
  try {
    return await readHandleBounded(handle, path, stats.size, limit);
  } finally {
    await handle.close();
  }
}
