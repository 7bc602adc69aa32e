/**
 * The exclusive lock on a state file: an in-process queue plus `<file>.lock` on disk.
 *
 * The on-disk lock is a small JSON file created exclusively (link(2) of a complete staging file, which fails with
 * EEXIST like O_EXCL — see createLockFile), naming its holder (lock id, pid, host, operation,
 * since, heartbeat). Its mtime is the heartbeat: a holder touches it on an unref'd timer, so a rewrite of the content
 * (which a reader could see half-written) is never needed. A lock is stale when its holder process is gone (same host,
 * `kill(pid, 0)` → ESRCH) or its heartbeat is older than `staleAfterMs`; a waiter breaks a stale lock and reports it.
 *
 * The in-process queue serializes callers of the same process on the same file without polling, and without
 * stealing turns from each other through the file system.
 */
import { randomUUID } from 'node:crypto';
import { link, open, readdir, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { LockHolder } from '../../preload/contract';
import { AppError, cancelledError } from '../errors';
import { FileTooLargeError, NotRegularFileError, openRegularFile, readHandleBounded } from '../files/regular-file';
import { pidAlive, sleep } from '../util';
import { ensureDir } from './atomic-write';
import { errnoCode, fsError, isNotFound, lockedError } from './errors';
import { siblingPaths } from './locations';

/** What the lock file holds. `heartbeat` is refreshed through the file's mtime. */
export interface LockRecord {
  readonly id: string;
  readonly pid: number;
  readonly host: string;
  readonly operation: string;
  readonly since: string;
  readonly heartbeat: string;
}

export interface LockInfo extends LockHolder {
  readonly heartbeat: string;
  /** Why the lock is stale, when it is. */
  readonly staleReason?: string;
  /** The heartbeat lies in the future (a wrong clock or a crafted file): it proves nothing about the holder. */
  readonly futureHeartbeat?: boolean;
}

export interface LockOptions {
  readonly timeoutMs: number;
  readonly staleAfterMs: number;
  readonly signal?: AbortSignal;
  readonly onWarning?: (message: string) => void;
}

// A lock file is written right after its O_EXCL create; one still empty after this long lost its writer.
const UNREADABLE_GRACE_MS = 1000;
/** Clock skew tolerated before a heartbeat counts as lying in the future. */
const FUTURE_SKEW_MS = 2000;
/** A lock record is ~250 bytes; anything much larger is not one of ours. */
const MAX_LOCK_BYTES = 64 * 1024;

/**
 * Reads a lock file without ever blocking: a FIFO, device, socket or folder at the lock path is `state-io` at once
 * (nothing read), a file larger than any lock record is read no further than MAX_LOCK_BYTES.
 */
async function readLockFile(lock: string): Promise<{ text: string; mtimeMs: number }> {
  try {
    const { handle, stats } = await openRegularFile(lock);
    try {
      const buf = await readHandleBounded(handle, lock, Math.min(stats.size, MAX_LOCK_BYTES), MAX_LOCK_BYTES).catch((err: unknown) => {
        if (err instanceof FileTooLargeError) return Buffer.alloc(0); // not a lock record: unreadable
        throw err;
      });
      return { text: buf.toString('utf8'), mtimeMs: stats.mtimeMs };
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof NotRegularFileError) throw specialLockError(lock, err.kind);
    throw err;
  }
}

function specialLockError(lock: string, kind: string): AppError {
  return new AppError('state-io', `${lock} is a ${kind}, not a lock file; Clusterdesk will not wait on it or remove it.`, {
    path: lock,
    hint: `Remove the ${kind} at this path (it was not created by Clusterdesk), then retry.`,
    details: { kind },
  });
}
const HOST = hostname();

/** Locks held by this process, by state file: used for same-pid staleness and the in-process queue's message. */
const held = new Map<string, LockRecord>();

function parseRecord(text: string): LockRecord | null {
  try {
    const v = JSON.parse(text) as Partial<LockRecord>;
    if (typeof v.id === 'string' && typeof v.pid === 'number' && typeof v.host === 'string') {
      return {
        id: v.id,
        pid: v.pid,
        host: v.host,
        operation: typeof v.operation === 'string' ? v.operation : 'unknown',
        since: typeof v.since === 'string' ? v.since : '',
        heartbeat: typeof v.heartbeat === 'string' ? v.heartbeat : '',
      };
    }
  } catch {
    // Half-written or foreign: handled by the caller through the file's age.
  }
  return null;
}

/** Reads the lock of `file` with staleness computed, or null when unlocked. */
export async function readLock(file: string, staleAfterMs: number): Promise<LockInfo | null> {
  const { lock } = siblingPaths(file);
  let text: string;
  let mtimeMs: number;
  try {
    ({ text, mtimeMs } = await readLockFile(lock));
  } catch (err) {
    if (isNotFound(err)) return null;
    throw fsError(err, lock, 'read the lock of');
  }
  const record = parseRecord(text);
  const now = Date.now();
  if (!record) {
    const stale = now - mtimeMs > UNREADABLE_GRACE_MS;
    return {
      id: '',
      pid: 0,
      host: '',
      operation: 'unknown',
      since: new Date(mtimeMs).toISOString(),
      heartbeat: new Date(mtimeMs).toISOString(),
      stale,
      ...(stale ? { staleReason: 'the lock file is unreadable and its writer is gone' } : {}),
    };
  }
  const beat = Math.max(mtimeMs, Date.parse(record.heartbeat) || 0);
  // A heartbeat in the future cannot be aged: it counts from the moment this process first saw it (and a holder that
  // is alive keeps touching the file, which changes what we see).
  const future = beat > now + FUTURE_SKEW_MS;
  const age = future ? now - firstSeen(`${record.id}:${mtimeMs}:${record.heartbeat}`, now) : now - beat;
  let staleReason: string | undefined;
  if (record.host === HOST && record.pid === process.pid) {
    if (held.get(file)?.id !== record.id) staleReason = 'it was left by an earlier process with this pid';
  } else if (record.host === HOST && !pidAlive(record.pid)) {
    staleReason = `process ${record.pid} is gone`;
  } else if (age > staleAfterMs) {
    staleReason = future
      ? `its heartbeat (${new Date(beat).toISOString()}) lies in the future and has not changed for ${Math.round(age / 1000)} s`
      : `no heartbeat for ${Math.round(age / 1000)} s`;
  }
  return {
    id: record.id,
    pid: record.pid,
    host: record.host,
    operation: record.operation,
    since: record.since,
    heartbeat: new Date(beat).toISOString(),
    stale: staleReason !== undefined,
    ...(staleReason ? { staleReason } : {}),
    ...(future ? { futureHeartbeat: true } : {}),
  };
}

/** When this process first saw each future heartbeat (bounded: old entries are dropped). */
const futureSeen = new Map<string, number>();

function firstSeen(key: string, now: number): number {
  const at = futureSeen.get(key);
  if (at !== undefined) return at;
  if (futureSeen.size >= 256) futureSeen.delete(futureSeen.keys().next().value!);
  futureSeen.set(key, now);
  return now;
}

/** The public view of a lock (the contract's LockHolder). */
export function toHolder(info: LockInfo): LockHolder {
  return { id: info.id, pid: info.pid, host: info.host, operation: info.operation, since: info.since, stale: info.stale };
}

/**
 * Removes the lock of `file` only if it still has id `expectedId`: the file is renamed aside first (atomic), checked,
 * and put back if someone else's lock was caught in between. Returns false when the lock was not the expected one.
 */
export async function removeLockIf(file: string, expectedId: string): Promise<boolean> {
  const { lock } = siblingPaths(file);
  const aside = `${lock}.${randomUUID()}.broken`;
  try {
    await rename(lock, aside);
  } catch (err) {
    if (isNotFound(err)) return false;
    throw fsError(err, lock, 'break the lock of');
  }
  let record: LockRecord | null = null;
  try {
    record = parseRecord((await readLockFile(aside)).text);
  } catch {
    // Unreadable: treated as matching only when the caller expected an unreadable lock.
  }
  if ((record?.id ?? '') === expectedId) {
    await unlink(aside).catch(() => undefined);
    return true;
  }
  // We moved a live lock that replaced the stale one meanwhile: put it back unless a newer one exists already.
  try {
    await rename(aside, lock);
  } catch {
    await unlink(aside).catch(() => undefined);
  }
  return false;
}

/**
 * Creates the lock file exclusively with its content already complete: written to a per-process staging file, then
 * hard-linked into place. link(2) fails with EEXIST exactly like open(O_CREAT|O_EXCL), but unlike open-then-write
 * there is no instant at which the lock exists empty — a holder killed in that instant would leave a lock nobody
 * can attribute. File systems without hard links fall back to open(O_EXCL) + write.
 */
async function createLockFile(lock: string, record: LockRecord): Promise<void> {
  const content = JSON.stringify(record);
  const staging = `${lock}.pid-${process.pid}`;
  await writeFile(staging, content, { mode: 0o600 });
  try {
    await link(staging, lock);
    return;
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'EEXIST' || code === 'ENOENT') throw err;
  } finally {
    await unlink(staging).catch(() => undefined);
  }
  const handle = await open(lock, 'wx', 0o600);
  try {
    await handle.writeFile(content);
  } catch (err) {
    await handle.close();
    await unlink(lock).catch(() => undefined);
    throw err;
  }
  await handle.close();
}

