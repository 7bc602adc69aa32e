/**
 * StateStore: crash-safe, locked, versioned state files with history, backups and restore (docs/architecture.md, State engine).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { type BigIntStats } from 'node:fs';
import { rename, rm, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, parse as parsePath, resolve } from 'node:path';
import type { BackupEntry, LockHolder } from '../../preload/contract';
import { AppError, throwIfCancelled } from '../errors';
import { atomicWrite, ensureDir, syncDir } from './atomic-write';
import { redactedCopyForHistory, redactSecrets } from '../secrets/redact';
import { foreignError, fsError, isNotFound, mismatchError, staleError } from './errors';
import { isCertainlyValidCluster } from './fast-validate';
import { PgRouter, routeOf, type BackendSpec } from './backends/route';
import { historyName, listHistory, trimHistory, writeHistoryFile, type HistoryFile } from './history';
import { siblingPaths } from './locations';
import { acquireDiskLock, readLock, removeLockIf, toHolder, withFileQueue, type HeldLock, type LockInfo } from './lock';
import { fieldPath, limitError, nextSerial, parseState, readStateText, SERIAL_MAX, serializeState, STATE_LIMITS, type SourceFormat } from './parse';
import { openRegularFile, readHandleBounded, readRegularBytes } from '../files/regular-file';
import {
  clusterStateSchema,
  federationStateSchema,
  isFederationState,
  isoNow,
  newLineage,
  STATE_FORMAT_VERSION,
  summarize,
  type AnyState,
  type StateKind,
  type StateOf,
  type Written,
} from './schema';

/** Which state file, and what the caller expects to find in it. */
export interface StateTarget<K extends StateKind = StateKind> {
  readonly kind: K;
  /** Absolute path of the state file. */
  readonly file: string;
  /** Cluster only: the config's cluster name; a file recording another cluster is `state-mismatch`. */
  readonly clusterName?: string;
  /** The lineage the workspace has seen; a file with another one is `state-foreign`. */
  readonly lineage?: string;
  /**
   * A PostgreSQL backend holding this workspace's state instead of `file` (else the one bound to `file` by
   * `bindStateBackend`, else the file itself); `null`: the file, whatever is bound (push's source, pull's target).
   * `file` stays the workspace's identity.
   */
  readonly backend?: BackendSpec | null;
}

export interface StateStoreOptions {
  /** Generations kept in `<file>.history/` (default 10). */
  readonly historyLimit?: number;
  /** How long a writer waits for the lock before `state-locked` (default 10 s). */
  readonly lockTimeoutMs?: number;
  /** A lock whose heartbeat is older than this is stale (default 30 s; the holder beats every third of it). */
  readonly staleAfterMs?: number;
  /** Non-fatal events: stale locks broken, secrets dropped, forced unlocks. */
  readonly onWarning?: (message: string) => void;
}

export interface WriteOptions {
  /** Refuse with `state-stale` when the file's serial moved past this one. */
  readonly baseSerial?: number;
  /**
   * Take the lineage of the state being written instead of keeping the file's (import with adoption). By default a
   * write keeps the current file's lineage, else the target's, else the state's, else a new one.
   */
  readonly adoptLineage?: boolean;
  /**
   * The written serial is at least this (import: an incoming state that is ahead keeps its serial). It still always
   * moves past the file's and every history entry's serial.
   */
  readonly minSerial?: number;
}

export interface TransactionOptions {
  /** Abort while waiting for the lock (and before each write). */
  readonly signal?: AbortSignal;
  /**
   * Abort only the wait for the lock (an operation's cancel): once the lock is held the callback runs to its end, so
   * a cancelled operation can still record what it did. The one cancellable lock wait every domain uses.
   */
  readonly waitSignal?: AbortSignal;
  /** Overrides the store's lock timeout for this call. */
  readonly timeoutMs?: number;
}

export interface UpdateOptions {
  readonly baseSerial?: number;
  readonly signal?: AbortSignal;
}

export type Updater<K extends StateKind> = (current: StateOf<K> | null) => StateOf<K> | Promise<StateOf<K>>;

/** The handle a transaction's callback gets; valid only while the callback runs (it holds the lock). */
export interface StateTx<K extends StateKind = StateKind> {
  readonly target: StateTarget<K>;
  /** The id of the lock this transaction holds. */
  readonly lockId: string;
  /** The current state, or null when the file does not exist. Typed errors (corrupt, foreign, mismatch). */
  read(): Promise<StateOf<K> | null>;
  /** The format the file was in when this transaction last read it (reads it if not yet), or null when absent. */
  format(): Promise<SourceFormat | null>;
  /**
   * Fills `serial` (+1), `lineage` (kept; a new UUID if none), `version`, `last_modified`; drops secrets; validates;
   * writes atomically with backup and history. Returns what was written.
   */
  write(next: StateOf<K>, opts?: WriteOptions): Promise<Written<StateOf<K>>>;
  /** read → fn → write. */
  update(fn: Updater<K>, opts?: { readonly baseSerial?: number }): Promise<Written<StateOf<K>>>;
  /**
   * Cluster destroy: removes the state file (its last generation stays in history). Federation clean:
   * `{ folder: true }` removes the whole state folder, as ReFedEz's clean does.
   */
  remove(opts?: { readonly folder?: boolean }): Promise<void>;
}

