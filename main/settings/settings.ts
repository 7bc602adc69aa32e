import { homedir } from 'node:os';
import { join } from 'node:path';
import type { WorkspaceEntry } from '../../preload/contract';

/** Everything Clusterdesk keeps in its settings file. */
export interface SettingsData {
  readonly workspaces: readonly WorkspaceEntry[];
  /** State generations kept in each state file's history folder. */
  readonly historyLimit: number;
  /** Graceful shutdown timeout of a cluster stop, in seconds, before VMs are forced off. */
  readonly stopTimeoutSec: number;
  /** How long a writer waits for another's state lock before answering `state-locked`. */
  readonly lockTimeoutMs: number;
  /** Machines / VMs handled at once. */
  readonly parallelism: number;
  /** SSH connect timeout, ms. */
  readonly sshConnectTimeoutMs: number;
  /** Periodic refresh / probe of local workspaces, minutes (0 = off). */
  readonly autoRefreshLocalMin: number;
  /** Periodic refresh / probe of remote workspaces, minutes (0 = off, the default). */
  readonly autoRefreshRemoteMin: number;
}

export const DEFAULT_SETTINGS: SettingsData = {
  workspaces: [],
  historyLimit: 10,
  stopTimeoutSec: 60,
  lockTimeoutMs: 10_000,
  parallelism: 8,
  sshConnectTimeoutMs: 10_000,
  autoRefreshLocalMin: 10,
  autoRefreshRemoteMin: 0,
};

/** The storage behind `Settings`: electron-store in Electron, `conf` (which electron-store wraps) elsewhere. */
export interface SettingsBackend {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  readonly path: string;
}

/** Typed access to the settings file. */
export class Settings {
  constructor(private readonly backend: SettingsBackend) {}

  get path(): string {
    return this.backend.path;
  }

  get<K extends keyof SettingsData>(key: K): SettingsData[K] {
    const value = this.backend.get(key);
    return (value === undefined ? DEFAULT_SETTINGS[key] : value) as SettingsData[K];
  }

  set<K extends keyof SettingsData>(key: K, value: SettingsData[K]): void {
    this.backend.set(key, value);
  }
}

/**
 * The data directory: `--data-dir`, else `CLUSTERDESK_DATA_DIR`, else the platform config folder (the same folder
 * Electron uses for the app's userData, so the desktop app, `serve` and the CLI share one registry).
 */
export function resolveDataDir(explicit: string | undefined, env: NodeJS.ProcessEnv, platform = process.platform): string {
  if (explicit) return explicit;
  if (env.CLUSTERDESK_DATA_DIR) return env.CLUSTERDESK_DATA_DIR;
  const home = homedir();
  switch (platform) {
    case 'darwin':
      return join(home, 'Library', 'Application Support', 'Clusterdesk');
    case 'win32':
      return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Clusterdesk');
    default:
      return join(env.XDG_CONFIG_HOME ?? join(home, '.config'), 'Clusterdesk');
  }
}