/** Removes staging files of dead processes and old aside copies left by killed lock breakers. */
async function sweepLeftovers(lock: string): Promise<void> {
  const dir = dirname(lock);
  const prefix = `${basename(lock)}.`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    const pid = /^pid-(\d+)$/.exec(rest);
    const path = join(dir, name);
    if (pid && !pidAlive(Number(pid[1]))) await unlink(path).catch(() => undefined);
    if (rest.endsWith('.broken')) {
      const st = await stat(path).catch(() => null);
      if (st && Date.now() - st.mtimeMs > 10_000) await unlink(path).catch(() => undefined);
    }
  }
}

/** A lock this process holds on disk. */
export class HeldLock {
  readonly file: string;
  readonly record: LockRecord;
  private timer: NodeJS.Timeout | null = null;
  private lostReason: string | null = null;

  constructor(file: string, record: LockRecord, heartbeatMs: number) {
    this.file = file;
    this.record = record;
    this.timer = setInterval(() => void this.beat(), heartbeatMs);
    // A heartbeat must never keep a CLI process alive.
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    try {
      await this.verify();
      const now = new Date();
      await utimes(siblingPaths(this.file).lock, now, now);
    } catch {
      // verify() recorded the loss; a failed touch is retried on the next beat.
    }
  }

  /** Throws `state-locked` when the lock file is no longer ours (broken by force or by a waiter that thought us dead). */
  async verify(): Promise<void> {
    if (this.lostReason === null) {
      let text = '';
      try {
        text = (await readLockFile(siblingPaths(this.file).lock)).text;
      } catch (err) {
        // A special file in place of our lock is not ours; anything else: cannot tell, the write will report it.
        if (!isNotFound(err) && !(err instanceof AppError)) return;
      }
      const record = parseRecord(text);
      if (record?.id !== this.record.id) {
        this.lostReason = record ? `it is now held by ${record.operation} (pid ${record.pid} on ${record.host})` : 'the lock file was removed';
      }
    }
    if (this.lostReason !== null) {
      throw new AppError('state-locked', `${this.file}: this operation lost its lock: ${this.lostReason}.`, {
        path: this.file,
        hint: 'The lock was broken while this operation ran (force unlock, or a very long pause). Refresh and retry.',
      });
    }
  }

