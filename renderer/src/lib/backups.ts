/** Choosing a backup to restore. */
import type { BackupEntry } from '../../../preload/contract';

function time(b: BackupEntry): number {
  const t = b.savedAt ? Date.parse(b.savedAt) : NaN;
  // Undated entries sort last rather than poisoning comparisons with NaN.
  return Number.isNaN(t) ? Number.MIN_SAFE_INTEGER : t;
}

/** Newest first: later `savedAt`, then higher serial. */
export function compareNewestFirst(a: BackupEntry, b: BackupEntry): number {
  return time(b) - time(a) || (b.serial ?? -1) - (a.serial ?? -1);
}

/** Backups newest first, for the table. */
export function sortBackups(backups: readonly BackupEntry[]): readonly BackupEntry[] {
  return [...backups].sort(compareNewestFirst);
}

/** The newest valid backup, or null when none is valid. */
export function newestValidBackup(backups: readonly BackupEntry[]): BackupEntry | null {
  return sortBackups(backups).find((b) => b.valid) ?? null;
}
