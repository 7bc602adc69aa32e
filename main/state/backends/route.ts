/**
 * Routing a workspace's state to its backend. A workspace whose config (or app setting) names a PostgreSQL backend is
 * bound here by its state file path; the StateStore then sends every call for that target — load, transaction,
 * history, restore, lock info — to the PgStateBackend, so the domains, the CLI, `serve` and the app never know which
 * backend holds their state (docs/state.md, "Team state on PostgreSQL"). Nothing is ever written to the local file of
 * a bound workspace: an unreachable database is `backend-unreachable`, never a silent local fallback.
 *
 * `pg` is loaded only when a bound workspace is first used.
 */
import { resolve } from 'node:path';
import type { LockHolder } from '../../../preload/contract';
import { AppError } from '../../errors';
import type { LockInfo } from '../lock';
import type { AnyState, StateKind, StateOf, Written } from '../schema';
import type { LoadedState, StateTarget, StateTx, TransactionOptions, WriteOptions } from '../store';
import type { BackendSpec } from './backend-config';
import type { PgChange, PgStateBackend, PgTarget, PgTx } from './postgres';

export type { BackendSpec } from './backend-config';

/** State file path → the backend holding that workspace's state (process-wide: one registry of workspaces per process). */
const routes = new Map<string, BackendSpec>();

/** Binds (or, with null, unbinds) the workspace whose state file is `file` to a backend. */
export function bindStateBackend(file: string, spec: BackendSpec | null): void {
  const key = resolve(file);
  if (spec) routes.set(key, spec);
  else routes.delete(key);
}

/** The backend a target is routed to: its own `backend`, else the one bound to its file, else null (the file). */
export function routeOf(target: StateTarget): BackendSpec | null {
  if (target.backend !== undefined) return target.backend;
  if (typeof target.file !== 'string') return null;
  return routes.get(resolve(target.file)) ?? null;
}

/** What a router needs from its store: the current limits and where warnings go. */
export interface RouterHost {
  readonly historyLimit: number;
  readonly lockTimeoutMs: number;
  warn(message: string): void;
}

const pgTarget = <K extends StateKind>(target: StateTarget<K>, spec: BackendSpec): PgTarget<K> => ({
  kind: target.kind,
  key: spec.key,
  ...(target.clusterName ? { clusterName: target.clusterName } : {}),
  ...(target.lineage ? { lineage: target.lineage } : {}),
});

/** The PostgreSQL side of one StateStore: one backend (pool) per URL, the last state read of each workspace. */
export class PgRouter {
  private readonly backends = new Map<string, Promise<PgStateBackend>>();
  private readonly lastKnown = new Map<string, { readonly state: AnyState; readonly at: string }>();

  constructor(private readonly host: RouterHost) {}

  /** The backend for a URL (created once; configured with the store's limits on every use). */
  async backend(url: string): Promise<PgStateBackend> {
    let b = this.backends.get(url);
    if (!b) {
      b = import('./postgres').then(({ PgStateBackend }) =>
        PgStateBackend.create(url, {
          historyLimit: this.host.historyLimit,
          lockTimeoutMs: this.host.lockTimeoutMs,
          onWarning: (m) => this.host.warn(m),
        }),
      );
      b.catch(() => this.backends.delete(url));
      this.backends.set(url, b);
    }
    const backend = await b;
    backend.configure({ historyLimit: this.host.historyLimit, lockTimeoutMs: this.host.lockTimeoutMs });
    return backend;
  }

  /** The backend of a workspace; a refused setting answers its error (nothing falls back to the local file). */
  private async backendFor(spec: BackendSpec): Promise<PgStateBackend> {
    if (spec.problem) throw spec.problem;
    return this.backend(spec.url);
  }

  /** What errors and the UI name as the state's place: `postgres://host:port/db?schema=s#key`. */
  async labelOf(spec: BackendSpec): Promise<string> {
    return (await this.backendFor(spec)).labelOf(spec.key);
  }

  private remember(spec: BackendSpec, state: AnyState | null): void {
    const k = `${spec.url}#${spec.key}`;
    if (state) this.lastKnown.set(k, { state, at: new Date().toISOString() });
    else this.lastKnown.delete(k);
  }

  /** The last state this process read or wrote for the workspace (what a stale view shows while the database is away). */
  lastKnownState(spec: BackendSpec): { readonly state: AnyState; readonly at: string } | null {
    return this.lastKnown.get(`${spec.url}#${spec.key}`) ?? null;
  }

