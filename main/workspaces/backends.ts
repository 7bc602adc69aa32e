/**
 * Which backend holds each opened workspace's state, and live updates from it.
 *
 * - The backend is the workspace setting (`WorkspaceEntry.backend`, set in the app) when there is one, else
 *   `clusterdesk.backend` of its cluster.yaml / refedez.yaml (re-read when the config file changes). It is bound to
 *   the workspace's state file path in the state engine (main/state/backends/route.ts), so every read and write of
 *   that workspace — operations, snapshots, history, restore — goes to the database.
 * - A bad setting (a password in the URL, not a postgres:// URL) is bound too, as a refusal: every state call of the
 *   workspace then answers that `config-invalid` with its hint, and nothing falls back to the local file.
 * - Each backend URL in use has one LISTEN connection (reconnecting by itself): a commit or a lock taken / released
 *   by any desk, and the connection going away or coming back, call `onChanged` for the workspaces concerned — no
 *   polling.
 */
import { stat } from 'node:fs/promises';
import type { WorkspaceEntry } from '../../preload/contract';
import { AppError } from '../errors';
import type { StateStore } from '../state';
import { readBackendSetting, type BackendSpec } from '../state/backends/backend-config';
import { bindStateBackend } from '../state/backends/route';
import { detectWorkspace } from './detect';
import { configFileOf } from './registry';

/** How often a lock held by another desk is checked for a holder that died without a word. */
const HOLDER_CHECK_MS = 2000;

/** Why a workspace's snapshot may be worth re-reading. */
export type BackendEvent = 'commit' | 'lock' | 'connection';

interface Listener {
  readonly stop: Promise<() => void>;
  connected: boolean | null;
}

export class WorkspaceBackends {
  /** By workspace id: the signature of what decided the backend, and the result. */
  private readonly decided = new Map<string, { readonly sig: string; readonly spec: BackendSpec | null; readonly statePath: string }>();
  private readonly listeners = new Map<string, Listener>();
  /** Workspaces whose lock another desk took: checked until released (a holder that dies sends no notification). */
  private readonly held = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly store: StateStore,
    private readonly onChanged: (workspaceId: string, why: BackendEvent) => void,
  ) {}

  /** The backend of a workspace now (reads its config only when the setting or the config file changed). */
  async ensure(entry: WorkspaceEntry): Promise<BackendSpec | null> {
    const mtime = await stat(configFileOf(entry)).then(
      (st) => `${st.ino}:${st.mtimeMs}:${st.size}`,
      () => '-',
    );
    const sig = `${entry.backend ?? ''}|${entry.statePath}|${mtime}`;
    const prev = this.decided.get(entry.id);
    if (prev && prev.sig === sig) return prev.spec;
    let spec: BackendSpec | null;
    try {
      if (entry.backend) spec = readBackendSetting(entry.backend, entry.name, { field: 'backend (workspace setting)' });
      else spec = (await detectWorkspace(entry.path, entry.kind === 'cluster' ? { statePath: entry.statePath } : {})).backend ?? null;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      // A config that cannot be read at all keeps the last decision (the operations report the config error);
      // a bad backend setting is bound as a refusal.
      if (err.fields.field?.includes('backend')) spec = { url: entry.backend ?? 'postgres://invalid', key: entry.name, problem: err };
      else spec = prev?.spec ?? null;
    }
    if (prev && prev.statePath !== entry.statePath) bindStateBackend(prev.statePath, null);
    bindStateBackend(entry.statePath, spec);
    this.decided.set(entry.id, { sig, spec, statePath: entry.statePath });
    this.relisten();
    if (prev && prev.spec?.url !== spec?.url) this.onChanged(entry.id, 'connection');
    return spec;
  }

  /** Whether the workspace's backend was decided for its current setting and state file (the config is re-read by `ensure`). */
  isDecided(entry: WorkspaceEntry): boolean {
    const d = this.decided.get(entry.id);
    return d !== undefined && d.sig.startsWith(`${entry.backend ?? ''}|${entry.statePath}|`);
  }

  /** The backend decided for a workspace (null: its local file, or not decided yet). */
  specOf(id: string): BackendSpec | null {
    return this.decided.get(id)?.spec ?? null;
  }

  /** Whether the LISTEN connection of the workspace's backend is up (null: no backend, or not known yet). */
  connected(id: string): boolean | null {
    const spec = this.specOf(id);
    return spec ? (this.listeners.get(spec.url)?.connected ?? null) : null;
  }

  /** The workspace was removed from the registry. */
  forget(id: string): void {
    this.unwatchHolder(id);
    const prev = this.decided.get(id);
    if (!prev) return;
    this.decided.delete(id);
    bindStateBackend(prev.statePath, null);
    this.relisten();
  }

  /** Stops listening and closes the database pools. */
  async dispose(): Promise<void> {
    for (const id of [...this.held.keys()]) this.unwatchHolder(id);
    for (const url of [...this.listeners.keys()]) this.stopListening(url);
    await this.store.close();
  }

  /** One LISTEN per backend URL in use; none for a URL no workspace uses any more. */
  private relisten(): void {
    const urls = new Set([...this.decided.values()].flatMap((d) => (d.spec && !d.spec.problem ? [d.spec.url] : [])));
    for (const url of [...this.listeners.keys()]) if (!urls.has(url)) this.stopListening(url);
    for (const url of urls) {
      if (this.listeners.has(url)) continue;
      const listener: Listener = {
        connected: null,
        stop: this.store
          .watchBackend(
            url,
            (change) => {
              for (const [id, d] of this.decided) {
                if (d.spec?.url !== url) continue;
                if (change.key !== '*' && change.key !== d.spec.key) continue;
                if (change.lock === 'taken') this.watchHolder(id);
                else if (change.lock === 'released') this.unwatchHolder(id);
                this.onChanged(id, change.lock ? 'lock' : 'commit');
              }
            },
            (status) => {
              if (listener.connected === status.connected) return;
              listener.connected = status.connected;
              for (const [id, d] of this.decided) if (d.spec?.url === url) this.onChanged(id, 'connection');
            },
          )
          .catch(() => () => undefined),
      };
      this.listeners.set(url, listener);
    }
  }

  /**
   * PostgreSQL says nothing when a lock's holder dies (SIGKILL, a lost network): the lock goes with its connection.
   * While another desk holds a workspace's lock, ask every `HOLDER_CHECK_MS` whether it still does (one indexed
   * query), and re-read the workspace the moment it does not. Only while a lock is held; changes still come by NOTIFY.
   */
  private watchHolder(id: string): void {
    if (this.held.has(id)) return;
    const timer = setInterval(() => {
      const d = this.decided.get(id);
      if (!d?.spec) return this.unwatchHolder(id);
      this.store.lockInfo({ kind: 'federation', file: d.statePath, backend: d.spec }).then(
        (lock) => {
          if (lock || !this.held.has(id)) return;
          this.unwatchHolder(id);
          this.onChanged(id, 'lock');
        },
        () => undefined, // unreachable: the connection status reports it
      );
    }, HOLDER_CHECK_MS);
    timer.unref?.();
    this.held.set(id, timer);
  }

  private unwatchHolder(id: string): void {
    clearInterval(this.held.get(id));
    this.held.delete(id);
  }

  private stopListening(url: string): void {
    const l = this.listeners.get(url);
    this.listeners.delete(url);
    void l?.stop.then((stop) => stop());
  }
}