  /** Stops the heartbeat and removes the lock file if it is still ours. */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (held.get(this.file)?.id === this.record.id) held.delete(this.file);
    if (this.lostReason !== null) return;
    const { lock } = siblingPaths(this.file);
    try {
      const record = parseRecord((await readLockFile(lock)).text);
      if (record?.id === this.record.id) await unlink(lock);
    } catch {
      // Already gone (e.g. the federation folder was removed inside the transaction).
    }
  }
}

/**
 * Takes the on-disk lock of `file`, polling with a small backoff while another holder has it, breaking stale locks
 * (reported through `onWarning`). Throws `state-locked` naming the holder after `timeoutMs`.
 */
export async function acquireDiskLock(file: string, operation: string, opts: LockOptions): Promise<HeldLock> {
  const { lock } = siblingPaths(file);
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  let delay = 2;
  let last: LockInfo | null = null;
  let futureBroken = false;
  for (;;) {
    if (opts.signal?.aborted) throw cancelledError('waiting for the state lock');
    const now = new Date().toISOString();
    const record: LockRecord = { id: randomUUID(), pid: process.pid, host: HOST, operation, since: now, heartbeat: now };
    // Registered before the file exists so a concurrent lockInfo() in this process never calls our own lock stale.
    held.set(file, record);
    try {
      await createLockFile(lock, record);
      return new HeldLock(file, record, Math.max(50, Math.min(5000, Math.floor(opts.staleAfterMs / 3))));
    } catch (err) {
      held.delete(file);
      const code = errnoCode(err);
      if (code === 'ENOENT') {
        await ensureDir(dirname(lock), file);
        continue;
      }
      if (code !== 'EEXIST') throw fsError(err, lock, 'create the lock of');
    }
    last = await readLock(file, opts.staleAfterMs);
    if (last === null) continue; // released between our create and read
    if (last.stale) {
      await sweepLeftovers(lock);
      if (await removeLockIf(file, last.id)) {
        opts.onWarning?.(
          `Broke a stale lock on ${file}: ${last.operation} (pid ${last.pid} on ${last.host || 'unknown host'}, since ${last.since}, lock id ${last.id || 'unreadable'}) — ${last.staleReason}.`,
        );
      }
      continue;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0 && last.futureHeartbeat && !futureBroken) {
      // Waited the whole lock timeout on a heartbeat from the future that never moved: nothing proves a holder.
      futureBroken = true;
      await sweepLeftovers(lock);
      if (await removeLockIf(file, last.id)) {
        opts.onWarning?.(
          `Broke a lock on ${file} whose heartbeat lies in the future (${last.heartbeat}): ${last.operation} (pid ${last.pid} on ${last.host || 'unknown host'}, lock id ${last.id || 'unreadable'}); it did not change during the ${opts.timeoutMs} ms lock timeout.`,
        );
      }
      continue;
    }
    if (remaining <= 0) throw lockedError(file, toHolder(last), Date.now() - started);
    // Jitter keeps two waiters from polling in lockstep.
    const wait = Math.min(remaining, delay + Math.random() * delay);
    if (!(await sleep(wait, opts.signal))) throw cancelledError('waiting for the state lock');
    delay = Math.min(delay * 1.5, 50);
  }
}

