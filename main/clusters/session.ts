/**
 * One cluster operation's session: the state lock (held for the whole operation), a libvirt connection opened
 * under it, and checkpoints that persist progress — the demo host file first, then the state file.
 */
import type { OpContext } from '../operations/types';
import { AppError, cancelledError } from '../errors';
import type { ClusterState, StateTx } from '../state';
import { releaseFreedNativeMemory } from './libvirt/native-memory';
import { saveTestHost, TestHostXmlCache, testHostFile } from './libvirt/test-host';
import type { LibvirtHost } from './libvirt/types';
import type { ClusterEnv } from './env';
import { clusterTarget, type ClusterWorkspace } from './workspace';

export interface ClusterSession {
  readonly tx: StateTx<'cluster'>;
  readonly host: LibvirtHost;
  readonly ctx: OpContext;
  /** The state as it will be written at the next checkpoint (null: nothing to write). */
  readonly state: ClusterState | null;
  /** Replaces the in-memory state; written at the next checkpoint. */
  set(next: ClusterState): void;
  /** Applies `fn` to the in-memory state (which must exist). */
  update(fn: (s: ClusterState) => ClusterState): void;
  /** Saves the demo host (if any), then writes the state; concurrent calls coalesce into one write after them. */
  checkpoint(): Promise<void>;
  /**
   * A paced checkpoint, for progress that need not be durable at once (what it records is either provable by our
   * mark or already written ahead): it begins no sooner than `delayMs` from now, and checkpoints begin at most every
   * `CHECKPOINT_PACE_MS` — or further apart when one takes long (a few times its own duration). Calls coalesce: one
   * pending paced checkpoint, brought forward by a call that allows an earlier one. Resolves after that checkpoint;
   * it may be left unawaited (a failure is not lost: the next checkpoint meets it again). One still pending when
   * the operation ends is written before the lock is released.
   */
  checkpointSoon(delayMs?: number): Promise<void>;
  /** Waits for writes in flight, then removes the state file and writes nothing more (a start that created nothing). */
  discard(): Promise<void>;
  /** Saves the demo host only (destroy writes no intermediate states). */
  saveHost(): Promise<void>;
  /** Throws `cancelled` when the operation was cancelled. */
  checkCancelled(): void;
}

/** The shortest gap between the starts of two paced checkpoints. */
export const CHECKPOINT_PACE_MS = 250;
/** Paced checkpoints are also at least this many times their own last duration apart (checkpoints ≤ ~1/4 of the time). */
const PACE_COST_FACTOR = 3;

/** A paced checkpoint waiting for its time (`due`, on the performance clock): `fire` starts it now. */
interface Paced {
  readonly promise: Promise<void>;
  readonly due: number;
  readonly timer: ReturnType<typeof setTimeout>;
  readonly fire: () => void;
}

/** Serializes saves and coalesces requests: each caller resolves after a save that began after its request. */
class Coalescer {
  private tail: Promise<void> = Promise.resolve();
  private queued: Promise<void> | null = null;
  constructor(private readonly work: () => Promise<void>) {}
  request(): Promise<void> {
    if (this.queued) return this.queued;
    const run = this.tail.then(() => {
      this.queued = null;
      return this.work();
    });
    this.queued = run;
    this.tail = run.catch(() => undefined);
    return run;
  }
  idle(): Promise<void> {
    return this.tail;
  }
}

/**
 * Keeps demo-host saves and libvirt changes apart: a save reads every object one by one, so a domain undefined in
 * the middle of it would fail the save. Changes run concurrently with each other; a save waits for the changes in
 * flight, and changes that arrive meanwhile wait for the save.
 */
class SaveGate {
  private active = 0;
  private saving: Promise<void> | null = null;
  private idle: (() => void)[] = [];

  async change<T>(fn: () => Promise<T>): Promise<T> {
    while (this.saving) await this.saving.catch(() => undefined);
    this.active++;
    try {
      return await fn();
    } finally {
      if (--this.active === 0) for (const r of this.idle.splice(0)) r();
    }
  }

  async save(fn: () => Promise<void>): Promise<void> {
    while (this.saving) await this.saving.catch(() => undefined);
    const run = (async () => {
      while (this.active > 0) await new Promise<void>((r) => this.idle.push(r));
      await fn();
    })();
    this.saving = run;
    try {
      await run;
    } finally {
      if (this.saving === run) this.saving = null;
    }
  }
}

/** The adapter methods that change the host (everything else only reads). */
const CHANGES: ReadonlySet<string> = new Set([
  'defineDomain',
  'startDomain',
  'shutdownDomain',
  'destroyDomain',
  'suspendDomain',
  'resumeDomain',
  'rebootDomain',
  'undefineDomain',
  'setDomainAutostart',
  'defineNetwork',
  'addDhcpHost',
  'startNetwork',
  'destroyNetwork',
  'undefineNetwork',
  'definePool',
  'buildPool',
  'startPool',
  'refreshPool',
  'destroyPool',
  'deletePool',
  'undefinePool',
  'createVolume',
  'deleteVolume',
] satisfies (keyof LibvirtHost)[]);

