import { watch, type FSWatcher } from 'node:fs';
import { access } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type {
  AdoptionPreview,
  AppInfo,
  AppSettings,
  BackupEntry,
  ExportedBundle,
  ImportPreview,
  MachineLog,
  MachineProbe,
  OperationReport,
  RefreshReport,
  ValidationReport,
  VmAction,
  WorkspaceEntry,
  WorkspaceSnapshot,
} from '../preload/contract';
import { EventHub } from './ipc/events';
import { OperationRunner } from './operations/runner';
import { Settings, type SettingsBackend } from './settings/settings';
import { redactText } from './secrets/redact';
import { StateStore } from './state';
import { WorkspaceRegistry } from './workspaces/registry';
import { buildSnapshot, targetOf } from './workspaces/snapshot';

/** Cluster operations by workspace id (implemented in `clusters/api.ts`). */
export interface ClusterApi {
  validate(workspaceId: string): Promise<ValidationReport>;
  start(workspaceId: string): Promise<OperationReport>;
  stop(workspaceId: string, timeoutSec?: number): Promise<OperationReport>;
  destroy(workspaceId: string, confirm: string): Promise<OperationReport>;
  refresh(workspaceId: string, apply: boolean): Promise<RefreshReport>;
  vmAction(workspaceId: string, vm: string, action: VmAction): Promise<OperationReport>;
  createDemo(folder?: string): Promise<WorkspaceEntry>;
  /** Per-VM drift notes from the last unapplied refresh, shown as `VmView.drift`. */
  vmDrift?(workspaceId: string): ReadonlyMap<string, string> | undefined;
  /** Closes libvirt connections. */
  dispose?(): Promise<void>;
}

/** Federation operations by workspace id (implemented in `federations/api.ts`). */
export interface FederationApi {
  start(workspaceId: string): Promise<OperationReport>;
  probe(workspaceId: string): Promise<readonly MachineProbe[]>;
  stop(workspaceId: string): Promise<OperationReport>;
  clean(workspaceId: string, force: boolean): Promise<OperationReport>;
  logs(workspaceId: string, lines: number): Promise<readonly MachineLog[]>;
  trustHost(workspaceId: string, host: string, port: number, fingerprint: string): Promise<{ trusted: boolean }>;
  createDemo(folder?: string): Promise<WorkspaceEntry>;
}

/** State export / import by workspace id (implemented in `sharing/api.ts`). */
export interface SharingApi {
  exportBundle(workspaceId: string, opts: { file?: string; redactHome: boolean }): Promise<ExportedBundle>;
  preview(workspaceId: string, content: string): Promise<ImportPreview>;
  importBundle(workspaceId: string, content: string, opts: { force: boolean; adopt: boolean }): Promise<WorkspaceSnapshot>;
  /** What adopting the workspace's ReFedEz / AI-HOW state would take over (read-only). */
  adoptPreview(workspaceId: string): Promise<AdoptionPreview>;
  /** Adopts it (a tracked operation, `state:adopt`). */
  adopt(workspaceId: string): Promise<WorkspaceSnapshot>;
}

export interface ServicesOptions {
  readonly dataDir: string;
  readonly settingsBackend: SettingsBackend;
  readonly host: AppInfo['host'];
  readonly version: string;
  /** Where warnings go (stale locks broken, watcher failures). */
  readonly warn?: (message: string) => void;
}

/**
 * Everything main owns, wired once: settings, the workspace registry, the state engine, the operation runner and
 * the event hub, plus the domain services. The Electron entry, `serve` and tests all build this same object.
 */
export class AppServices {
  readonly events = new EventHub();
  readonly runner = new OperationRunner();
  readonly settings: Settings;
  readonly registry: WorkspaceRegistry;
  readonly store: StateStore;
  clusters?: ClusterApi;
  federations?: FederationApi;
  sharing?: SharingApi;
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private disposed = false;