/** A loaded state and the format it was read from (`refedez` / `ai-how-implementation` are converted). */
export interface LoadedState<K extends StateKind = StateKind> {
  readonly state: StateOf<K>;
  readonly format: SourceFormat;
}

// ---------------------------------------------------------------------------------------------------------------

interface FileHeader {
  readonly serial: number | null;
  readonly lineage: string | null;
  readonly clusterName: string | null;
}

interface CurrentFile {
  readonly exists: boolean;
  readonly header: FileHeader | null;
  /** Only for full reads of a valid file. */
  readonly state: AnyState | null;
  readonly format?: SourceFormat;
  readonly error: AppError | null;
  /**
   * How `.backup` must keep this file when it is replaced: `'link'` for a file we wrote (no secret, our format),
   * else its redacted text (a foreign file, one holding a secret, a corrupt one). Null when the file does not exist.
   */
  readonly keep: 'link' | { readonly text: string } | null;
}

interface CacheEntry {
  readonly key: string;
  readonly header: FileHeader;
  /** Written by us (this process) or read and found in our format without secrets: `.backup` may link it. */
  readonly ours: boolean;
}

/**
 * Headers of files this process wrote, keyed by path and validated by (dev, ino, size, mtime, ctime): a save of a
 * 10,000-VM state then needs no re-read of the file it replaces. A change by anyone else changes the key.
 */
const headerCache = new Map<string, CacheEntry>();

const statKey = (st: BigIntStats) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;

/** Files whose lock the current async context holds: a nested transaction on one of them would deadlock. */
const txContext = new AsyncLocalStorage<ReadonlySet<string>>();

const HISTORY_ID = /^history:(\d{1,16})$/;

/** Formats written by the original tools that must be adopted (`StateStore.adopt`) before we operate them. */
export const FOREIGN_FORMATS: ReadonlySet<SourceFormat> = new Set(['refedez', 'ai-how-implementation']);

/**
 * Lifecycle operations that change machines or libvirt resources: they refuse a state still in a foreign format
 * (`state-foreign`, details.needsAdoption) — adoption is an explicit step with a preview (`state adopt`).
 */
export const OPERATIONS_NEEDING_ADOPTION: ReadonlySet<string> = new Set([
  'start',
  'stop',
  'clean',
  'cluster:start',
  'cluster:stop',
  'cluster:destroy',
  'cluster:vm-action',
]);

/** The error for an operation on a state written by ReFedEz / AI-HOW that was not adopted yet. */
export function needsAdoptionError(file: string, format: string, operation: string): AppError {
  const tool = format === 'refedez' ? 'ReFedEz' : format.startsWith('ai-how') ? 'AI-HOW' : 'another tool';
  return new AppError('state-foreign', `${file} was written by ${tool} and has not been adopted yet; refusing to ${operation.replace(/^cluster:/, '')}.`, {
    path: file,
    hint: 'Adopt it first: CLI `clusterdesk state adopt --dry-run` (preview), then `clusterdesk state adopt`; in the app, the State tab’s “Adopt…” button.',
    details: { format, needsAdoption: true },
  });
}

function headerOf(state: AnyState): FileHeader {
  return {
    serial: typeof state.serial === 'number' ? state.serial : null,
    lineage: typeof state.lineage === 'string' ? state.lineage : null,
    clusterName: isFederationState(state) ? null : state.cluster_name,
  };
}

function checkIdentity(target: StateTarget, header: FileHeader, path: string): void {
  if (target.lineage && header.lineage && header.lineage !== target.lineage) {
    throw foreignError(path, header.lineage, target.lineage);
  }
  if (target.kind === 'cluster' && target.clusterName && header.clusterName !== null && header.clusterName !== target.clusterName) {
    throw mismatchError(path, header.clusterName, target.clusterName);
  }
}

function invalidWrite(kind: StateKind, file: string, error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): AppError {
  const issue = error.issues[0];
  const field = issue ? fieldPath(issue.path) : '';
  return new AppError('internal', `Refusing to write an invalid ${kind} state to ${file}: ${field || 'top level'}: ${issue?.message ?? 'invalid'}.`, {
    path: file,
    ...(field ? { field } : {}),
    hint: 'This is a bug in Clusterdesk; the previous state is intact. Please report it with the log.',
  });
}

/** Crash-safe, locked, versioned state files (one store serves every workspace; it keeps no per-file state of its own). */
export class StateStore {
  private limits: { historyLimit: number; lockTimeoutMs: number };
  readonly staleAfterMs: number;
  private readonly onWarning: (message: string) => void;
  /** The PostgreSQL side: workspaces whose state a database holds (backends/route.ts). */
  private pgRouter: PgRouter | null = null;