/** `host` with every change routed through the gate; `changed` hears of each change as it ends (result or undefined). */
function gated(host: LibvirtHost, gate: SaveGate, changed: (method: string, args: readonly unknown[], result: unknown) => void): LibvirtHost {
  return new Proxy(host, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || !CHANGES.has(prop) || typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        gate.change(async () => {
          let result: unknown;
          try {
            result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            return result;
          } finally {
            changed(prop, args, result);
          }
        });
    },
  });
}

/** The one `cancelled` error (main/errors.ts), re-exported for the cluster operations that import it from here. */
export { cancelledError };

/**
 * Runs `fn` holding the workspace's state lock, with a libvirt connection opened after the lock was taken (so a
 * demo host file reflects whatever the previous holder saved). Cancelling aborts the wait for the lock; once the
 * lock is held the operation sees cancellation only through `checkCancelled`, so it can still record what exists.
 */
export async function withSession<T>(
  env: ClusterEnv,
  ws: ClusterWorkspace,
  opts: { readonly operation: string; readonly uri: string; readonly clusterName: string | null },
  ctx: OpContext,
  fn: (s: ClusterSession) => Promise<T>,
): Promise<T> {
  if (ctx.signal.aborted) throw cancelledError();
  try {
    return await env.store.transaction(
      clusterTarget(ws, opts.clusterName),
      opts.operation,
      async (tx) => {
        const raw = await env.connect(opts.uri);
        const hostFile = testHostFile(raw.uri);
        const gate = new SaveGate();
        // The demo host is saved only when something changed it since its last save (a save reads every object).
        let hostDirty = true;
        const xmlCache = new TestHostXmlCache();
        const host = hostFile
          ? gated(raw, gate, (method, args, result) => {
              hostDirty = true;
              xmlCache.changed(method, args, result);
            })
          : raw;
        let state: ClusterState | null = null;
        /** The state object the last write returned: a checkpoint with nothing new writes no generation. */
        let written: ClusterState | null = null;
        const hostSaver = new Coalescer(async () => {
          if (!hostFile) return;
          await gate.save(async () => {
            // Changes wait while the save runs, so whatever begins after this point marks the host dirty again.
            if (!hostDirty) return;
            hostDirty = false;
            try {
              await saveTestHost(raw, hostFile, xmlCache);
            } catch (err) {
              hostDirty = true;
              throw err;
            }
          });
        });
        let lastStart = Number.NEGATIVE_INFINITY;
        let lastCostMs = 0;
        const saver = new Coalescer(async () => {
          const t0 = performance.now();
          lastStart = t0;
          try {
            await hostSaver.request();
            const snap = state;
            if (!snap || snap === written) return;
            const w = await tx.write(snap);
            // Updates made while the write was in flight stay; only the header the store filled in is taken over.
            state = state === snap ? w : { ...state!, version: w.version, serial: w.serial, lineage: w.lineage, last_modified: w.last_modified };
            written = state === w ? w : null;
          } finally {
            lastCostMs = performance.now() - t0;
          }
        });
        let paced: Paced | null = null;
        const checkpointSoon = (delayMs = 0): Promise<void> => {
          const now = performance.now();
          const due = Math.max(now + Math.max(0, delayMs), lastStart + Math.max(CHECKPOINT_PACE_MS, PACE_COST_FACTOR * lastCostMs));
          if (paced) {
            if (due >= paced.due) return paced.promise;
            // Brought forward: the same promise, an earlier timer.
            clearTimeout(paced.timer);
            const { promise, fire } = paced;
            paced = { promise, fire, due, timer: setTimeout(fire, due - now) };
            return promise;
          }
          let release!: () => void;
          const ready = new Promise<void>((r) => {
            release = r;
          });
          const promise = ready.then(() => {
            paced = null;
            return saver.request();
          });
          promise.catch(() => undefined);
          const fire = () => {
            if (paced) clearTimeout(paced.timer);
            release();
          };
          paced = { promise, fire, due, timer: setTimeout(fire, due - now) };
          return promise;
        };
        const session: ClusterSession = {
          tx,
          host,
          ctx,
          get state() {
            return state;
          },
          set(next) {
            state = next;
          },
          update(f) {
            if (!state) throw new AppError('internal', 'No cluster state to update.');
            state = f(state);
          },
          checkpoint: () => saver.request(),
          checkpointSoon,
          async discard() {
            await saver.idle();
            state = null;
            await hostSaver.request();
            await tx.remove();
          },
          saveHost: () => hostSaver.request(),
          checkCancelled() {
            if (ctx.signal.aborted) throw cancelledError();
          },
        };
        try {
          return await fn(session);
        } finally {
          // (read through a function: the compiler does not see that the callbacks above assign it)
          const pending = ((): Paced | null => paced)();
          if (pending) {
            pending.fire();
            await pending.promise.catch(() => undefined);
          }
          await saver.idle();
          await hostSaver.idle();
          await raw.close();
          void releaseFreedNativeMemory(); // what the connection held goes back to the system (not awaited)
        }
      },
      { waitSignal: ctx.signal },
    );
  } catch (err) {
    if (ctx.signal.aborted && !(err instanceof AppError)) throw cancelledError();
    throw err;
  }
}
