/**
 * Heavy parses off the main event loop (issue #10): one lazily started worker thread runs config loads and state
 * loads whose input is large, so `serve` keeps answering every other client meanwhile. The worker has its own heap limit: a config that
 * would exhaust memory ends the worker (restarted on the next call), never the host.
 *
 * The worker file is `config-worker.js` next to the built entry (electron-vite builds it as its own entry), or the
 * `.ts` source run through tsx in tests and `npm run bench`. When neither can start, callers run the task inline.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AppError } from '../errors';
import { readYamlValue } from '../files/yaml-limits';
import type { LoadedState, StateStore, StateTarget } from '../state/store';
import type { StateKind } from '../state/schema';
import type { WorkerReply, WorkerRequest, WorkerTask } from './protocol';

/** Inputs smaller than this parse in a few milliseconds: not worth a thread hop. */
export const OFF_THREAD_MIN_BYTES = 64 * 1024;
const HEAP_LIMIT_MB = 512;
/**
 * An idle worker is stopped after this long: its heap (a parsed 10,000-VM state leaves tens of MB there until its own
 * GC runs, which an idle isolate may never do) goes back to the system; the next big parse starts a fresh one (~50 ms).
 */
export const OFF_THREAD_IDLE_STOP_MS = 10_000;

interface Pending {
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

let worker: Worker | null = null;
let broken = false;
let nextId = 1;
const pending = new Map<number, Pending>();
let idleTimer: NodeJS.Timeout | null = null;
const idleStopped = new WeakSet<Worker>();

function cancelIdleStop(): void {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = null;
}

/** Stops `w` once it has been idle for OFF_THREAD_IDLE_STOP_MS (never while a task is pending). */
function scheduleIdleStop(w: Worker): void {
  cancelIdleStop();
  idleTimer = setTimeout(() => {
    idleTimer = null;
    if (worker !== w || pending.size > 0) return;
    worker = null;
    idleStopped.add(w);
    void w.terminate();
  }, OFF_THREAD_IDLE_STOP_MS);
  idleTimer.unref();
}

function workerEntry(): { file: string; execArgv: string[] } | null {
  const here = import.meta.url;
  for (const rel of ['./config-worker.js', '../config-worker.js', './workers/config-worker.js']) {
    const file = fileURLToPath(new URL(rel, here));
    if (existsSync(file)) return { file, execArgv: [] };
  }
  const source = fileURLToPath(new URL('./config-worker.ts', here));
  if (existsSync(source)) return { file: source, execArgv: ['--import', 'tsx'] };
  return null;
}

function failAll(err: unknown): void {
  for (const p of pending.values()) p.reject(err);
  pending.clear();
}

function start(): Worker | null {
  if (worker) return worker;
  if (broken) return null;
  const entry = workerEntry();
  if (!entry) {
    broken = true;
    return null;
  }
  try {
    const w = new Worker(entry.file, { execArgv: entry.execArgv, resourceLimits: { maxOldGenerationSizeMb: HEAP_LIMIT_MB } });
    w.unref();
    w.on('message', (reply: WorkerReply) => {
      const p = pending.get(reply.id);
      if (!p) return;
      pending.delete(reply.id);
      if (pending.size === 0) {
        w.unref();
        scheduleIdleStop(w);
      }
      if (reply.ok) p.resolve(reply.value);
      else p.reject(AppError.fromData(reply.error));
    });
    w.on('error', (err) => {
      if (worker === w) worker = null;
      const oom = (err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      failAll(
        oom
          ? new AppError('config-invalid', `Parsing the config needed more than ${HEAP_LIMIT_MB} MB of memory; it was stopped.`, {
              hint: 'The file is far larger than any real config; check what it contains.',
            })
          : new AppError('internal', `The config worker failed: ${err.message}`, { hint: 'This is a bug in Clusterdesk; please report it with the log.' }),
      );
    });
    w.on('exit', () => {
      if (worker === w) worker = null;
      // A worker stopped for idleness had nothing pending; what is pending now belongs to its successor.
      if (idleStopped.has(w)) return;
      failAll(new AppError('internal', 'The config worker exited.', { hint: 'Retry; this is a bug in Clusterdesk if it happens again.' }));
    });
    worker = w;
    return w;
  } catch {
    broken = true;
    return null;
  }
}

/** Is a worker available (started or startable)? False means: run the task inline. */
export function offThreadAvailable(): boolean {
  if (process.env.CLUSTERDESK_INLINE_PARSE === '1') return false;
  return start() !== null;
}

/** Tasks the worker has been given, by kind (tests check that a big state was loaded there). */
export const offThreadCounts: Record<WorkerTask['kind'], number> = { 'load-cluster-config': 0, 'read-yaml': 0, 'load-state': 0 };

/** Runs a task in the worker; the caller checked `offThreadAvailable()`. */
export function runOffThread<T>(task: WorkerTask): Promise<T> {
  const w = start();
  if (!w) return Promise.reject(new AppError('internal', 'No config worker is available.'));
  offThreadCounts[task.kind]++;
  cancelIdleStop();
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    w.ref();
    w.postMessage({ id, task } satisfies WorkerRequest);
  });
}

/** Stops the worker (tests, shutdown). */
export async function stopOffThread(): Promise<void> {
  cancelIdleStop();
  const w = worker;
  worker = null;
  if (w) await w.terminate();
}

/** A YAML file's value within the limits (`readYamlValue`), parsed in the worker when the file is large. */
export async function readYamlAnyThread(file: string): Promise<unknown> {
  const size = await stat(file).then(
    (st) => (st.isFile() ? st.size : 0),
    () => 0,
  );
  if (size >= OFF_THREAD_MIN_BYTES && offThreadAvailable()) return runOffThread<unknown>({ kind: 'read-yaml', file });
  return readYamlValue(file);
}

/**
 * State files at least this large are loaded in the worker (~2,500 VMs; parsing, checking and redacting a smaller
 * one takes a few milliseconds, less than the hop). A 40,000-VM state (~14 MB) holds the loop for hundreds of ms.
 */
export const STATE_OFF_THREAD_MIN_BYTES = 1024 * 1024;

/**
 * `store.loadWithFormat(target)`, run in the worker when the target is a file (not a PostgreSQL backend) and large: read, JSON.parse, validation and
 * redaction happen there; only the structured clone of the result lands on this thread. Typed errors (state-corrupt,
 * state-foreign, state-io, state-mismatch…) come back as they are. When the worker itself fails (out of its memory
 * on a file near the size limit), the load runs here instead: slower for everyone, but the same answer.
 */
export async function loadStateAnyThread<K extends StateKind>(store: StateStore, target: StateTarget<K>): Promise<LoadedState<K> | null> {
  // A workspace whose state lives in PostgreSQL is read through the store's connection, never as a file here.
  if (store.backendOf(target)) return store.loadWithFormat(target);
  const size = await stat(target.file).then(
    (st) => (st.isFile() ? st.size : 0),
    () => 0,
  );
  if (size < STATE_OFF_THREAD_MIN_BYTES || !offThreadAvailable()) return store.loadWithFormat(target);
  try {
    return await runOffThread<LoadedState<K> | null>({ kind: 'load-state', target });
  } catch (err) {
    if (err instanceof AppError && err.code !== 'internal' && err.code !== 'config-invalid') throw err;
    return store.loadWithFormat(target);
  }
}