  constructor(readonly options: ServicesOptions) {
    this.settings = new Settings(options.settingsBackend);
    this.registry = new WorkspaceRegistry(this.settings);
    this.store = new StateStore({
      historyLimit: this.settings.get('historyLimit'),
      lockTimeoutMs: this.settings.get('lockTimeoutMs'),
      onWarning: (m) => this.warn(m),
    });
    this.runner.subscribe({
      progress: (e) => this.events.emit('operation:progress', e),
      finished: (e) => this.events.emit('operation:finished', e),
      changed: (id) => this.scheduleChanged(id, 0),
    });
    for (const entry of this.registry.list()) this.watchState(entry);
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
    this.events.emit('workspaces:changed', this.registry.list());
    return entry;
  }

  removeWorkspace(id: string): { removed: boolean } {
    const removed = this.registry.remove(id);
    this.unwatch(id);
    if (removed) this.events.emit('workspaces:changed', this.registry.list());
    return { removed };
  }

  /**
   * The recorded state of a workspace, read-only. Remembers the lineage the first time one is seen, and forgets it
   * when the state is gone (a cleaned federation, a destroyed cluster whose history was removed): the next deployment
   * in that folder is a new lineage, not a foreign one.
   */
  async snapshot(id: string): Promise<WorkspaceSnapshot> {
    const entry = this.registry.get(id);
    const snap = await buildSnapshot(entry, this.store, this.runner.current(id), this.clusters?.vmDrift?.(id));
    if (!snap.error && snap.lineage && !entry.lineage) this.registry.patch(id, { lineage: snap.lineage });
    if (!snap.error && snap.serial === null && entry.lineage) this.registry.patch(id, { lineage: undefined });
    return snap;
  }

  /** After `state-foreign`: the user confirms the state file now in place belongs to this workspace. */
  async adoptLineage(id: string): Promise<WorkspaceSnapshot> {
    const entry = this.registry.get(id);
    const current = await this.store.load({ ...targetOf(entry), lineage: undefined });
    this.registry.patch(id, { lineage: current?.lineage ?? undefined });
    const snap = await this.snapshot(id);
    this.events.emit('workspace:changed', snap);
    return snap;
  }

  /** Re-reads the state after an operation of ours, following a lineage it created (start after clean). */
  async afterOwnWrite(id: string): Promise<WorkspaceSnapshot> {
    const entry = this.registry.get(id);
    const loaded = await this.store.load({ ...targetOf(entry), lineage: undefined }).catch(() => null);
    if (loaded?.lineage && loaded.lineage !== entry.lineage) this.registry.patch(id, { lineage: loaded.lineage });
    const snap = await this.snapshot(id);
    this.events.emit('workspace:changed', snap);
    return snap;
  }

  async backups(id: string): Promise<readonly BackupEntry[]> {
    return this.store.backups(targetOf(this.registry.get(id)));
  }

  async restore(id: string, backupId: string, adopt: boolean): Promise<WorkspaceSnapshot> {
    const entry = this.registry.get(id);
    await this.runner.run(id, 'state:restore', async () => {
      const restored = await this.store.restore(targetOf(entry), backupId, { adopt });
      if (adopt && restored.lineage) this.registry.patch(id, { lineage: restored.lineage });
    });
    return this.afterOwnWrite(id);
  }

  async unlock(id: string, lockId: string): Promise<WorkspaceSnapshot> {
    await this.store.forceUnlock(targetOf(this.registry.get(id)), lockId);
    const snap = await this.snapshot(id);
    this.events.emit('workspace:changed', snap);
    return snap;
  }

  /** Stops watchers and cancels running operations. */
  dispose(): void {
    this.disposed = true;
    this.runner.cancelAll();
    this.clusters?.dispose?.().catch((err: unknown) => this.warn(`closing libvirt connections: ${String(err)}`));
    for (const id of [...this.watchers.keys()]) this.unwatch(id);
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

  private scheduleChanged(id: string, delayMs: number): void {
    const prev = this.pending.get(id);
    if (prev) clearTimeout(prev);
    const t = setTimeout(() => {
      this.pending.delete(id);
      if (!this.registry.list().some((w) => w.id === id)) return;
      this.snapshot(id).then(
        (snap) => this.events.emit('workspace:changed', snap),
        () => undefined,
      );
    }, delayMs);
    t.unref?.();
    this.pending.set(id, t);
  }
}