  constructor(opts: StateStoreOptions = {}) {
    this.limits = { historyLimit: Math.max(1, Math.floor(opts.historyLimit ?? 10)), lockTimeoutMs: Math.max(0, opts.lockTimeoutMs ?? 10_000) };
    this.staleAfterMs = Math.max(100, opts.staleAfterMs ?? 30_000);
    this.onWarning = opts.onWarning ?? (() => undefined);
  }

  /** Changes the history length and the lock timeout for the calls that follow (the app's settings changed). */
  configure(opts: Pick<StateStoreOptions, 'historyLimit' | 'lockTimeoutMs'>): void {
    this.limits = {
      historyLimit: opts.historyLimit === undefined ? this.limits.historyLimit : Math.max(1, Math.floor(opts.historyLimit)),
      lockTimeoutMs: opts.lockTimeoutMs === undefined ? this.limits.lockTimeoutMs : Math.max(0, opts.lockTimeoutMs),
    };
  }

  /** Generations kept in each state file's history folder. */
  get historyLimit(): number {
    return this.limits.historyLimit;
  }

  /** How long a writer waits for another's lock. */
  get lockTimeoutMs(): number {
    return this.limits.lockTimeoutMs;
  }

  /** Reads a state without locking; null when the file does not exist. Foreign formats are converted in memory. */
  async load<K extends StateKind>(target: StateTarget<K>): Promise<StateOf<K> | null> {
    return (await this.loadWithFormat(target))?.state ?? null;
  }

  /** Like `load`, also telling which format the file was in (to say "adopted from ReFedEz" in the UI). */
  async loadWithFormat<K extends StateKind>(target: StateTarget<K>): Promise<LoadedState<K> | null> {
    const file = fileOf(target);
    const routed = routeOf(target);
    if (routed) return this.pg.load(target, routed);
    let read;
    try {
      read = await readStateText(file);
    } catch (err) {
      throw fsError(err, file, 'read');
    }
    if (!read) return null;
    const parsed = parseState(target.kind, read.text, file);
    checkIdentity(target, headerOf(parsed.state), file);
    // A file written by someone else may hold secrets: they never reach the app, the CLI's output or a bundle.
    const { value, removed } = redactSecrets(parsed.state);
    return removed.length === 0 ? parsed : { ...parsed, state: value };
  }

  /** `load` for a cluster state file. */
  async loadCluster(file: string, expect: { readonly clusterName?: string; readonly lineage?: string } = {}): Promise<StateOf<'cluster'> | null> {
    return this.load({ kind: 'cluster', file, ...expect });
  }

  /** `load` for a federation state file. */
  async loadFederation(file: string, expect: { readonly lineage?: string } = {}): Promise<StateOf<'federation'> | null> {
    return this.load({ kind: 'federation', file, ...expect });
  }

  /** Runs `fn` holding the file's lock (in-process queue + on-disk lock with heartbeat) for its whole duration. */
  async transaction<K extends StateKind, T>(
    target: StateTarget<K>,
    operation: string,
    fn: (tx: StateTx<K>) => Promise<T>,
    opts: TransactionOptions = {},
  ): Promise<T> {
    const file = fileOf(target);
    const outer = txContext.getStore();
    if (outer?.has(file)) {
      throw new AppError('internal', `Nested transaction on ${file} (${operation}): it would wait for itself.`, {
        path: file,
        hint: 'This is a bug in Clusterdesk: use the transaction handle you already hold.',
      });
    }
    const waitSignal = opts.signal ?? opts.waitSignal;
    throwIfCancelled(waitSignal);
    const timeoutMs = opts.timeoutMs ?? this.lockTimeoutMs;
    const routed = routeOf(target);
    if (routed) {
      const inner = new Set(outer ?? []);
      inner.add(file);
      return txContext.run(inner, () => this.pg.transaction(target, routed, operation, fn, { ...opts, timeoutMs }));
    }
    return withFileQueue(file, { timeoutMs, operation, ...(waitSignal ? { signal: waitSignal } : {}) }, async (waitedMs) => {
      const lock = await acquireDiskLock(file, operation, {
        timeoutMs: Math.max(0, timeoutMs - waitedMs),
        staleAfterMs: this.staleAfterMs,
        onWarning: this.onWarning,
        ...(waitSignal ? { signal: waitSignal } : {}),
      });
      const tx = new Transaction<K>(this, target, file, lock, opts.signal, operation);
      try {
        const inner = new Set(outer ?? []);
        inner.add(file);
        return await txContext.run(inner, () => fn(tx));
      } finally {
        tx.close();
        await lock.release();
      }
    });
  }

