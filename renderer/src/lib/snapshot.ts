/** Helpers over snapshots. */
import type { ErrorData, WorkspaceEntry, WorkspaceSnapshot } from '../../../preload/contract';

/** A stand-in snapshot for a workspace whose snapshot could not even be fetched, so the UI shows the error in place. */
export function errorSnapshot(entry: WorkspaceEntry, error: ErrorData): WorkspaceSnapshot {
  return {
    id: entry.id,
    kind: entry.kind,
    name: entry.name,
    path: entry.path,
    statePath: entry.statePath,
    status: null,
    serial: null,
    lineage: null,
    lastModified: null,
    lock: null,
    error,
    operation: null,
  };
}

/** Operation labels are shared with main (tray, notifications). */
export { operationLabel } from '../../../preload/operation-labels';
