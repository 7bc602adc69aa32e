import { watch, type FSWatcher } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { AppInfo, AppSettings, BackupEntry, WorkspaceEntry, WorkspaceSnapshot } from '../preload/contract';
import { createClusterEnv, type ClusterEnv } from './clusters/env';
import type { FederationEnv } from './federations/env';
import { EventHub } from './ipc/events';
import { OperationRunner } from './operations/runner';
import type { OpContext } from './operations/types';
import { operationLabel } from '../preload/operation-labels';
import { Settings, type SettingsBackend } from './settings/settings';
import { redactText } from './secrets/redact';
import { readBackendSetting, siblingPaths, StateStore } from './state';
import { WorkspaceBackends } from './workspaces/backends';
import { DeskFeed } from './workspaces/desk-feed';
import { WorkspaceRegistry } from './workspaces/registry';
import { buildSnapshot, SnapshotHolder, targetOf } from './workspaces/snapshot';

export interface ServicesOptions {
  readonly dataDir: string;
  readonly settingsBackend: SettingsBackend;
  readonly host: AppInfo['host'];
  readonly version: string;
  /** Where warnings go (stale locks broken, watcher failures). */
  readonly warn?: (message: string) => void;
}

/**
 * Everything main owns, wired once: settings, the workspace registry, the state engine, the operation runner, the
 * event hub and the environments the domain functions run in. The Electron entry, `serve` and tests all build this
 * same object; the handler table (main/ipc/table.ts) calls the plain domain functions with it, every mutation through
 * `operate`.
 */
export class AppServices {
  readonly events = new EventHub();
  readonly runner = new OperationRunner();
  readonly settings: Settings;
  readonly registry: WorkspaceRegistry;
  readonly store: StateStore;
  /** Per-VM drift notes of the last unapplied refresh, by workspace (`VmView.drift`); any other cluster operation clears them. */
  readonly vmDrift = new Map<string, ReadonlyMap<string, string>>();
  /** Which workspaces a PostgreSQL backend holds, and LISTEN on those backends (main/workspaces/backends.ts). */
  readonly backends: WorkspaceBackends;
  /** What the host has announced, folded from its events: the tray's source (never re-reads a state file). */
  readonly desk: DeskFeed;
  /** The one copy of each workspace's last published snapshot; `workspace:changed` carries patches against it. */
  readonly snapshots = new SnapshotHolder();
  private readonly baseClusterEnv: ClusterEnv;
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  /** What the state file and its lock looked like at the last publish, by workspace (see `publishIfChanged`). */
  private readonly published = new Map<string, string>();
  private disposed = false;

  constructor(readonly options: ServicesOptions) {
    this.settings = new Settings(options.settingsBackend);
    this.registry = new WorkspaceRegistry(this.settings);
    this.store = new StateStore({
      historyLimit: this.settings.get('historyLimit'),
      lockTimeoutMs: this.settings.get('lockTimeoutMs'),
      onWarning: (m) => this.warn(m),
    });
    this.baseClusterEnv = createClusterEnv({ store: this.store });
    this.runner.subscribe({
      progress: (e) => this.events.emit('operation:progress', e),
      finished: (e) => this.events.emit('operation:finished', e),
    });
    // Another desk's commit or lock (LISTEN), or the database going away / coming back: a fresh snapshot, unless
    // an operation of ours runs on it (it publishes when it ends).
    this.backends = new WorkspaceBackends(this.store, (id) => {
      if (!this.disposed && !this.runner.current(id)) void this.publish(id).catch(() => undefined);
    });
    this.desk = new DeskFeed(this.events, { list: () => this.registry.list(), snapshot: (id) => this.snapshot(id) });
    for (const entry of this.registry.list()) {
      this.watchState(entry);
      void this.backends.ensure(entry).catch((err: unknown) => this.warn(`state backend of ${entry.name}: ${String(err)}`));
    }
  }