/** The lock this process holds on `file`, if any (for the in-process queue's timeout message). */
export function heldRecord(file: string): LockRecord | undefined {
  return held.get(file);
}

// ---------------------------------------------------------------------------------------------------------------
// In-process queue

const tails = new Map<string, Promise<void>>();

/**
 * Runs `fn` after every earlier caller of this process on the same file has finished. Waiting gives up after
 * `timeoutMs` (`state-locked`, naming the in-process holder) or when `signal` aborts; the order of the others is kept.
 */
export async function withFileQueue<T>(
  file: string,
  opts: { readonly timeoutMs: number; readonly signal?: AbortSignal; readonly operation: string },
  fn: (waitedMs: number) => Promise<T>,
): Promise<T> {
  const started = Date.now();
  const prev = tails.get(file) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = prev.then(() => mine);
  tails.set(file, tail);
  const cleanup = () => {
    release();
    void tail.then(() => {
      if (tails.get(file) === tail) tails.delete(file);
    });
  };
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      void prev.then(() => {
        settled = true;
        resolve();
      });
      if (settled) return;
      timer = setTimeout(() => {
        const h = held.get(file);
        reject(
          lockedError(file, h ? { id: h.id, pid: h.pid, host: h.host, operation: h.operation, since: h.since, stale: false } : null, Date.now() - started),
        );
      }, opts.timeoutMs);
      timer.unref();
      if (opts.signal) {
        onAbort = () => reject(cancelledError('waiting for the state lock'));
        if (opts.signal.aborted) onAbort();
        else opts.signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  } catch (err) {
    cleanup();
    throw err;
  } finally {
    if (timer) clearTimeout(timer);
    if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
  }
  try {
    return await fn(Date.now() - started);
  } finally {
    cleanup();
  }
}
