/**
 * What a restore will really write, announced before it happens (the restore dialog). Mirrors the state engine's
 * rule in main/state/store.ts (`restoreFrom` → `archiveCurrent` → `writeInternal`): the restored content is written
 * as a NEW generation whose serial continues past the current file and every history generation, under the
 * workspace's current lineage. main/state/restore-plan.test.ts checks this against the real store.
 */
import type { BackupEntry } from './contract';

/** The state engine's serial ceiling (main/state/parse.ts SERIAL_MAX); history names at or above it are not ours. */
export const SERIAL_CEILING = 2 ** 53 - 2;

const next = (n: number) => Math.min(Math.max(0, n) + 1, SERIAL_CEILING - 1);

/** The serial a history entry occupies: the number in its id (`history:000015`), else the serial it holds. */
export function historySlot(b: BackupEntry): number | null {
  if (b.source !== 'history') return null;
  const m = /^history:(\d+)$/.exec(b.id);
  return m ? Number(m[1]) : b.serial;
}

export interface CurrentFile {
  /** The current file's serial; null when it has none (missing, or unreadable). */
  readonly serial: number | null;
  /** The current file exists but cannot be read: it is archived first, into the next free slot. */
  readonly unreadable: boolean;
  readonly lineage: string | null;
}

/** The serial a restore (or any write) will give the new generation. */
export function serialAfterRestore(current: CurrentFile, backups: readonly BackupEntry[]): number {
  let newest = 0;
  for (const b of backups) {
    const slot = historySlot(b);
    if (slot !== null && slot < SERIAL_CEILING && slot > newest) newest = slot;
  }
  // An unreadable current file has no serial of its own: it is archived after every known generation.
  if (current.unreadable && current.serial === null) newest = next(newest);
  return next(Math.max(current.serial ?? 0, newest));
}

/** The lineage the restored generation will carry: the workspace's current one; the backup's only when there is none. */
export function lineageAfterRestore(current: CurrentFile, backup: BackupEntry): string | null {
  return current.lineage ?? backup.lineage;
}

/**
 * The serial an import will write: a new generation past the current file and every history generation, and never
 * below the bundle's own serial (the store's `minSerial` floor, main/sharing/service.ts `importState`).
 */
export function serialAfterImport(current: CurrentFile, backups: readonly BackupEntry[], bundleSerial: number): number {
  return Math.max(serialAfterRestore(current, backups), Math.min(Math.max(0, bundleSerial), SERIAL_CEILING - 1));
}