  /** read → fn → validated atomic write, under the lock. `baseSerial` makes it refuse a file that moved on. */
  async update<K extends StateKind>(target: StateTarget<K>, operation: string, fn: Updater<K>, opts: UpdateOptions = {}): Promise<Written<StateOf<K>>> {
    return this.transaction(target, operation, (tx) => tx.update(fn, opts.baseSerial !== undefined ? { baseSerial: opts.baseSerial } : {}), {
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  /** The history generations and `<file>.backup`, newest first, each checked (parse + schema). */
  async backups(target: StateTarget): Promise<BackupEntry[]> {
    const file = fileOf(target);
    const routed = routeOf(target);
    if (routed) return this.pg.backups(target, routed);
    const history = await listHistory(file);
    const entries = await Promise.all(history.map((h) => describeBackup(target.kind, h.path, 'history', `history:${h.name.slice(0, -5)}`, h.serial)));
    const backup = await describeBackup(target.kind, siblingPaths(file).backup, 'backup', 'backup', null);
    const ranked = entries.map((e) => ({ entry: e.entry, key: e.nameSerial ?? -1, history: true }));
    if (backup.exists) {
      let key = backup.entry.serial;
      if (key === null) {
        // An unreadable .backup is ordered by time among the generations.
        const older = entries.filter((e) => e.mtimeMs <= backup.mtimeMs).map((e) => e.nameSerial ?? -1);
        key = older.reduce((a, b) => Math.max(a, b), -1.5) + 0.5;
      }
      ranked.push({ entry: backup.entry, key, history: false });
    }
    ranked.sort((a, b) => b.key - a.key || Number(b.history) - Number(a.history));
    return ranked.map((r) => r.entry);
  }

  /**
   * Writes a backup's content as a new generation (serial continues past every known one; the file's lineage is
   * kept). Works when the current file is corrupt; the pre-restore file is kept in history. A backup of another
   * lineage needs `adopt`.
   */
  async restore<K extends StateKind>(target: StateTarget<K>, backupId: string, opts: { readonly adopt?: boolean } = {}): Promise<Written<StateOf<K>>> {
    const file = fileOf(target);
    const routed = routeOf(target);
    if (routed) return this.pg.restore(target, routed, backupId, opts);
    const source = backupPath(file, backupId);
    return this.transaction(target, 'restore', async (tx) => (tx as Transaction<K>).restoreFrom(source, opts.adopt === true));
  }

  /**
   * Adopts a state file written by ReFedEz or AI-HOW (implementation format): under the lock, the original goes into
   * history redacted (secrets stripped, mode 0600; the file itself is first replaced by that redacted copy so
   * `.backup` never links the original), then `build` turns the converted state into the adopted one (every field
   * kept) and it is written with a new lineage and the next serial. Refuses a file already in our format
   * (`invalid-argument`) and a missing one (`not-found`).
   */
  async adopt<K extends StateKind>(
    target: StateTarget<K>,
    build: (foreign: LoadedState<K>, lineage: string) => StateOf<K> | Promise<StateOf<K>>,
    opts: TransactionOptions = {},
  ): Promise<Written<StateOf<K>>> {
    const routed = routeOf(target);
    if (routed) return this.pg.refuseAdopt(routed);
    const { lineage: _ignored, ...rest } = target;
    void _ignored;
    return this.transaction(rest as StateTarget<K>, 'adopt', (tx) => (tx as Transaction<K>).adoptFile(build), opts);
  }

  /** The current lock holder with staleness computed (plus its heartbeat and why it is stale), or null. */
  async lockInfo(target: StateTarget): Promise<LockInfo | null> {
    const routed = routeOf(target);
    if (routed) return this.pg.lockInfo(routed);
    return readLock(fileOf(target), this.staleAfterMs);
  }

  /** Breaks the lock, only if `lockId` is the id of the lock now on disk. */
  async forceUnlock(target: StateTarget, lockId: string): Promise<void> {
    const routed = routeOf(target);
    if (routed) return this.pg.forceUnlock(routed);
    const file = fileOf(target);
    const info = await readLock(file, this.staleAfterMs);
    if (!info) {
      throw new AppError('not-found', `${file} is not locked.`, { path: file, hint: 'Nothing to unlock; refresh the view.' });
    }
    const refuse = (holder: LockHolder) =>
      new AppError(
        'state-locked',
        `${file}: lock id ${lockId} does not match the current lock (${holder.operation}, pid ${holder.pid} on ${holder.host}, id ${holder.id}).`,
        {
          path: file,
          hint: 'The lock changed hands since you looked. Refresh and check who holds it now.',
          details: { holder },
        },
      );
    if (info.id !== lockId) throw refuse(toHolder(info));
    if (!(await removeLockIf(file, lockId))) {
      const now = await readLock(file, this.staleAfterMs);
      if (now) throw refuse(toHolder(now));
      return;
    }
    this.onWarning(`Force-unlocked ${file}: ${info.operation} (pid ${info.pid} on ${info.host}, since ${info.since}).`);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Backends (a workspace whose state a PostgreSQL database holds; backends/route.ts)

  private get pg(): PgRouter {
    this.pgRouter ??= new PgRouter(this);
    return this.pgRouter;
  }

  /** The backend holding the target's state, or null for the local file. */
  backendOf(target: StateTarget): BackendSpec | null {
    return routeOf(target);
  }

  /** Where the target's state lives, as errors and the UI name it: the file, or `postgres://host:port/db?schema=s#key`. */
  async placeOf(target: StateTarget): Promise<string> {
    const routed = routeOf(target);
    return routed ? this.pg.labelOf(routed) : fileOf(target);
  }

  /** The last state this process read or wrote of a backend-held workspace (shown, marked stale, while it is away). */
  lastKnown(target: StateTarget): { readonly state: AnyState; readonly at: string } | null {
    const routed = routeOf(target);
    return routed ? this.pg.lastKnownState(routed) : null;
  }

  /** LISTENs for commits and lock changes on a backend (reconnects by itself); returns the stop function. */
  watchBackend(
    url: string,
    onChange: (change: { readonly key: string; readonly serial: number | null; readonly lock?: 'taken' | 'released' }) => void,
    onStatus: (status: { readonly connected: boolean; readonly error?: AppError }) => void,
  ): Promise<() => void> {
    return this.pg.watch(url, onChange, onStatus);
  }

  /** Closes the database pools (the app's and the CLI's exit). */
  async close(): Promise<void> {
    await this.pgRouter?.close();
    this.pgRouter = null;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Internals used by Transaction

  /** @internal */
  warn(message: string): void {
    this.onWarning(message);
  }
}

function fileOf(target: StateTarget): string {
  if (target.kind !== 'cluster' && target.kind !== 'federation') {
    throw new AppError('invalid-argument', `Unknown state kind ${String(target.kind)}.`);
  }
  if (typeof target.file !== 'string' || !isAbsolute(target.file)) {
    throw new AppError('invalid-argument', `The state file path must be absolute: ${String(target.file)}.`, { path: String(target.file) });
  }
  return resolve(target.file);
}

function backupPath(file: string, backupId: string): string {
  if (backupId === 'backup') return siblingPaths(file).backup;
  const m = HISTORY_ID.exec(backupId);
  if (!m) {
    throw new AppError('invalid-argument', `Unknown backup id "${backupId}".`, { path: file, hint: 'Pick a backup from the list (state:backups).' });
  }
  return join(siblingPaths(file).history, `${m[1]}.json`);
}

async function describeBackup(
  kind: StateKind,
  path: string,
  source: 'history' | 'backup',
  id: string,
  nameSerial: number | null,
): Promise<{ entry: BackupEntry; exists: boolean; mtimeMs: number; nameSerial: number | null }> {
  const base = { id, source, file: path };
  let text: string;
  let mtimeMs = 0;
  try {
    const read = await readStateText(path);
    if (!read) throw Object.assign(new Error(`${path} is missing`), { code: 'ENOENT' });
    mtimeMs = read.stats.mtimeMs;
    text = read.text;
  } catch (err) {
    const missing = isNotFound(err);
    const message = missing ? 'missing' : fsError(err, path, 'read').message;
    return {
      entry: { ...base, valid: false, error: message, serial: null, lineage: null, savedAt: null, status: null, count: null },
      exists: !missing,
      mtimeMs,
      nameSerial,
    };
  }
  try {
    const { state } = parseState(kind, text, path);
    const { status, count } = summarize(state);
    const savedAt = typeof state.last_modified === 'string' ? state.last_modified : new Date(mtimeMs).toISOString();
    return {
      entry: {
        ...base,
        valid: true,
        serial: typeof state.serial === 'number' ? state.serial : null,
        lineage: typeof state.lineage === 'string' ? state.lineage : null,
        savedAt,
        status,
        count,
      },
      exists: true,
      mtimeMs,
      nameSerial,
    };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      entry: { ...base, valid: false, error: message, serial: null, lineage: null, savedAt: new Date(mtimeMs).toISOString(), status: null, count: null },
      exists: true,
      mtimeMs,
      nameSerial,
    };
  }
}

/** Does the state folder look like a project folder (so removing it would delete the user's project)? */
async function looksLikeProjectFolder(folder: string): Promise<boolean> {
  if (folder === parsePath(folder).root || folder === resolve(homedir())) return true;
  for (const name of ['refedez.yaml', 'refedez.yml', 'project.yml', 'cluster.yaml']) {
    try {
      await stat(join(folder, name));
      return true;
    } catch {
      // not there: fine
    }
  }
  return false;
}

interface InternalWrite {
  readonly baseSerial?: number;
  readonly adoptLineage?: boolean;
  readonly minSerial?: number;
  /** Restore: overwrite a corrupt current file, skip identity checks of the current file, use this lineage. */
  readonly restoreLineage?: string;
}

class Transaction<K extends StateKind> implements StateTx<K> {
  readonly target: StateTarget<K>;
  readonly lockId: string;
  private closed = false;
  /** The source format seen by the last `read` (undefined: not read yet). */
  private lastFormat: SourceFormat | null | undefined;

  constructor(
    private readonly store: StateStore,
    target: StateTarget<K>,
    private readonly file: string,
    private readonly lock: HeldLock,
    private readonly signal: AbortSignal | undefined,
    private readonly operation: string = '',
  ) {
    this.target = target;
    this.lockId = lock.record.id;
  }

  close(): void {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new AppError('internal', `The transaction on ${this.file} has ended; its handle cannot be used any more.`, {
        path: this.file,
        hint: 'This is a bug in Clusterdesk: a transaction handle escaped its callback.',
      });
    }
  }

  async read(): Promise<StateOf<K> | null> {
    this.assertOpen();
    const cur = await this.current('full');
    if (cur.error) throw cur.error;
    this.lastFormat = cur.format ?? null;
    if (!cur.exists || !cur.state) return null;
    checkIdentity(this.target, headerOf(cur.state), this.file);
    if (cur.format && FOREIGN_FORMATS.has(cur.format) && OPERATIONS_NEEDING_ADOPTION.has(this.operation)) {
      throw needsAdoptionError(this.file, cur.format, this.operation);
    }
    return cur.state as StateOf<K>;
  }

  /** @internal Adoption: see StateStore.adopt. */
  async adoptFile(build: (foreign: LoadedState<K>, lineage: string) => StateOf<K> | Promise<StateOf<K>>): Promise<Written<StateOf<K>>> {
    this.assertOpen();
    let read;
    try {
      read = await readStateText(this.file);
    } catch (err) {
      throw fsError(err, this.file, 'read');
    }
    if (!read) {
      throw new AppError('not-found', `There is no state file to adopt at ${this.file}.`, {
        path: this.file,
        hint: 'Check the workspace folder (or --state PATH).',
      });
    }
    const text = read.text;
    const parsed = parseState(this.target.kind, text, this.file);
    if (!FOREIGN_FORMATS.has(parsed.format)) {
      throw new AppError(
        'invalid-argument',
        `${this.file} is already a Clusterdesk state (serial ${String(parsed.state.serial ?? 'none')}, lineage ${String(parsed.state.lineage ?? 'none')}): nothing to adopt.`,
        { path: this.file, hint: 'Operate it directly; adoption is only for files written by ReFedEz or AI-HOW.' },
      );
    }
    // The original, redacted, replaces the file first (0600): `.backup` then holds that copy, never the original.
    const { text: redactedText, removed } = redactedCopyForHistory(text);
    if (removed.length > 0) this.store.warn(`Not keeping secrets of the adopted ${this.file}: dropped ${removed.join(', ')}.`);
    await atomicWrite(this.file, redactedText, { historyName: null, backup: { text: redactedText } });
    headerCache.delete(this.file);
    const history = await listHistory(this.file);
    const slot = (history[0]?.serial ?? -1) + 1;
    const { history: dir } = siblingPaths(this.file);
    await ensureDir(dir, this.file);
    try {
      await writeHistoryFile(join(dir, historyName(slot)), redactedText);
    } catch (err) {
      throw fsError(err, this.file, 'archive the adopted original of');
    }
    const lineage = newLineage();
    const next = await build(parsed, lineage);
    const { lineage: _l, serial: _s, ...body } = next as StateOf<K> & { lineage?: string; serial?: number };
    void _l;
    void _s;
    return this.writeInternal(body as StateOf<K>, { restoreLineage: lineage, minSerial: slot + 1 });
  }

  /** The format the file was in when this transaction last read it (reads it if not yet), or null when absent. */
  async format(): Promise<SourceFormat | null> {
    if (this.lastFormat === undefined) await this.read();
    return this.lastFormat ?? null;
  }

  async write(next: StateOf<K>, opts: WriteOptions = {}): Promise<Written<StateOf<K>>> {
    return this.writeInternal(next, opts);
  }

  async update(fn: Updater<K>, opts: { readonly baseSerial?: number } = {}): Promise<Written<StateOf<K>>> {
    const current = await this.read();
    if (opts.baseSerial !== undefined && (current?.serial ?? 0) > opts.baseSerial) {
      throw staleError(this.file, opts.baseSerial, current?.serial ?? 0);
    }
    const next = await fn(current);
    return this.writeInternal(next, opts.baseSerial !== undefined ? { baseSerial: opts.baseSerial } : {});
  }

  async remove(opts: { readonly folder?: boolean } = {}): Promise<void> {
    this.assertOpen();
    throwIfCancelled(this.signal);
    await this.lock.verify();
    const cur = await this.current('header');
    if (cur.error) throw cur.error;
    if (cur.header) checkIdentity(this.target, cur.header, this.file);
    if (opts.folder) {
      if (this.target.kind !== 'federation') {
        throw new AppError('invalid-argument', 'Only a federation state folder can be removed as a whole.', { path: this.file });
      }
      const folder = dirname(this.file);
      if (await looksLikeProjectFolder(folder)) {
        throw new AppError('path-refused', `Refusing to remove ${folder}: it looks like a project or home folder, not a state folder.`, {
          path: folder,
          hint: 'Set refedez.folder to a dedicated folder (the default is .refedez).',
        });
      }
      // Renamed first so the folder disappears atomically; the slow recursive delete happens out of sight.
      const doomed = `${folder}.removing-${randomUUID()}`;
      try {
        await rename(folder, doomed);
        await syncDir(dirname(folder));
        await rm(doomed, { recursive: true, force: true });
      } catch (err) {
        if (!isNotFound(err)) throw fsError(err, folder, 'remove the state folder');
      }
      headerCache.delete(this.file);
      return;
    }
    if (!cur.exists) return;
    await this.archiveCurrent(cur);
    try {
      await unlink(this.file);
      await syncDir(dirname(this.file));
    } catch (err) {
      if (!isNotFound(err)) throw fsError(err, this.file, 'remove');
    }
    headerCache.delete(this.file);
  }

  /** @internal Restore: see StateStore.restore. */
  async restoreFrom(source: string, adopt: boolean): Promise<Written<StateOf<K>>> {
    this.assertOpen();
    let read;
    try {
      read = await readStateText(source);
    } catch (err) {
      throw fsError(err, source, 'read the backup');
    }
    if (!read) {
      throw new AppError('not-found', `The backup ${source} does not exist (any more).`, { path: source, hint: 'Refresh the list of backups and pick again.' });
    }
    const text = read.text;
    let state: StateOf<K>;
    try {
      state = parseState(this.target.kind, text, source).state;
    } catch (err) {
      if (err instanceof AppError && err.code === 'state-corrupt') {
        throw new AppError('state-corrupt', err.message, { ...err.fields, hint: 'This backup is damaged too; pick another one.' }, { cause: err });
      }
      throw err;
    }
    const cur = await this.current('full');
    const expected = this.target.lineage ?? cur.header?.lineage ?? null;
    const found = typeof state.lineage === 'string' ? state.lineage : null;
    if (expected && found && found !== expected && !adopt) throw foreignError(source, found, expected);
    if (this.target.kind === 'cluster' && this.target.clusterName && !isFederationState(state) && state.cluster_name !== this.target.clusterName) {
      throw mismatchError(source, state.cluster_name, this.target.clusterName);
    }
    if (cur.exists) await this.archiveCurrent(cur);
    return this.writeInternal(state, { restoreLineage: expected ?? found ?? newLineage() });
  }

  /** Makes sure the current file (valid or not) is in history before it is replaced or removed. */
  private async archiveCurrent(cur: CurrentFile): Promise<void> {
    const history = await listHistory(this.file);
    const serial = cur.header?.serial ?? null;
    let content: Buffer;
    try {
      content = await readRegularBytes(this.file, STATE_LIMITS.maxBytes);
    } catch (err) {
      if (isNotFound(err)) return;
      throw fsError(limitError(err) ?? err, this.file, 'archive the current version of');
    }
    // History never holds a secret: the generation is the redacted copy (mode 0600) whoever wrote the file.
    const copy = redactedCopyForHistory(content);
    const same = serial !== null ? history.find((h) => h.serial === serial) : undefined;
    if (same) {
      try {
        if ((await readRegularBytes(same.path, STATE_LIMITS.maxBytes)).toString('utf8') === copy.text) return;
      } catch {
        // unreadable or gone: archive below
      }
    }
    // Named by the file's own serial when that slot is free, else after every known generation (a corrupt file has
    // no serial of its own): history names stay unique and ordered.
    const taken = new Set(history.map((h) => h.serial));
    const slot = serial !== null && !taken.has(serial) ? serial : nextSerial(Math.max(serial ?? 0, history[0]?.serial ?? 0));
    const { history: dir } = siblingPaths(this.file);
    await ensureDir(dir, this.file);
    try {
      await writeHistoryFile(join(dir, historyName(slot)), copy.text);
    } catch (err) {
      throw fsError(err, this.file, 'archive the current version of');
    }
  }

  private async lineageFromHistory(history: readonly HistoryFile[]): Promise<string | null> {
    for (const h of history) {
      try {
        const read = await readStateText(h.path);
        if (!read) continue;
        const { state } = parseState(this.target.kind, read.text, h.path);
        if (typeof state.lineage === 'string') return state.lineage;
      } catch {
        // damaged or unreadable generation: try the next older one
      }
    }
    return null;
  }

  private async current(mode: 'full' | 'header'): Promise<CurrentFile> {
    let handle;
    try {
      handle = (await openRegularFile(this.file)).handle;
    } catch (err) {
      if (isNotFound(err)) return { exists: false, header: null, state: null, error: null, keep: null };
      throw fsError(limitError(err) ?? err, this.file, 'read');
    }
    try {
      const st = await handle.stat({ bigint: true });
      const key = statKey(st);
      const cached = headerCache.get(this.file);
      if (mode === 'header' && cached?.key === key && cached.ours) {
        // Unchanged since this process wrote (or checked) it: ours, redacted, safe to hard-link as `.backup`.
        return { exists: true, header: cached.header, state: null, error: null, keep: 'link' };
      }
      let text: string;
      try {
        text = (await readHandleBounded(handle, this.file, Number(st.size), STATE_LIMITS.maxBytes)).toString('utf8');
      } catch (err) {
        const limit = limitError(err);
        // Too large or too deep to read: it cannot be parsed (nor redacted); a restore over it keeps it as .backup.
        if (limit) return { exists: true, header: null, state: null, error: limit, keep: 'link' };
        throw err;
      }
      const copy = redactedCopyForHistory(text);
      try {
        const { state, format } = parseState(this.target.kind, text, this.file);
        const header = headerOf(state);
        const ours = format === 'clusterdesk' && header.serial !== null && header.lineage !== null && copy.removed.length === 0;
        headerCache.set(this.file, { key, header, ours });
        return { exists: true, header, state, error: null, keep: ours ? 'link' : { text: copy.text }, format };
      } catch (err) {
        if (err instanceof AppError) return { exists: true, header: null, state: null, error: err, keep: { text: copy.text } };
        throw err;
      }
    } catch (err) {
      throw fsError(err, this.file, 'read');
    } finally {
      await handle.close();
    }
  }

  private async writeInternal(next: StateOf<K>, opts: InternalWrite): Promise<Written<StateOf<K>>> {
    this.assertOpen();
    throwIfCancelled(this.signal);
    await this.lock.verify();
    const kind = this.target.kind;
    const restoring = opts.restoreLineage !== undefined;
    const cur = await this.current('header');
    if (cur.error && !restoring) throw cur.error;
    const header = cur.header;
    if (header && !restoring) checkIdentity(this.target, header, this.file);
    if (opts.baseSerial !== undefined && (header?.serial ?? 0) > opts.baseSerial) {
      throw staleError(this.file, opts.baseSerial, header?.serial ?? 0);
    }
    if (typeof next !== 'object' || next === null) {
      throw new AppError('internal', `Refusing to write a non-object ${kind} state to ${this.file}.`, { path: this.file });
    }
    if (kind === 'cluster' && this.target.clusterName) {
      const name = (next as { cluster_name?: unknown }).cluster_name;
      if (typeof name === 'string' && name !== this.target.clusterName) throw mismatchError(this.file, name, this.target.clusterName);
    }

    const history = await listHistory(this.file);
    const floor = opts.minSerial !== undefined && Number.isSafeInteger(opts.minSerial) ? Math.min(opts.minSerial, SERIAL_MAX - 1) : 0;
    // History names above the ceiling were not written by us (we never write one): they do not move the serial.
    const newest = history.find((h) => h.serial < SERIAL_MAX)?.serial ?? 0;
    const serial = Math.max(nextSerial(Math.max(header?.serial ?? 0, newest)), floor);
    const nextLineage = typeof next.lineage === 'string' && next.lineage ? next.lineage : null;
    const lineage =
      opts.restoreLineage ??
      (opts.adoptLineage && nextLineage ? nextLineage : null) ??
      header?.lineage ??
      this.target.lineage ??
      // A file removed by destroy comes back in the same lineage, so the workspace still recognizes it.
      (cur.exists ? null : await this.lineageFromHistory(history)) ??
      nextLineage ??
      newLineage();
    let out = { ...next, version: STATE_FORMAT_VERSION, serial, lineage, last_modified: isoNow() } as Written<StateOf<K>>;

    const redacted = redactSecrets(out);
    if (redacted.removed.length > 0) {
      // A copy: the caller's objects (a connection config, say) keep their fields.
      out = redacted.value;
      this.store.warn(`Not storing secrets in ${this.file}: dropped ${redacted.removed.join(', ')}.`);
    }
    if (!(kind === 'cluster' && isCertainlyValidCluster(out))) {
      const result = (kind === 'cluster' ? clusterStateSchema : federationStateSchema).safeParse(out);
      if (!result.success) throw invalidWrite(kind, this.file, result.error);
    }

    const text = serializeState(out);
    const name = historyName(serial);
    await atomicWrite(this.file, text, { historyName: name, backup: cur.keep ?? 'link' });
    try {
      const st = await stat(this.file, { bigint: true });
      headerCache.set(this.file, { key: statKey(st), header: headerOf(out), ours: true });
    } catch {
      headerCache.delete(this.file);
    }
    const entries: HistoryFile[] = [{ name, serial, path: join(siblingPaths(this.file).history, name) }, ...history.filter((h) => h.serial !== serial)];
    await trimHistory(this.file, this.store.historyLimit, entries);
    return out;
  }
}
