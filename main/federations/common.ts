/**
 * What the federation verbs share: the per-machine result words, the kit's file names, and the state-folder removal
 * (start after a run where nothing launched, clean at its end).
 */
import { isAppError } from '../errors';
import { type FederationState, type MachineRecord, type StateTx } from '../state';

/** Per-machine results, as the CLI and the UI show them. */
export const START_RESULTS = ['started', 'failed'] as const;
export const STOP_RESULTS = ['signalled', 'already stopped', 'unreachable', 'failed', 'refused'] as const;
export const CLEAN_RESULTS = ['removed', 'already gone', 'still running', 'unreachable', 'already clean'] as const;
export type StartResult = (typeof START_RESULTS)[number];
export type StopResult = (typeof STOP_RESULTS)[number];
export type CleanResult = (typeof CLEAN_RESULTS)[number];

/** The kit's log, relative to its folder (FLARE's start.sh and ours write `log.txt` there). */
export const KIT_LOG = 'log.txt';
/** The file whose presence makes a FLARE participant shut down. */
export const SHUTDOWN_FILE = 'shutdown.fl';

/** The host a record names, as messages show it. */
export function hostOf(rec: MachineRecord): string {
  return rec.kind === 'local' ? 'localhost' : rec.host;
}

/**
 * Removes the state folder (as ReFedEz's clean does). When the folder is the project folder itself (refedez.folder:
 * "."), the state engine refuses; the state is then written as clean instead.
 */
export async function removeStateFolder(tx: StateTx<'federation'>, before: FederationState | null): Promise<void> {
  try {
    await tx.remove({ folder: true });
  } catch (err) {
    if (!isAppError(err, 'path-refused')) throw err;
    if (before) await tx.write({ type: 'clean', data: {} });
  }
}
