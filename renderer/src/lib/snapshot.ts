/** Helpers over snapshots and the results that carry them. */
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

function isSnapshot(v: unknown): v is WorkspaceSnapshot {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { id?: unknown }).id === 'string' &&
    typeof (v as { statePath?: unknown }).statePath === 'string' &&
    'status' in v
  );
}

/**
 * The fresh snapshot inside an invoke's value: `OperationReport` / `RefreshReport` carry one in `.snapshot`, restore,
 * unlock and import return one directly. Applying it at once keeps the UI right even if the change event is late.
 */
export function snapshotIn(value: unknown): WorkspaceSnapshot | null {
  if (isSnapshot(value)) return value;
  if (typeof value === 'object' && value !== null && 'snapshot' in value) {
    const s = (value as { snapshot: unknown }).snapshot;
    if (isSnapshot(s)) return s;
  }
  return null;
}

/** Operation labels are shared with main (tray, notifications). */
export { operationLabel } from '../../../preload/operation-labels';
