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

/** Human names for operations, whether main reports them as channels (`cluster:start`) or bare verbs. */
const OPERATION_LABELS: Readonly<Record<string, string>> = {
  'cluster:start': 'Start cluster',
  'cluster:stop': 'Stop cluster',
  'cluster:destroy': 'Destroy cluster',
  'cluster:refresh': 'Refresh',
  'cluster:vm-action': 'VM action',
  'cluster:validate': 'Validate',
  'federation:start': 'Start federation',
  'federation:stop': 'Stop federation',
  'federation:clean': 'Clean federation',
  'federation:probe': 'Probe',
  'state:restore': 'Restore backup',
  'state:import': 'Import state',
  'state:unlock': 'Unlock',
};

export function operationLabel(name: string): string {
  const known = OPERATION_LABELS[name];
  if (known) return known;
  const bare = name.includes(':') ? name.slice(name.indexOf(':') + 1) : name;
  return bare.charAt(0).toUpperCase() + bare.slice(1).replace(/-/g, ' ');
}