  warn(message: string): void {
    (this.options.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`)))(redactText(message));
  }

  info(): AppInfo {
    return {
      name: 'Clusterdesk',
      version: this.options.version,
      host: this.options.host,
      platform: `${process.platform}-${process.arch} (${hostname()})`,
      dataDir: this.options.dataDir,
      nodeVersion: process.versions.node,
    };
  }

  getSettings(): AppSettings {
    const g = this.settings;
    return {
      historyLimit: g.get('historyLimit'),
      stopTimeoutSec: g.get('stopTimeoutSec'),
      lockTimeoutMs: g.get('lockTimeoutMs'),
      parallelism: g.get('parallelism'),
      sshConnectTimeoutMs: g.get('sshConnectTimeoutMs'),
      autoRefreshLocalMin: g.get('autoRefreshLocalMin'),
      autoRefreshRemoteMin: g.get('autoRefreshRemoteMin'),
    };
  }

  /** Stores the given settings; the state engine and the next operations use them at once. */
  setSettings(changes: Partial<AppSettings>): AppSettings {
    for (const [key, value] of Object.entries(changes) as [keyof AppSettings, number | undefined][]) {
      if (value !== undefined) this.settings.set(key, value);
    }
    this.store.configure({ historyLimit: this.settings.get('historyLimit'), lockTimeoutMs: this.settings.get('lockTimeoutMs') });
    return this.getSettings();
  }

  async addWorkspace(path: string, statePath?: string): Promise<WorkspaceEntry> {
    const entry = await this.registry.add(path, statePath ? { statePath } : {});
    this.watchState(entry);
    await this.backends.ensure(entry);
    this.events.emit('workspaces:changed', this.registry.list());
    return entry;
  }

  removeWorkspace(id: string): { removed: boolean } {
    const removed = this.registry.remove(id);
    this.unwatch(id);
    this.backends.forget(id);
    this.vmDrift.delete(id);
    this.published.delete(id);
    this.snapshots.forget(id);
    if (removed) this.events.emit('workspaces:changed', this.registry.list());
    return { removed };
  }

  /** The environment cluster operations run in, with the settings as they are now. */
  clusterEnv(): ClusterEnv {
    const g = this.settings;
    return { ...this.baseClusterEnv, stopTimeoutSec: g.get('stopTimeoutSec'), parallelism: Math.max(1, g.get('parallelism')) };
  }

  /** The environment federation operations run in, with the settings as they are now. */
  federationEnv(): FederationEnv {
    const g = this.settings;
    return { store: this.store, parallelism: g.get('parallelism'), connectTimeoutMs: g.get('sshConnectTimeoutMs'), acceptNewHostKeys: false };
  }

  /**
   * The one door for every mutation (and every read that must not overlap one, such as refresh and probe): runs `fn`
   * as the workspace's operation — busy when another runs, an op id, progress events, cancellation (the domain
   * functions wait for the state lock on `ctx.signal`, so the wait is cancellable) — then publishes the workspace's
   * snapshot exactly once, then announces `operation:finished` with the outcomes. A failure publishes too: a failed
   * start still recorded what it created. After a success the snapshot follows the lineage the operation wrote
   * (start after clean, restore with adoption); after a failure it does not, so a foreign file is never adopted
   * silently.
   */
  async operate<T>(workspaceId: string, operation: string, fn: (ctx: OpContext, entry: WorkspaceEntry) => Promise<T>): Promise<{ opId: string; value: T }> {
    const entry = this.registry.get(workspaceId);
    // Decided already (the usual case): no await, so `busy` answers exactly as before.
    if (!this.backends.isDecided(entry)) await this.backends.ensure(entry);
    return this.runner.run(
      workspaceId,
      operation,
      (ctx) => {
        // Announced at once, so every window's task list and the tray see the operation before its first step.
        ctx.progress({ target: '', step: 'begin', value: null, message: `${operationLabel(operation)} started` });
        return fn(ctx, entry);
      },
      {
        settle: (ok) => this.publish(workspaceId, { followLineage: ok }),
      },
    );
  }

  /**
   * The recorded state of a workspace, read-only. Remembers the lineage the first time one is seen (or, with
   * `followLineage`, whenever it changed), and forgets it when the state is gone (a cleaned federation, a destroyed
   * cluster whose history was removed): the next deployment in that folder is a new lineage, not a foreign one.
   */
  async snapshot(id: string, opts: { readonly followLineage?: boolean } = {}): Promise<WorkspaceSnapshot> {
    const entry = this.registry.get(id);
    await this.backends.ensure(entry);
    const snap = await buildSnapshot(entry, this.store, this.runner.current(id), this.vmDrift.get(id), opts);
    if (!snap.error && snap.lineage && snap.lineage !== entry.lineage && (!entry.lineage || opts.followLineage)) {
      this.registry.patch(id, { lineage: snap.lineage });
    }
    if (!snap.error && snap.serial === null && entry.lineage) this.registry.patch(id, { lineage: undefined });
    return snap;
  }

  /**
   * The snapshot a window asks for (`workspace:snapshot`), with its revision: rebuilt, and announced to the other
   * windows when it differs from the one last published.
   */
  async current(id: string): Promise<WorkspaceSnapshot> {
    const { snapshot, change } = this.snapshots.reconcile(await this.snapshot(id));
    if (change) this.events.emit('workspace:changed', change);
    return snapshot;
  }

  /**
   * Builds the workspace's snapshot once and sends what changed to every window as `workspace:changed` (the one
   * function every publisher calls: operations, the file watcher, live updates from a state backend).
   */
  async publish(id: string, opts: { readonly followLineage?: boolean } = {}): Promise<void> {
    if (this.disposed || !this.registry.list().some((w) => w.id === id)) return;
    const pending = this.pending.get(id);
    if (pending) clearTimeout(pending);
    this.pending.delete(id);
    const entry = this.registry.get(id);
    const before = await fileSignature(entry.statePath);
    const snap = await this.snapshot(id, opts);
    this.published.set(id, before);
    this.events.emit('workspace:changed', this.snapshots.record(snap));
  }

  async backups(id: string): Promise<readonly BackupEntry[]> {
    const entry = this.registry.get(id);
    await this.backends.ensure(entry);
    return this.store.backups(targetOf(entry));
  }

  /** The workspace setting "state backend" (null: the config's `clusterdesk.backend`, else the local file). */
  async setBackend(id: string, backend: string | null): Promise<WorkspaceEntry> {
    const entry = this.registry.get(id);
    if (backend) readBackendSetting(backend, entry.name, { field: 'backend' }); // refuses a password in the URL, with the hint
    const next = this.registry.patch(id, { backend: backend ?? undefined, lineage: undefined });
    await this.backends.ensure(next);
    this.events.emit('workspaces:changed', this.registry.list());
    await this.publish(id, { followLineage: true });
    return next;
  }

  /**
   * Shutdown that leaves every state clean: cancels the running operations and waits for them to end (their locks
   * released by themselves, not left to be broken as stale later), then disposes. `serve` closes through this.
   */
  async close(timeoutMs?: number): Promise<void> {
    this.disposed = true;
    const left = await this.runner.close(timeoutMs);
    if (left.length > 0) this.warn(`closing while ${left.join(', ')} still ran (it did not stop when cancelled)`);
    this.dispose();
  }

  /** Stops watchers and cancels running operations. */
  dispose(): void {
    this.disposed = true;
    this.desk.dispose();
    this.runner.cancelAll();
    this.baseClusterEnv.dispose().catch((err: unknown) => this.warn(`closing libvirt connections: ${String(err)}`));
    for (const id of [...this.watchers.keys()]) this.unwatch(id);
    void this.backends.dispose();
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
  }

  /**
   * Watches the state file's folder so changes made elsewhere (the CLI, another app instance, an import) reach the
   * UI. A folder that does not exist (a clean federation: clean removes it) is not created here: its parent is watched
   * until it appears, and the watch moves back up when it goes away.
   */
  private watchState(entry: WorkspaceEntry): void {
    this.unwatch(entry.id);
    const dir = dirname(entry.statePath);
    let watchingParent = false;
    const onEvent = () => {
      this.scheduleChanged(entry.id, 150);
      void access(dir).then(
        () => watchingParent && this.rewatch(entry),
        () => !watchingParent && this.rewatch(entry),
      );
    };
    for (const candidate of [dir, dirname(dir)]) {
      try {
        const w = watch(candidate, { persistent: false }, onEvent);
        w.on('error', () => this.unwatch(entry.id));
        this.watchers.set(entry.id, w);
        return;
      } catch {
        watchingParent = true;
      }
    }
  }

  /** Re-arms the watch of a workspace still in the registry (not after dispose). */
  private rewatch(entry: WorkspaceEntry): void {
    if (!this.disposed && this.registry.list().some((w) => w.id === entry.id)) this.watchState(entry);
  }

  private unwatch(id: string): void {
    this.watchers.get(id)?.close();
    this.watchers.delete(id);
  }

  /**
   * A change seen by the file watcher. The running operation publishes when it ends, so nothing is sent meanwhile;
   * afterwards only a state file or lock that differs from the last publish is worth a snapshot (the watcher also
   * reports our own writes, history and temp files, and it reports them late).
   */
  private scheduleChanged(id: string, delayMs: number): void {
    const prev = this.pending.get(id);
    if (prev) clearTimeout(prev);
    const t = setTimeout(() => {
      this.pending.delete(id);
      void this.publishIfChanged(id).catch(() => undefined);
    }, delayMs);
    t.unref?.();
    this.pending.set(id, t);
  }

  private async publishIfChanged(id: string): Promise<void> {
    const entry = this.registry.list().find((w) => w.id === id);
    if (!entry || this.runner.current(id)) return;
    if ((await fileSignature(entry.statePath)) === this.published.get(id)) return;
    await this.publish(id);
  }
}

/** Identity of a state file and its lock as stat sees them (no read): changes when either is written or replaced. */
async function fileSignature(statePath: string): Promise<string> {
  const id = async (path: string) => {
    const st = await stat(path).catch(() => null);
    return st ? `${st.ino}:${st.size}:${st.mtimeMs}` : '-';
  };
  const lock = await stat(siblingPaths(statePath).lock).catch(() => null);
  // The lock's mtime moves with its heartbeat; only its presence and identity matter to the snapshot.
  return `${await id(statePath)}|${lock ? lock.ino : '-'}`;
}