  async load<K extends StateKind>(target: StateTarget<K>, spec: BackendSpec): Promise<LoadedState<K> | null> {
    const state = await (await this.backendFor(spec)).load(pgTarget(target, spec));
    this.remember(spec, state);
    return state ? { state, format: 'clusterdesk' } : null;
  }

  async transaction<K extends StateKind, T>(
    target: StateTarget<K>,
    spec: BackendSpec,
    operation: string,
    fn: (tx: StateTx<K>) => Promise<T>,
    opts: TransactionOptions & { readonly timeoutMs: number },
  ): Promise<T> {
    const backend = await this.backendFor(spec);
    return backend.transaction(pgTarget(target, spec), operation, (ptx) => fn(new RoutedTx(target, ptx, (s) => this.remember(spec, s))), {
      timeoutMs: opts.timeoutMs,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.waitSignal ? { waitSignal: opts.waitSignal } : {}),
    });
  }

  async backups(target: StateTarget, spec: BackendSpec) {
    return (await this.backendFor(spec)).backups(pgTarget(target, spec));
  }

  async restore<K extends StateKind>(
    target: StateTarget<K>,
    spec: BackendSpec,
    backupId: string,
    opts: { readonly adopt?: boolean },
  ): Promise<Written<StateOf<K>>> {
    const written = await (await this.backendFor(spec)).restore(pgTarget(target, spec), backupId, opts);
    this.remember(spec, written);
    return written;
  }

  async lockInfo(spec: BackendSpec): Promise<LockInfo | null> {
    const holder: LockHolder | null = await (await this.backendFor(spec)).lockInfo({ key: spec.key });
    return holder ? { ...holder, heartbeat: holder.since } : null;
  }

  /** A server-side lock cannot be broken from here: it goes with its holder's connection. */
  async forceUnlock(spec: BackendSpec): Promise<never> {
    const label = await this.labelOf(spec);
    throw new AppError('unsupported', `${label} is locked by the database, not by a lock file: there is nothing to break by hand.`, {
      path: label,
      hint: 'The lock goes away by itself when its holder ends or loses its connection; wait for that operation to finish.',
    });
  }

  /** Adoption reads a ReFedEz / AI-HOW file: adopt the local file first, then push it to the backend. */
  async refuseAdopt(spec: BackendSpec): Promise<never> {
    const label = await this.labelOf(spec);
    throw new AppError('unsupported', `This workspace keeps its state in ${label}; a state written by ReFedEz or AI-HOW is adopted from a local file.`, {
      path: label,
      hint: 'Remove clusterdesk.backend for a moment, adopt the file (clusterdesk state adopt), then move it with clusterdesk state push --to URL.',
    });
  }

  /** LISTENs on a backend (reconnecting by itself); returns the stop function. */
  async watch(url: string, onChange: (change: PgChange) => void, onStatus: (s: { connected: boolean; error?: AppError }) => void): Promise<() => void> {
    return (await this.backend(url)).watch(onChange, onStatus);
  }

  async close(): Promise<void> {
    const all = [...this.backends.values()];
    this.backends.clear();
    await Promise.all(all.map((b) => b.then((x) => x.close()).catch(() => undefined)));
  }
}

/** A PostgreSQL transaction seen through the StateTx port. */
class RoutedTx<K extends StateKind> implements StateTx<K> {
  readonly lockId: string;
  private read_ = false;
  private exists = false;

  constructor(
    readonly target: StateTarget<K>,
    private readonly tx: PgTx<K>,
    private readonly remember: (state: AnyState | null) => void,
  ) {
    this.lockId = tx.lockId;
  }

  async read(): Promise<StateOf<K> | null> {
    const state = await this.tx.read();
    this.read_ = true;
    this.exists = state !== null;
    this.remember(state);
    return state;
  }

  async format(): Promise<'clusterdesk' | null> {
    if (!this.read_) await this.read();
    return this.exists ? 'clusterdesk' : null;
  }

  async write(next: StateOf<K>, opts: WriteOptions = {}): Promise<Written<StateOf<K>>> {
    const written = await this.tx.write(next, opts);
    this.remember(written);
    return written;
  }

  async update(
    fn: (current: StateOf<K> | null) => StateOf<K> | Promise<StateOf<K>>,
    opts: { readonly baseSerial?: number } = {},
  ): Promise<Written<StateOf<K>>> {
    const written = await this.tx.update(fn, opts);
    this.remember(written);
    return written;
  }

  /** Destroy / clean: the workspace's state row goes (its generations stay in history); no local folder is touched. */
  async remove(): Promise<void> {
    await this.tx.remove();
    this.remember(null);
  }
}
