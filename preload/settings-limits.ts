/**
 * The allowed range, unit and wording of every user setting — one table for main (the `settings:set` schema refuses
 * anything outside it) and the renderer (the Settings dialog shows and checks the same bounds).
 */
import type { AppSettings } from './contract';

export interface SettingLimit {
  readonly min: number;
  readonly max: number;
  /** The unit shown beside the field (`s`, `ms`, or a noun). */
  readonly unit: string;
  readonly label: string;
  readonly hint: string;
}

/** In the order the Settings dialog shows them. */
export const SETTINGS_LIMITS = {
  stopTimeoutSec: { min: 0, max: 3600, unit: 's', label: 'Cluster stop timeout (seconds)', hint: 'Graceful shutdown time before VMs are forced off.' },
  parallelism: { min: 1, max: 256, unit: 'at once', label: 'Parallel operations', hint: 'VMs or machines handled at once.' },
  sshConnectTimeoutMs: { min: 500, max: 600_000, unit: 'ms', label: 'SSH connect timeout (ms)', hint: 'Also bounds each machine’s stop.' },
  historyLimit: { min: 1, max: 1000, unit: 'generations', label: 'State history length', hint: 'Generations kept beside each state file.' },
  lockTimeoutMs: { min: 0, max: 600_000, unit: 'ms', label: 'State lock wait (ms)', hint: 'How long to wait for another writer.' },
  autoRefreshLocalMin: {
    min: 0,
    max: 1440,
    unit: 'min',
    label: 'Periodic refresh, this machine (minutes)',
    hint: 'Refresh clusters and probe federations on this machine; drift found is notified. 0 = off.',
  },
  autoRefreshRemoteMin: {
    min: 0,
    max: 1440,
    unit: 'min',
    label: 'Periodic refresh, remote hosts (minutes)',
    hint: 'The same for qemu+ssh clusters and federations with SSH machines (it connects to them). 0 = off, the default.',
  },
} as const satisfies { readonly [K in keyof AppSettings]: SettingLimit };

export const SETTING_KEYS = Object.keys(SETTINGS_LIMITS) as (keyof AppSettings)[];
